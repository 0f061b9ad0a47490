package document

// pdfScan reads a page's content stream as it is inflated, without
// interpreting it, to tell what interpreting it will cost: the bytes in
// string operands, (literal) and <hex>, which bound the glyphs shown (a
// glyph takes one byte or two), by the font showing them; and the Tf
// operators selecting each font. Comments are skipped. It only needs to
// be an upper bound that a hostile stream cannot dodge more cheaply than
// the library's own lexer would follow it.
type pdfScan struct {
	depth   int    // nesting of ( ) in a literal string
	escape  bool   // after a backslash in a literal string
	hex     bool   // inside <hex>
	lt      bool   // the last byte was an unmatched <
	comment bool   // inside a % comment
	tok     []byte // the name or operator being read
	name    string // the last name operand
	font    string // the font the last Tf selected
	bytes   int    // string bytes since the last Tf
	digits  int    // hex digits since the last Tf, two a byte
	tf      map[string]int
	shown   map[string]int
}

// otherFonts counts, past maxScanFonts names, every other font.
const (
	otherFonts   = "\x00other"
	maxScanFonts = 256
)

func newPDFScan() *pdfScan {
	return &pdfScan{tf: map[string]int{}, shown: map[string]int{}}
}

// key is name, or otherFonts once m has too many names.
func key(m map[string]int, name string) string {
	if _, ok := m[name]; !ok && len(m) >= maxScanFonts {
		return otherFonts
	}
	return name
}

// selectFont charges the string bytes read so far to the current font and
// makes the last name operand the current font.
func (s *pdfScan) selectFont() {
	if n := s.bytes + s.digits/2; n > 0 {
		s.shown[key(s.shown, s.font)] += n
	}
	s.bytes, s.digits = 0, 0
	s.font = s.name
}

// finish ends the last token and charges the last string bytes.
func (s *pdfScan) finish() {
	s.endToken()
	s.selectFont()
}

// shownBytes is the string bytes of the page, once finish has charged the
// last of them.
func (s *pdfScan) shownBytes() int {
	n := 0
	for _, c := range s.shown {
		n += c
	}
	return n
}

// endToken acts on the name or operator just read.
func (s *pdfScan) endToken() {
	switch {
	case len(s.tok) > 0 && s.tok[0] == '/':
		s.name = string(s.tok[1:])
	case string(s.tok) == "Tf":
		s.selectFont()
		s.tf[key(s.tf, s.font)]++
	}
	s.tok = s.tok[:0]
}

func (s *pdfScan) Write(p []byte) (int, error) {
	for _, c := range p {
		switch {
		case s.depth > 0:
			switch {
			case s.escape:
				s.escape = false
			case c == '\\':
				s.escape = true
			case c == '(':
				s.depth++
			case c == ')':
				s.depth--
			}
			if s.depth > 0 {
				s.bytes++
			}
			continue
		case s.hex:
			if c == '>' {
				s.hex = false
			} else {
				s.digits++
			}
			continue
		case s.comment:
			s.comment = c != '\n' && c != '\r'
			continue
		case s.lt:
			s.lt = false
			if c == '<' { // << opens a dictionary
				continue
			}
			s.hex = c != '>'
			if s.hex {
				s.digits++
			}
			continue
		}
		switch c {
		case ' ', '\t', '\n', '\r', '\f', 0, ')', '>', '[', ']', '{', '}':
			s.endToken()
		case '(':
			s.endToken()
			s.depth = 1
		case '<':
			s.endToken()
			s.lt = true
		case '%':
			s.endToken()
			s.comment = true
		case '/':
			s.endToken()
			s.tok = append(s.tok, c)
		default:
			if len(s.tok) < 128 {
				s.tok = append(s.tok, c)
			}
		}
	}
	return len(p), nil
}
