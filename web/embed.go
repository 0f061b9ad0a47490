// Package web is Kalcifer's web app (the journey editor and monitor): its
// sources are the TypeScript under src/, built by Vite into dist/, which is
// committed and embedded here so that `go run ./cmd/kalcifer serve` serves
// the app on a fresh clone without Node. `npm run check` fails when dist/
// is stale. It imports only the standard library.
package web

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed all:dist
var dist embed.FS

// CSP is the app's Content-Security-Policy: its own scripts only (Vite
// emits no inline script), its own styles plus inline style elements
// (Radix's scroll lock and ReactFlow set some at run time; no script can
// be injected through them), images from itself and data: URLs, and API
// calls to its own origin. No framing, no plugins, no <base>.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
	"font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Dist is the built app (the contents of dist/).
func Dist() fs.FS {
	root, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // dist is embedded at build time; Sub only fails on a bad pattern
	}
	return root
}

// Handler serves the built app: files under dist/ as they are, hashed
// assets (dist/assets/) cached for a year, and index.html — uncached, so a
// new build is picked up at once — for every other path, since the app
// routes on the client. A missing file under assets/ is a 404, never
// index.html (a script tag must not get HTML). Only GET and HEAD are answered.
func Handler() http.Handler {
	root := Dist()
	return &app{root: root, files: http.FileServerFS(root)}
}

type app struct {
	root  fs.FS
	files http.Handler
}

func (a *app) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	h := w.Header()
	h.Set("Content-Security-Policy", CSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")

	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	if name != "" && name != "index.html" && isFile(a.root, name) {
		if strings.HasPrefix(name, "assets/") {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		a.files.ServeHTTP(w, r)
		return
	}
	if strings.HasPrefix(name, "assets/") {
		h.Set("Cache-Control", "no-cache")
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	a.serveIndex(w, r)
}

// serveIndex answers with the app's shell, whatever the path.
func (a *app) serveIndex(w http.ResponseWriter, r *http.Request) {
	body, err := fs.ReadFile(a.root, "index.html")
	if err != nil {
		http.Error(w, "the web app was not built into this binary (run npm run build in web/)", http.StatusNotFound)
		return
	}
	h := w.Header()
	h.Set("Cache-Control", "no-cache")
	h.Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body) // a client that went away cannot be told
	}
}

func isFile(root fs.FS, name string) bool {
	st, err := fs.Stat(root, name)
	return err == nil && !st.IsDir()
}
