package web_test

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kalcifer/kalcifer/web"
)

// get fetches path from a real server running Handler.
func get(t *testing.T, srv *httptest.Server, method, path string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(body)
}

// anAsset names one built, hashed file under dist/assets.
func anAsset(t *testing.T) string {
	t.Helper()
	entries, err := fs.ReadDir(web.Dist(), "assets")
	if err != nil || len(entries) == 0 {
		t.Fatalf("no built assets embedded (run npm run build in web/): %v", err)
	}
	return "/assets/" + entries[0].Name()
}

func TestHandler(t *testing.T) {
	srv := httptest.NewServer(web.Handler())
	t.Cleanup(srv.Close)

	t.Run("app paths get the shell, uncached, with the CSP", func(t *testing.T) {
		for _, path := range []string{"/", "/journeys", "/journeys/jrn_1", "/customers/alice@example.com", "/index.html"} {
			res, body := get(t, srv, http.MethodGet, path)
			if res.StatusCode != http.StatusOK || !strings.Contains(body, `<div id="root">`) {
				t.Fatalf("GET %s: %d, body %.80q; want the app's index.html", path, res.StatusCode, body)
			}
			if got := res.Header.Get("Cache-Control"); got != "no-cache" {
				t.Errorf("GET %s: Cache-Control %q, want no-cache", path, got)
			}
			if got := res.Header.Get("Content-Security-Policy"); got != web.CSP {
				t.Errorf("GET %s: CSP %q, want the app's", path, got)
			}
			if got := res.Header.Get("Content-Type"); !strings.HasPrefix(got, "text/html") {
				t.Errorf("GET %s: Content-Type %q", path, got)
			}
		}
	})

	t.Run("the shell loads no inline script", func(t *testing.T) {
		_, body := get(t, srv, http.MethodGet, "/")
		for _, tag := range strings.Split(body, "<script")[1:] {
			if !strings.Contains(strings.SplitN(tag, ">", 2)[0], "src=") {
				t.Fatalf("index.html has an inline script, which the CSP refuses: <script%.60s", tag)
			}
		}
	})

	t.Run("hashed assets are cached for good", func(t *testing.T) {
		asset := anAsset(t)
		res, body := get(t, srv, http.MethodGet, asset)
		if res.StatusCode != http.StatusOK || body == "" {
			t.Fatalf("GET %s: %d", asset, res.StatusCode)
		}
		if got := res.Header.Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
			t.Errorf("GET %s: Cache-Control %q", asset, got)
		}
	})

	t.Run("a missing asset is a 404, not the shell", func(t *testing.T) {
		res, body := get(t, srv, http.MethodGet, "/assets/index-missing.js")
		if res.StatusCode != http.StatusNotFound || strings.Contains(body, "<div") {
			t.Fatalf("GET a missing asset: %d %.80q, want 404", res.StatusCode, body)
		}
	})

	t.Run("HEAD answers without a body; other methods are refused", func(t *testing.T) {
		res, body := get(t, srv, http.MethodHead, "/journeys")
		if res.StatusCode != http.StatusOK || body != "" {
			t.Fatalf("HEAD: %d %q", res.StatusCode, body)
		}
		res, _ = get(t, srv, http.MethodPost, "/journeys")
		if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") != "GET, HEAD" {
			t.Fatalf("POST: %d Allow %q, want 405 GET, HEAD", res.StatusCode, res.Header.Get("Allow"))
		}
	})
}
