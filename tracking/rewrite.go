package tracking

import (
	"fmt"
	"net/url"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Rewrite adds open and click tracking to an email's HTML for the tenant's
// send key: every <a href> to an absolute http(s) URL goes through
// {publicURL}/t/c/{token} instead, and a 1×1 transparent pixel
// {publicURL}/t/o/{token} is appended to the body. Other links (mailto:,
// tel:, anchors, relative ones) are left alone. publicURL is the address
// customers reach Kalcifer's public routes at, e.g. https://kalcifer.example.com.
//
// The HTML is parsed and rendered again (golang.org/x/net/html), so a
// fragment comes back as a whole document, and entities may be spelled
// differently; what a mail client shows is unchanged.
func (s *Signer) Rewrite(doc, publicURL, tenantID, key string) (string, error) {
	base, err := publicBase(publicURL)
	if err != nil {
		return "", err
	}
	root, err := html.Parse(strings.NewReader(doc))
	if err != nil {
		return "", fmt.Errorf("tracking: parse the email's HTML: %w", err)
	}
	var body *html.Node
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.DataAtom {
			case atom.Body:
				body = n
			case atom.A:
				for i, a := range n.Attr {
					if a.Namespace == "" && a.Key == "href" && trackable(strings.TrimSpace(a.Val)) {
						l := Link{TenantID: tenantID, Key: key, URL: strings.TrimSpace(a.Val)}
						n.Attr[i].Val = base + ClickPath + s.Token(Click, l)
					}
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(root)
	if body == nil { // html.Parse always makes one; be safe
		return "", fmt.Errorf("tracking: the email's HTML has no body")
	}
	body.AppendChild(&html.Node{Type: html.ElementNode, Data: "img", DataAtom: atom.Img, Attr: []html.Attribute{
		{Key: "src", Val: base + OpenPath + s.Token(Open, Link{TenantID: tenantID, Key: key})},
		{Key: "width", Val: "1"}, {Key: "height", Val: "1"}, {Key: "alt", Val: ""},
		{Key: "style", Val: "display:block;width:1px;height:1px;border:0"},
	}})
	var out strings.Builder
	if err := html.Render(&out, root); err != nil {
		return "", fmt.Errorf("tracking: render the email's HTML: %w", err)
	}
	return out.String(), nil
}

// publicBase checks Kalcifer's public URL and returns it without a
// trailing slash.
func publicBase(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("tracking: the public URL %q must be an http or https URL like https://kalcifer.example.com", s)
	}
	return strings.TrimRight(s, "/"), nil
}
