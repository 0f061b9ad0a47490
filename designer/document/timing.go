package document

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// unknownDay marks a step without a timing while steps are detected: their
// offsets may still be negative ("2 days before the event"), so -1 cannot
// mean unknown until normaliseDays has run.
const unknownDay = math.MinInt32

// timingMatch is a timing phrase found in a text.
type timingMatch struct {
	day        int  // days from the start (or from the previous step when relative); negative before an event
	start, end int  // byte offsets of the phrase
	relative   bool // counted from the previous step, not the start
}

// number matches a count written in digits or as a word.
const number = `(\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fourteen|twenty|thirty)`

var numberWords = map[string]int{
	"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
	"eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fourteen": 14,
	"twenty": 20, "thirty": 30, "a": 1, "an": 1,
}

// timingPatterns are tried on a text; the earliest match wins. days turns
// the submatch (the number, "" when none) into days.
var timingPatterns = []struct {
	re   *regexp.Regexp
	days func(n int) int
}{
	{regexp.MustCompile(`(?i)\bday\s*[+#]?\s*(\d+)\b`), func(n int) int { return n }},
	{regexp.MustCompile(`(?i)\b[dt]\s*\+\s*(\d+)\s*(?:d|days?)?\b|\bd(\d+)\b`), func(n int) int { return n }},
	{regexp.MustCompile(`(?i)\bt\s*\+\s*(\d+)\s*(?:h|hrs?|hours?)\b`), func(n int) int { return n / 24 }},
	{regexp.MustCompile(`(?i)\bweek\s*#?\s*(\d+)\b`), func(n int) int { return max(n-1, 0) * 7 }},
	{regexp.MustCompile(`(?i)(?:^|[\s(])\+?\s*(\d+)\s*(?:h|hrs?|hours?)\b`), func(n int) int { return n / 24 }},
	{regexp.MustCompile(`(?i)(?:^|[\s(])\+?\s*(\d+)\s*(?:mins?|minutes?)\b`), func(int) int { return 0 }},
	{regexp.MustCompile(`(?i)(?:^|[\s(])\+?\s*(\d+)\s*(?:d|days?)\b`), func(n int) int { return n }},
	{regexp.MustCompile(`(?i)(?:^|[\s(])\+?\s*(\d+)\s*(?:w|wks?|weeks?)\b`), func(n int) int { return 7 * n }},
	{regexp.MustCompile(`(?i)(?:^|[\s(])\+?\s*(\d+)\s*(?:months?)\b`), func(n int) int { return 30 * n }},
	{regexp.MustCompile(`(?i)\b` + number + `\s+(?:days?)\b`), func(n int) int { return n }},
	{regexp.MustCompile(`(?i)\b(an?|` + number[1:len(number)-1] + `)\s+(?:weeks?)\b`), func(n int) int { return 7 * n }},
	{regexp.MustCompile(`(?i)\b(an?|` + number[1:len(number)-1] + `)\s+(?:hours?)\b`), func(n int) int { return n / 24 }},
	{regexp.MustCompile(`(?i)\b(a)\s+day\s+(?:later|after)\b`), func(int) int { return 1 }},
	{regexp.MustCompile(`(?i)\b(?:next|following)\s+day\b|\btomorrow\b`), func(int) int { return 1 }},
	{regexp.MustCompile(`(?i)\b(?:immediately|instantly|right away|straight away|same day|at once)\b|\b(?:right|straight|directly|just)\s+after\b|\b(?:on\s+)?(?:the\s+)?day\s+of\b|\b(?:at|on|upon|after)\s+(?:sign[- ]?up|signup|registration|entry|enrol?ment|join(?:ing)?)\b|^\s*(?:now|start|entry|signup|sign[- ]?up|trigger)\s*$`), func(int) int { return 0 }},
	{regexp.MustCompile(`^\s*\+?(\d+)\s*$`), func(n int) int { return n }},
}

// relativeWords mark a timing counted from the previous step.
var relativeWords = regexp.MustCompile(`(?i)\b(?:later|after (?:the )?(?:previous|prior|last|preceding)|after step|after that|afterwards|after (?:the|that|this) (?:[\w-]+ ){0,3}(?:e-?mail|message|send|step|sms|text|push|notification|whatsapp|reminder|call))\b`)

// beforeWords, right after a timing, count it back from an event: "7 days
// before the webinar".
var beforeWords = regexp.MustCompile(`(?i)^\s*(?:before|prior to|ahead of)\b`)

// anchorWords mark a timing counted from the journey's start.
var anchorWords = regexp.MustCompile(`(?i)\b(?:sign[- ]?up|signup|registration|registering|entry|enrol|start|joining|joins|subscribed|trigger)`)

// findTiming returns the earliest timing phrase in s.
func findTiming(s string) (timingMatch, bool) {
	best := timingMatch{start: -1}
	for _, p := range timingPatterns {
		loc := p.re.FindStringSubmatchIndex(s)
		if loc == nil || (best.start >= 0 && loc[0] >= best.start) {
			continue
		}
		n := 0
		for g := 2; g+1 < len(loc); g += 2 {
			if loc[g] >= 0 {
				n = parseCount(s[loc[g]:loc[g+1]])
				break
			}
		}
		best = timingMatch{day: p.days(n), start: loc[0], end: loc[1]}
	}
	if best.start < 0 {
		return best, false
	}
	// A leading space or "(" swallowed by a pattern is not part of the phrase.
	for best.start < best.end && strings.ContainsRune(" \t(", rune(s[best.start])) {
		best.start++
	}
	best.relative = relativeWords.MatchString(s) && !anchorWords.MatchString(s)
	if beforeWords.MatchString(s[best.end:]) {
		best.day = -best.day
	}
	return best, true
}

// parseCount reads a count written as digits or a word.
func parseCount(s string) int {
	if n, err := strconv.Atoi(s); err == nil {
		return n
	}
	return numberWords[strings.ToLower(s)]
}

// resolveDay turns a timing text into days from the start, given the
// previous step's day (unknownDay when none). delayColumn says the text came
// from a "Delay"/"Wait" column, which counts from the previous step unless
// it names the start. It returns unknownDay when the text holds no timing.
func resolveDay(text string, prev int, delayColumn bool) int {
	m, ok := findTiming(text)
	if !ok {
		return unknownDay
	}
	relative := m.relative || (delayColumn && !anchorWords.MatchString(text))
	if relative && prev != unknownDay {
		return prev + m.day
	}
	return m.day
}

// normaliseDays makes the steps' days count from the first: a plan timed
// before an event ("7 days before", "1 day before", "1 day after") starts
// at its earliest step. Steps without a timing get -1.
func normaliseDays(steps []Step) {
	first := 0
	for _, s := range steps {
		if s.Day != unknownDay {
			first = min(first, s.Day)
		}
	}
	for i := range steps {
		if steps[i].Day == unknownDay {
			steps[i].Day = -1
		} else {
			steps[i].Day -= first
		}
	}
}

// dateLayouts are the calendar dates a timing column may hold: ISO, the
// forms excelize renders Excel's default date formats in, and written-out
// dates. Slashed dates read month first, as Excel's default does.
var dateLayouts = []string{
	"2006-01-02", "2006/01/02", "01-02-06", "1/2/06 15:04", "1/2/2006", "1/2/06",
	"2-Jan-06", "2 Jan 2006", "2 January 2006", "Jan 2, 2006", "January 2, 2006",
	"Mon 2 Jan 2006", "Monday, January 2, 2006", "Monday 2 January 2006",
}

// parseDate reads a calendar date.
func parseDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
