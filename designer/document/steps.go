package document

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// role is what a column of a steps table holds.
type role int

const (
	roleNone role = iota
	roleStep
	roleTiming
	roleChannel
	roleAudience
	roleCondition
	roleContent
	roleVariant
	roleShare
	roleOtherwise
	roleTrigger
	roleNote
)

// headerWords maps header words to roles, checked in this order so that
// "Message type" is a channel and "Send day" a timing. The content words
// come in order of preference: a subject line beats a template id.
var headerWords = []struct {
	role  role
	words []string
}{
	{roleOtherwise, []string{"otherwise", "else", "fallback", "if not"}},
	{roleNote, []string{"notes", "note", "comments", "comment", "remarks", "remark"}},
	{roleVariant, []string{"variant", "variants", "version", "arm", "test group", "test cell", "cell", "group", "treatment", "bucket"}},
	{roleShare, []string{"share", "weight", "allocation", "percent", "percentage", "traffic", "split"}},
	{roleChannel, []string{"channel", "channels", "medium", "type", "via"}},
	{roleTiming, []string{"day", "days", "timing", "when", "delay", "wait", "gap", "lag", "interval", "schedule", "offset", "send day", "cadence", "date", "wk", "week", "send at", "send on"}},
	{roleAudience, []string{"audience", "segment", "who", "target", "recipients", "recipient", "persona"}},
	{roleCondition, []string{"condition", "conditions", "trigger", "rule", "rules", "if", "criteria", "logic", "branch", "filter"}},
	{roleContent, []string{"subject", "message", "copy", "content", "headline", "title", "body", "template", "asset", "creative", "name", "description", "what", "ask", "text", "wording"}},
}

// stepHeaders are whole header cells that number the steps.
var stepHeaders = map[string]bool{"#": true, "no": true, "step": true, "step #": true, "step no": true, "seq": true, "order": true, "touch": true, "touchpoint": true, "id": true}

// triggerHeaders are whole header cells whose column says what starts the
// journey (on its first row): "trigger", "entry event".
var triggerHeaders = map[string]bool{"trigger": true, "trigger event": true, "entry": true, "entry event": true, "entry trigger": true, "starts on": true, "start event": true}

var nonWord = regexp.MustCompile(`[^a-z0-9#+]+`)

// classifyHeader returns a header cell's role and, for content, its rank
// (lower is preferred).
func classifyHeader(cell string) (role, int) {
	norm := strings.TrimSpace(nonWord.ReplaceAllString(strings.ToLower(cell), " "))
	if norm == "" {
		return roleNone, 0
	}
	if stepHeaders[norm] {
		return roleStep, 0
	}
	if triggerHeaders[norm] {
		return roleTrigger, 0
	}
	if strings.HasPrefix(norm, "only ") {
		return roleCondition, 0 // "Only when", "Only if"
	}
	words := " " + norm + " "
	for _, hw := range headerWords {
		for rank, w := range hw.words {
			if strings.Contains(words, " "+w+" ") {
				return hw.role, rank
			}
		}
	}
	return roleNone, 0
}

// columns maps a steps table's roles to column indexes.
type columns struct {
	timing, channel, audience, condition int
	otherwise                            int    // what is sent when the condition does not hold, -1 when none
	trigger                              int    // what starts the journey, said on a row, -1 when none
	note                                 int    // a Notes column: a condition ("skip if …") or a remark, -1 when none
	variant, share                       int    // an A/B split's arm and its share, -1 when none
	shares                               []int  // every column whose header names a share ("Split", "Share")
	content                              []int  // by preference
	delay                                bool   // the timing column is a delay from the previous step
	anchor                               string // the profile date the timing column counts from ("Timing (vs renewal_date)")
	header                               []string
}

// repeatsHeader reports whether a row is the header again, as in a table
// pasted in parts: two or more of its cells are the header's.
func (c columns) repeatsHeader(row []string) bool {
	n := 0
	for j, h := range c.header {
		if h != "" && strings.EqualFold(cell(row, j), strings.TrimSpace(h)) {
			n++
		}
	}
	return n >= 2
}

// findHeader looks for a steps table's header among the first rows: one
// naming a timing and a channel or content, a channel and a content, or
// three roles of which one is a channel or content. It returns the row
// index, or -1.
func findHeader(t table) (int, columns) {
	for i, row := range t {
		if i >= 30 {
			break
		}
		cols := columns{timing: -1, channel: -1, audience: -1, condition: -1, otherwise: -1, variant: -1, share: -1, trigger: -1, note: -1, header: row}
		ranks := map[int]int{}
		roles := map[role]bool{}
		for j, cell := range row {
			r, rank := classifyHeader(cell)
			roles[r] = true
			first := func(col *int) { // a role's first column is the one read
				if *col < 0 {
					*col = j
				}
			}
			switch r {
			case roleTiming:
				if cols.timing < 0 {
					cols.timing = j
					n := strings.ToLower(cell)
					cols.delay = strings.Contains(n, "delay") || strings.Contains(n, "wait") || strings.Contains(n, "gap")
					if ids := identifiers(cell, true); len(ids) > 0 {
						cols.anchor = ids[0]
					}
				}
			case roleChannel:
				first(&cols.channel)
			case roleAudience:
				first(&cols.audience)
			case roleCondition:
				first(&cols.condition)
			case roleVariant:
				first(&cols.variant)
			case roleShare:
				first(&cols.share)
				cols.shares = append(cols.shares, j)
			case roleOtherwise:
				first(&cols.otherwise)
			case roleTrigger:
				first(&cols.trigger)
			case roleNote:
				first(&cols.note)
			case roleContent:
				ranks[j] = rank
				cols.content = append(cols.content, j)
			}
		}
		delete(roles, roleNone)
		delete(roles, roleStep)
		delete(roles, roleVariant)
		delete(roles, roleShare)
		delete(roles, roleOtherwise)
		delete(roles, roleTrigger)
		delete(roles, roleNote)
		hasWhat := roles[roleChannel] || roles[roleContent]
		if hasWhat && (roles[roleTiming] || len(roles) >= 3 || (roles[roleChannel] && roles[roleContent])) {
			sortByRank(cols.content, ranks)
			return i, cols
		}
	}
	return -1, columns{}
}

func sortByRank(cols []int, ranks map[int]int) {
	for i := 1; i < len(cols); i++ {
		for j := i; j > 0 && ranks[cols[j]] < ranks[cols[j-1]]; j-- {
			cols[j], cols[j-1] = cols[j-1], cols[j]
		}
	}
}

// MaxSteps bounds the steps Read detects: past it a "plan" is a data
// export, and the rest is left out.
const MaxSteps = 500

// guessTimingColumn finds the column whose header names no role but whose
// cells are mostly timings or dates ("Day 0", "+48h", "2026-11-20"): plans
// often leave the first column's header blank. It returns -1 when none is.
func guessTimingColumn(header []string, rows table) int {
	width := 0
	for _, r := range rows {
		width = max(width, len(r))
	}
	for j := range width {
		if r, _ := classifyHeader(cell(header, j)); r != roleNone {
			continue
		}
		filled, timed := 0, 0
		for _, r := range rows {
			c := cell(r, j)
			if c == "" {
				continue
			}
			filled++
			if m, ok := findTiming(c); ok && m.start == 0 {
				timed++
			} else if _, ok := parseDate(c); ok {
				timed++
			}
		}
		if timed >= 2 && timed*5 >= filled*3 {
			return j
		}
	}
	return -1
}

// detectSteps finds the plan's steps: from the first table with a
// recognisable header, else from step-like prose lines.
func detectSteps(c *content) []Step {
	var steps []Step
	for _, t := range c.tables {
		if h, cols := findHeader(t); h >= 0 {
			if cols.timing < 0 {
				cols.timing = guessTimingColumn(t[h], t[h+1:])
			}
			cols.pickArms(t[h+1:])
			if cols.channel < 0 {
				cols.channel = guessChannelColumn(t[h], t[h+1:], cols)
				cols.content = slices.DeleteFunc(cols.content, func(j int) bool { return j == cols.channel })
			}
			if steps = tableSteps(t[h+1:], cols); len(steps) > 0 {
				break
			}
		}
	}
	if len(steps) == 0 {
		steps = proseSteps(c.lines)
	}
	if len(steps) > MaxSteps {
		steps = steps[:MaxSteps]
	}
	normaliseDays(steps)
	for i := range steps {
		steps[i].Index = i + 1
	}
	return steps
}

// cell returns row[i] trimmed, "" when out of range.
func cell(row []string, i int) string {
	if i < 0 || i >= len(row) {
		return ""
	}
	return strings.TrimSpace(row[i])
}

// blankValue reports cells that say "nothing": "-", "n/a", "none", "all".
func blankValue(s string) bool {
	switch strings.ToLower(strings.Trim(s, " .")) {
	case "", "-", "–", "—", "n/a", "na", "none", "all", "everyone", "any", "always", "tbd", "tbc":
		return true
	}
	return false
}

// tableSteps reads the rows under a steps table's header. A row without a
// timing continues the previous step's day (a merged cell, as it looks
// once exported); a cell naming two channels ("Email + SMS") makes a step
// for each; calendar dates count days from the first.
func tableSteps(rows table, cols columns) []Step {
	var steps []Step
	prevDay, prevTiming := unknownDay, ""
	var start time.Time // the first calendar date, when the plan has dates
	for _, row := range rows {
		if len(steps) >= MaxSteps {
			break
		}
		if nonEmpty(row) < 2 || cols.repeatsHeader(row) {
			continue // a blank row, a section heading, a header again
		}
		content := ""
		for _, j := range cols.content {
			if content = cell(row, j); content != "" {
				break
			}
		}
		chCell := cell(row, cols.channel)
		channels := parseChannels(chCell)
		if len(channels) == 0 {
			// No channel column, or an odd value: the content may say.
			if ms := findChannels(content); len(ms) > 0 {
				channels = []string{ms[0].channel}
			} else {
				channels = []string{""}
			}
		}
		if content == "" && (chCell == "" || channels[0] == "") {
			continue
		}
		if k, _ := keyKind(cell(row, 0)); k != kindNone && nonEmpty(row) <= 2 {
			continue // "Exit | customer fires sim_deactivated": a rule, read around the table
		}
		timing := cell(row, cols.timing)
		day := prevDay
		if timing == "" {
			timing = prevTiming
		} else if day = resolveDay(timing, prevDay, cols.delay); day == unknownDay {
			// A calendar date counts from the plan's first date.
			if date, ok := parseDate(timing); ok {
				if start.IsZero() {
					start = date
				}
				day = int(date.Sub(start).Hours() / 24)
			}
		}
		audience := cell(row, cols.audience)
		if blankValue(audience) {
			audience = ""
		}
		condition := strings.TrimSpace(ifPrefix.ReplaceAllString(cell(row, cols.condition), ""))
		if blankValue(condition) {
			condition = ""
		}
		note := cell(row, cols.note)
		if blankValue(note) {
			note = ""
		}
		if condition == "" && noteCondition.MatchString(note) {
			// "skip if they already made a deposit (first_deposit_made)"
			condition, note = note, ""
		}
		if c, rest, ok := strings.Cut(condition, ": "); ok && content == "" {
			// "membership_tier is premium: personal-trainer offer"
			condition, content = c, rest
		}
		variant, share := armOf(cell(row, cols.variant), cell(row, cols.share))
		if channels[0] == "" && !blankValue(chCell) && variant == "" && !controlWords.MatchString(chCell) {
			// "Post", "Letter", "Billboard": no channel node sends it.
			// Left out of the steps, the row is listed as not understood.
			continue
		}
		otherwise := cell(row, cols.otherwise)
		if blankValue(otherwise) {
			otherwise = ""
		}
		if loc := otherwiseSaid.FindStringIndex(condition); loc != nil && otherwise == "" {
			// "only if `country` is US; otherwise a push instead"
			condition, otherwise = strings.TrimSpace(condition[:loc[0]]), strings.TrimSpace(condition[loc[1]:])
		}
		trigger := cell(row, cols.trigger)
		if blankValue(trigger) {
			trigger = ""
		}
		for _, ch := range channels {
			steps = append(steps, Step{
				Day: day, Timing: timing, Channel: ch, Audience: audience,
				Condition: condition, Content: unquote(content), Source: joinCells(row),
				Variant: variant, Share: share, delay: cols.delay, otherwise: otherwise,
				anchor: cols.anchor, extra: channelRest(chCell), trigger: trigger, note: note,
			})
		}
		prevDay, prevTiming = day, timing
	}
	weeksFromZero(steps)
	return steps
}

var weekRE = regexp.MustCompile(`(?i)\bw(?:ee)?k\s*#?\s*(\d+)\b`)

// weeksFromZero moves the days of a plan that counts its weeks from "Week
// 0": its "Week 1" is day 7, not day 0.
func weeksFromZero(steps []Step) {
	zero := false
	for _, s := range steps {
		if m := weekRE.FindStringSubmatch(s.Timing); m != nil && m[1] == "0" {
			zero = true
		}
	}
	if !zero {
		return
	}
	for i, s := range steps {
		if m := weekRE.FindStringSubmatch(s.Timing); m != nil && m[1] != "0" && s.Day != unknownDay {
			n, _ := strconv.Atoi(m[1])
			steps[i].Day = 7 * n
		}
	}
}

// armOf reads an A/B arm from its Variant and Share cells: "All" and
// blanks are no arm; "Group 1 (50%)" holds its share; a Split column of
// names is the arm itself.
func armOf(variant, shareCell string) (string, int) {
	if shareCell != "" && !shareRE.MatchString(shareCell) && variant == "" {
		variant = shareCell
	}
	if blankValue(variant) || strings.EqualFold(variant, "both") {
		return "", 0
	}
	share := 0
	if m := shareRE.FindStringSubmatch(shareCell); m != nil {
		share, _ = strconv.Atoi(m[1])
	} else if m := innerShare.FindStringSubmatch(variant); m != nil {
		share, _ = strconv.Atoi(m[1])
		variant = strings.TrimSpace(innerShare.ReplaceAllString(variant, ""))
	}
	return variant, share
}

// innerShare is a share written in a variant's name: "Group 1 (50%)".
var innerShare = regexp.MustCompile(`\(?\s*(\d{1,3})\s*%\s*\)?`)

// pickArms tells a split's arms from their shares when two columns' headers
// both name a share ("Split | Share"): the one whose cells are percentages
// is the share, the other names the arms.
func (c *columns) pickArms(rows table) {
	if c.variant >= 0 || len(c.shares) < 2 {
		return
	}
	numeric := func(j int) bool {
		filled, n := 0, 0
		for _, r := range rows {
			if v := cell(r, j); v != "" {
				filled++
				if shareRE.MatchString(v) {
					n++
				}
			}
		}
		return filled > 0 && n*2 > filled
	}
	for _, j := range c.shares {
		if numeric(j) {
			c.share = j
			break
		}
	}
	for _, j := range c.shares {
		if j != c.share {
			c.variant = j
			break
		}
	}
}

// guessChannelColumn finds the column whose cells are mostly channel
// names when no header says so ("Send", "Touchpoint"). It returns -1 when
// none is.
func guessChannelColumn(header []string, rows table, cols columns) int {
	taken := map[int]bool{cols.timing: true, cols.condition: true, cols.audience: true, cols.variant: true, cols.share: true, cols.otherwise: true, cols.trigger: true, cols.note: true}
	for j := range header {
		if taken[j] {
			continue
		}
		filled, named := 0, 0
		for _, r := range rows {
			c := cell(r, j)
			if c == "" {
				continue
			}
			filled++
			if len(strings.Fields(c)) <= 3 && len(parseChannels(c)) > 0 {
				named++
			}
		}
		if named >= 2 && named*5 >= filled*3 {
			return j
		}
	}
	return -1
}

// channelJoins are the words and marks between channels in a cell.
var channelJoins = regexp.MustCompile(`(?i)[\s+/&,;()-]+|\b(?:and|or|plus|then|message|notification|only)\b`)

// channelRest returns what a channel cell says besides its channels:
// "SMS + letter by post" → "letter by post"; "" when nothing.
func channelRest(c string) string {
	rest := parenthetical.ReplaceAllString(c, " ")
	for _, p := range channelPatterns {
		rest = p.re.ReplaceAllString(rest, " ")
	}
	if len(findChannels(c)) == 0 || strings.TrimSpace(channelJoins.ReplaceAllString(rest, " ")) == "" {
		return ""
	}
	return strings.Trim(strings.TrimSpace(rest), "+/&,;-– ")
}

// nonEmpty counts a row's cells with text.
func nonEmpty(row []string) int {
	n := 0
	for _, c := range row {
		if strings.TrimSpace(c) != "" {
			n++
		}
	}
	return n
}

// shareRE is an arm's share of a split: "50%", "25", "0.5" is not one.
var shareRE = regexp.MustCompile(`^\s*(\d{1,3})\s*%?\s*$`)

// otherwiseSaid opens what a condition cell sends when the condition does
// not hold: "…; otherwise a push instead", "…, else SMS".
var otherwiseSaid = regexp.MustCompile(`(?i)\s*[;,.]\s*(?:otherwise|else|if not)\b[,:]?\s*`)

// noteCondition is a note that gates its step: "skip if …", "only if …",
// "unless …", "not if …".
var noteCondition = regexp.MustCompile(`(?i)^\s*(?:(?:skip|don't send|do not send|not|only|send only)\s+(?:it\s+)?(?:if|when|for)\b|unless\b|if\b)`)

var ifPrefix = regexp.MustCompile(`(?i)^\s*(?:only\s+)?if\s+`)

// unquote strips the quotes around a whole content cell.
func unquote(s string) string {
	s = strings.TrimSpace(s)
	for _, q := range [][2]string{{`"`, `"`}, {"“", "”"}, {"'", "'"}, {"‘", "’"}, {"«", "»"}} {
		if len(s) > len(q[0])+len(q[1]) && strings.HasPrefix(s, q[0]) && strings.HasSuffix(s, q[1]) {
			return strings.TrimSpace(s[len(q[0]) : len(s)-len(q[1])])
		}
	}
	return s
}
