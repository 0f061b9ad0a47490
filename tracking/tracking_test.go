package tracking_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/kalcifer/kalcifer/secrets"
	"github.com/kalcifer/kalcifer/tracking"
)

const public = "https://k.example.com/"

func TestRewrite(t *testing.T) {
	t.Parallel()
	s := tracking.NewSigner(tracking.Key(secrets.Generate()))
	in := `<p>Hi <a href="https://shop.example.com/sale?x=1&amp;y=2">sale</a>, <a href=" http://example.org/ ">site</a>,
		<a href="mailto:help@example.com">mail</a>, <a href="#top">top</a>, <a href="/relative">rel</a>, <a>none</a></p>`
	out, err := s.Rewrite(in, public, "t1", "inst/mail/1")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	var hrefs, imgs []string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		for _, a := range n.Attr {
			if n.Data == "a" && a.Key == "href" {
				hrefs = append(hrefs, a.Val)
			}
			if n.Data == "img" && a.Key == "src" {
				imgs = append(imgs, a.Val)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if len(hrefs) != 5 || len(imgs) != 1 {
		t.Fatalf("hrefs %v imgs %v\n%s", hrefs, imgs, out)
	}
	targets := []string{"https://shop.example.com/sale?x=1&y=2", "http://example.org/"}
	for i, want := range targets {
		token, ok := strings.CutPrefix(hrefs[i], "https://k.example.com/t/c/")
		if !ok {
			t.Fatalf("link %d = %q, not a click link", i, hrefs[i])
		}
		l, err := s.Parse(tracking.Click, token)
		if err != nil || l != (tracking.Link{TenantID: "t1", Key: "inst/mail/1", URL: want}) {
			t.Fatalf("link %d: %+v, %v", i, l, err)
		}
	}
	if got := hrefs[2:]; got[0] != "mailto:help@example.com" || got[1] != "#top" || got[2] != "/relative" {
		t.Fatalf("untouched links = %v", got)
	}
	token, ok := strings.CutPrefix(imgs[0], "https://k.example.com/t/o/")
	if !ok {
		t.Fatalf("pixel = %q", imgs[0])
	}
	if l, err := s.Parse(tracking.Open, token); err != nil || l != (tracking.Link{TenantID: "t1", Key: "inst/mail/1"}) {
		t.Fatalf("pixel: %+v, %v", l, err)
	}
	if !strings.Contains(out, `width="1" height="1"`) {
		t.Fatalf("pixel is not 1×1: %s", out)
	}
	if _, err := s.Rewrite(in, "ftp://x", "t1", "k"); err == nil {
		t.Fatal("an ftp public URL was accepted")
	}
}

func TestForgedTokensRefused(t *testing.T) {
	t.Parallel()
	s := tracking.NewSigner(tracking.Key(secrets.Generate()))
	other := tracking.NewSigner(tracking.Key(secrets.Generate()))
	click := s.Token(tracking.Click, tracking.Link{TenantID: "t1", Key: "k", URL: "https://example.com/"})
	open := s.Token(tracking.Open, tracking.Link{TenantID: "t1", Key: "k"})
	payload, sig, _ := strings.Cut(click, ".")
	evil := base64.RawURLEncoding.EncodeToString([]byte(`{"t":"t1","k":"k","u":"https://evil.example/"}`))
	js := s.Token(tracking.Click, tracking.Link{TenantID: "t1", Key: "k", URL: "javascript:alert(1)"})
	cases := map[string]struct{ kind, token string }{
		"other key":          {tracking.Click, other.Token(tracking.Click, tracking.Link{TenantID: "t1", Key: "k", URL: "https://example.com/"})},
		"url swapped":        {tracking.Click, evil + "." + sig},
		"signature dropped":  {tracking.Click, payload},
		"signature changed":  {tracking.Click, payload + "." + strings.Repeat("A", len(sig))},
		"open as click":      {tracking.Click, open},
		"click as open":      {tracking.Open, click},
		"not a web url":      {tracking.Click, js},
		"garbage":            {tracking.Open, "%%%.%%%"},
		"empty":              {tracking.Open, ""},
		"payload not base64": {tracking.Open, "!!." + sig},
	}
	for name, c := range cases {
		if l, err := s.Parse(c.kind, c.token); err == nil {
			t.Errorf("%s: accepted as %+v", name, l)
		}
	}
	if _, err := s.Parse(tracking.Click, click); err != nil {
		t.Fatalf("the genuine click token: %v", err)
	}
}
