package offline

import (
	"regexp"
	"strings"
)

// Courtesy lines carry no instruction: a greeting on a line of its own
// ("Hi team,", "Dear agency,", "Hello!") and a sign-off closing the text
// with the name under or after it ("Thanks,\nPriya", "Best, Jo", "Kind
// regards,\nDigital Services Team"). They are taken out before reading, and
// the design's explanation lists them, so nothing leaves without a word.

var (
	greetingLineRE = regexp.MustCompile(`(?i)^(?:hi|hey|hello|hiya|dear|good (?:morning|afternoon|evening)|morning|greetings)\b[^.?:\n]{0,30}?[,!.]*$`)
	signOffLineRE  = regexp.MustCompile(`(?i)^(?:thanks|thank you|thanks a lot|many thanks|thx|ty|cheers|best|best wishes|all the best|regards|kind regards|best regards|warm regards|warmly|sincerely|yours|talk soon|speak soon|much appreciated)(?:[ ,!.–—-]+(?:[A-Z][\w.'&-]*(?: [A-Z][\w.'&-]*){0,3}))?[ ,!.]*$`)
	// nameLineRE is who signed: "Priya", "Digital Services Team", "- Tom".
	nameLineRE = regexp.MustCompile(`^(?:[-–—~]\s*)?[A-Z][\w.'&-]*(?: [A-Za-z][\w.'&-]*){0,3}[.!]?$`)
)

// dropCourtesy returns text with its greeting and sign-off lines blanked
// (spaces, so that every other byte keeps its offset for the source spans),
// and the lines it took out (a sign-off joined with the name under it).
func dropCourtesy(text string) (string, []string) {
	lines := strings.Split(text, "\n")
	var dropped []string
	first := -1 // the first line with words
	for i, line := range lines {
		if strings.TrimSpace(line) != "" {
			first = i
			break
		}
	}
	if first >= 0 && greetingLineRE.MatchString(strings.TrimSpace(lines[first])) && hasMore(lines[first+1:]) {
		dropped = append(dropped, strings.TrimRight(strings.TrimSpace(lines[first]), ",!. "))
		lines[first] = blank(lines[first])
	}
	// the sign-off: a closing line, then at most two short name lines
	for i := len(lines) - 1; i > first && i >= len(lines)-6; i-- {
		s := strings.TrimSpace(lines[i])
		if !signOffLineRE.MatchString(s) {
			continue
		}
		tail := []string{strings.TrimRight(s, ",!. ")}
		names := 0
		ok := true
		for _, rest := range lines[i+1:] {
			if r := strings.TrimSpace(rest); r != "" {
				names++
				ok = ok && names <= 2 && nameLineRE.MatchString(r)
				tail = append(tail, r)
			}
		}
		if !ok || !hasMore(lines[:i]) {
			break
		}
		dropped = append(dropped, strings.Join(tail, " "))
		for j := i; j < len(lines); j++ {
			lines[j] = blank(lines[j])
		}
		break
	}
	return strings.Join(lines, "\n"), dropped
}

// hasMore reports whether any line has words.
func hasMore(lines []string) bool {
	for _, l := range lines {
		if strings.TrimSpace(l) != "" {
			return true
		}
	}
	return false
}

// courtesyNote is the explanation's line naming the courtesy lines left
// out, "" when there were none.
func courtesyNote(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return "\nLeft out as greeting or sign-off (no instruction in them): " + quoteList(lines) + "."
}

// blank is s as spaces.
func blank(s string) string { return strings.Repeat(" ", len(s)) }
