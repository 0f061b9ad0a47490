package liquid

import (
	"regexp"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// HTMLToText turns an email's HTML into its plain-text part: the text as a
// reader sees it, paragraphs and line breaks kept, links followed by their
// address, list items marked, and nothing of head, style or script.
func HTMLToText(src string) string {
	var b strings.Builder
	z := html.NewTokenizer(strings.NewReader(src))
	skip := 0 // inside head, style, script, template: invisible
	var href []string
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return tidy(b.String())
		case html.TextToken:
			if skip == 0 {
				b.WriteString(collapse(string(z.Text())))
			}
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			name, hasAttr := z.TagName()
			a := atom.Lookup(name)
			switch a {
			case atom.Head, atom.Style, atom.Script, atom.Template, atom.Title:
				if tt == html.StartTagToken {
					skip++
				} else if tt == html.EndTagToken && skip > 0 {
					skip--
				}
				continue
			}
			if skip > 0 {
				continue
			}
			switch {
			case a == atom.Br:
				b.WriteString("\n")
			case a == atom.Li && tt != html.EndTagToken:
				b.WriteString("\n- ")
			case a == atom.A && tt == html.StartTagToken:
				link := ""
				for hasAttr {
					var k, v []byte
					k, v, hasAttr = z.TagAttr()
					if string(k) == "href" {
						link = string(v)
					}
				}
				href = append(href, link)
			case a == atom.A && tt == html.EndTagToken && len(href) > 0:
				link := href[len(href)-1]
				href = href[:len(href)-1]
				if link != "" && !strings.HasPrefix(link, "#") && !strings.HasPrefix(link, "mailto:") && !strings.Contains(b.String()[max(0, b.Len()-len(link)):], link) {
					b.WriteString(" (" + link + ")")
				}
			case a == atom.Hr:
				b.WriteString("\n\n----------\n\n")
			case a == atom.Td || a == atom.Th:
				if tt == html.EndTagToken {
					b.WriteString(" ")
				}
			case blocks[a]:
				b.WriteString("\n\n")
			}
		}
	}
}

// blocks are the elements that stand on lines of their own.
var blocks = map[atom.Atom]bool{
	atom.P: true, atom.Div: true, atom.H1: true, atom.H2: true, atom.H3: true, atom.H4: true, atom.H5: true, atom.H6: true,
	atom.Ul: true, atom.Ol: true, atom.Table: true, atom.Tr: true, atom.Blockquote: true, atom.Pre: true,
	atom.Section: true, atom.Article: true, atom.Header: true, atom.Footer: true, atom.Body: true, atom.Html: true,
}

var spaces = regexp.MustCompile(`[ \t\r\n\f]+`)

// collapse folds runs of whitespace into one space, as a browser shows them.
func collapse(s string) string { return spaces.ReplaceAllString(s, " ") }

var blankLines = regexp.MustCompile(`\n{3,}`)

// tidy trims each line and keeps at most one blank line between paragraphs.
func tidy(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	return strings.TrimSpace(blankLines.ReplaceAllString(strings.Join(lines, "\n"), "\n\n"))
}
