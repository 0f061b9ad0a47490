package offline

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kalcifer/kalcifer/designer"
)

// Source spans: which bytes of the description each node was read from.
// Clauses are rewritten while they are read (quotes straightened, list
// markers and lead-ins dropped, shorthand spelt out), so a clause is found
// again in the original by its words, in order, from where the previous
// clause ended.

// span is a byte range of the description.
type span struct{ start, end int }

func (s span) valid() bool { return s.end > s.start }

// word is one run of letters and digits of the description.
type word struct {
	text       string // lowered
	start, end int
}

func words(s string) []word {
	var out []word
	start := -1
	for i, r := range s {
		alnum := unicode.IsLetter(r) || unicode.IsDigit(r)
		switch {
		case alnum && start < 0:
			start = i
		case !alnum && start >= 0:
			out = append(out, word{strings.ToLower(s[start:i]), start, i})
			start = -1
		}
	}
	if start >= 0 {
		out = append(out, word{strings.ToLower(s[start:]), start, len(s)})
	}
	return out
}

// locator finds clauses in the description in reading order.
type locator struct {
	words []word
	next  int // the first word not yet used by a clause
	// from is where the text after the previous clause begins: a clause
	// not understood is quoted from there, lead-ins and all.
	from, end int
}

func newLocator(text string) *locator { return &locator{words: words(text)} }

// find returns the span of clause in the description: from its first word
// found after the previous clause to its last word found after that. Words
// the reading spelt out (d3 as "day 3") are skipped over; a clause none of
// whose words are found has no span.
func (l *locator) find(clause string) span {
	want := words(clause)
	if len(want) == 0 {
		return span{}
	}
	first, last := -1, -1
	i := l.next
	for _, w := range want {
		window := 8
		if first < 0 { // lead-ins dropped from the clause stand between
			window = 64
		}
		for j := i; j < len(l.words) && j < i+window; j++ {
			if l.words[j].text == w.text {
				if first < 0 {
					first = j
				}
				last, i = j, j+1
				break
			}
		}
	}
	if first < 0 {
		return span{}
	}
	l.next = last + 1
	l.from, l.end = l.end, l.words[last].end
	return span{l.words[first].start, l.words[last].end}
}

// quote is the original text of the clause just found, from the end of
// the one before, for listing it as not understood; fallback when it was
// not found.
func (l *locator) quote(text string, s span, fallback string) string {
	if !s.valid() {
		return fallback
	}
	q := strings.TrimLeft(text[l.from:s.end], " \t\r\n,.;:!?-→>•*|")
	q = strings.Join(strings.Fields(q), " ")
	if q == "" {
		return fallback
	}
	return q
}

// sources lists where each node and setting came from, nodes in graph
// order.
func (p *parser) sources() []designer.Source {
	var out []designer.Source
	add := func(id, part string, s span) {
		if s.valid() && s.end <= len(p.text) && utf8.ValidString(p.text[s.start:s.end]) {
			out = append(out, designer.Source{NodeID: id, Part: part, Start: s.start, End: s.end, Text: p.text[s.start:s.end]})
		}
	}
	for _, n := range p.j.b.g.Nodes {
		add(n.ID, "", p.spans[n.ID])
	}
	if p.j.b.g.ExitCriteria != nil {
		add("", "exit_criteria", p.exitSpan)
	}
	if len(p.j.b.g.FrequencyCap) > 0 {
		add("", "frequency_cap", p.capSpan)
	}
	return out
}

// claim gives every node without a span yet the span s.
func (p *parser) claim(s span) {
	if !s.valid() {
		return
	}
	for _, n := range p.j.b.g.Nodes {
		if _, ok := p.spans[n.ID]; !ok && n.ID != p.j.entry {
			p.spans[n.ID] = s
		}
	}
}
