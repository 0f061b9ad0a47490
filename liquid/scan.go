package liquid

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/osteele/liquid/parser"
)

// token is a tag or an output of a template's source, with where it starts.
type token struct {
	parser.Token
	Column int // 1-based, in characters
	offset int // byte offset of Source in the template
}

// scan splits source into its tags and outputs, as the library's parser
// does, with their columns (the library keeps only line numbers). Text and
// the insides of raw and comment blocks, which hold no Liquid, are left out.
func scan(source string) []token {
	var out []token
	offset, lineStart := 0, 0
	skipUntil := ""
	for _, t := range parser.Scan(source, parser.SourceLoc{LineNo: 1}, nil) {
		if t.Type == parser.TrimLeftTokenType || t.Type == parser.TrimRightTokenType {
			continue // markers without source
		}
		start := offset
		offset += len(t.Source)
		col := utf8.RuneCountInString(source[lineStart:start]) + 1
		if i := strings.LastIndexByte(t.Source, '\n'); i >= 0 {
			lineStart = start + i + 1
		}
		switch {
		case t.Type == parser.TextTokenType:
			continue
		case skipUntil != "":
			if t.Type == parser.TagTokenType && t.Name == skipUntil {
				skipUntil = ""
			}
			continue
		case t.Type == parser.TagTokenType && (t.Name == "raw" || t.Name == "comment"):
			skipUntil = "end" + t.Name
		}
		out = append(out, token{Token: t, Column: col, offset: start})
	}
	return out
}

// argsColumn returns the column at which the i-th byte of t's Args is.
func (t token) argsColumn(i int) int {
	at := strings.Index(t.Source, t.Args)
	if at < 0 {
		return t.Column
	}
	before := t.Source[:at+i]
	if nl := strings.LastIndexByte(before, '\n'); nl >= 0 {
		return utf8.RuneCountInString(before[nl+1:]) + 1
	}
	return t.Column + utf8.RuneCountInString(before)
}

// argsLine returns the line on which the i-th byte of t's Args is.
func (t token) argsLine(i int) int {
	at := strings.Index(t.Source, t.Args)
	if at < 0 {
		return t.SourceLoc.LineNo
	}
	return t.SourceLoc.LineNo + strings.Count(t.Source[:at+i], "\n")
}

// lexeme is one word of a Liquid expression.
type lexeme struct {
	kind byte // 'i' identifier, 's' string, 'n' number, or the punctuation itself
	text string
	off  int // byte offset in the expression
}

// lex splits a Liquid expression into identifiers, strings, numbers and
// punctuation. It is only as precise as finding filter names and the
// variable an output starts with needs: the library's parser has already
// accepted the expression.
func lex(expr string) []lexeme {
	var out []lexeme
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '\'' || c == '"':
			j := i + 1
			for j < len(expr) && expr[j] != c {
				if c == '"' && expr[j] == '\\' {
					j++ // double-quoted strings have escapes
				}
				j++
			}
			end := min(j+1, len(expr))
			out = append(out, lexeme{'s', unquote(expr[i:end]), i})
			i = end
		case isIdentStart(c):
			j := i + 1
			for j < len(expr) && (isIdentStart(expr[j]) || expr[j] >= '0' && expr[j] <= '9' || expr[j] == '-') {
				j++
			}
			if j < len(expr) && expr[j] == '?' {
				j++
			}
			out = append(out, lexeme{'i', expr[i:j], i})
			i = j
		case c >= '0' && c <= '9' || c == '-' && i+1 < len(expr) && expr[i+1] >= '0' && expr[i+1] <= '9':
			j := i + 1
			for j < len(expr) && (expr[j] >= '0' && expr[j] <= '9' || expr[j] == '.' && !strings.HasPrefix(expr[j:], "..")) {
				j++
			}
			out = append(out, lexeme{'n', expr[i:j], i})
			i = j
		default:
			out = append(out, lexeme{c, string(c), i})
			i++
		}
	}
	return out
}

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c >= 0x80
}

func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' {
		if u, err := strconv.Unquote(s); err == nil {
			return u
		}
	}
	if len(s) >= 2 {
		return s[1 : len(s)-1]
	}
	return s
}

// filterNames returns the filters an expression applies, with their offsets.
func filterNames(lexemes []lexeme) []lexeme {
	var out []lexeme
	for i, l := range lexemes {
		if l.kind == '|' && i+1 < len(lexemes) && lexemes[i+1].kind == 'i' {
			out = append(out, lexemes[i+1])
		}
	}
	return out
}

// literals are the words that look like variables and are not.
var literals = map[string]bool{"true": true, "false": true, "nil": true, "null": true, "empty": true, "blank": true}

// step is one part of a variable path: a key, or an index into an array.
type step struct {
	key   string
	index int
	isKey bool
}

// leadingPath returns the variable an output starts with, as far as it is
// spelled out (customer.first_name, event.data["order id"], items[0]): a
// dynamic index (items[i]) ends it there. It returns nil when the output
// does not start with a variable.
func leadingPath(lexemes []lexeme) (path []step, text string) {
	if len(lexemes) == 0 || lexemes[0].kind != 'i' || literals[lexemes[0].text] {
		return nil, ""
	}
	path = []step{{key: lexemes[0].text, isKey: true}}
	text = lexemes[0].text
	for i := 1; i < len(lexemes); {
		switch {
		case lexemes[i].kind == '.' && i+1 < len(lexemes) && lexemes[i+1].kind == 'i':
			path = append(path, step{key: lexemes[i+1].text, isKey: true})
			text += "." + lexemes[i+1].text
			i += 2
		case lexemes[i].kind == '[' && i+2 < len(lexemes) && lexemes[i+2].kind == ']' && lexemes[i+1].kind == 's':
			path = append(path, step{key: lexemes[i+1].text, isKey: true})
			text += "[" + strconv.Quote(lexemes[i+1].text) + "]"
			i += 3
		case lexemes[i].kind == '[' && i+2 < len(lexemes) && lexemes[i+2].kind == ']' && lexemes[i+1].kind == 'n':
			n, err := strconv.Atoi(lexemes[i+1].text)
			if err != nil {
				return path, text
			}
			path = append(path, step{index: n})
			text += "[" + lexemes[i+1].text + "]"
			i += 3
		default:
			return path, text
		}
	}
	return path, text
}
