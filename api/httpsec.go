package api

import (
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"
)

// securityHeaders marks every response as what it is, for browsers: JSON
// (or server-sent events) that is never sniffed as something else, loads
// nothing, is framed nowhere and leaks no Referer.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		h.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}

// noStore keeps authenticated answers, and their refusals, out of every
// cache.
func noStore(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// corsMethods and corsHeaders are what a preflight allows: every method
// the API serves, and the headers its clients send.
const (
	corsMethods = "GET, POST, PUT, PATCH, DELETE"
	corsHeaders = "Authorization, Content-Type"
)

// cors lets the configured browser origins call the API. It runs before
// routing, so it answers preflight requests (OPTIONS with
// Access-Control-Request-Method) for every path without routes of their
// own; requests from other origins, and every request when no origin is
// configured, pass through untouched, as if CORS did not exist.
func (s *server) cors(next http.Handler) http.Handler {
	if len(s.corsOrigins) == 0 {
		return next
	}
	anyOrigin := slices.Contains(s.corsOrigins, "*")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if !anyOrigin {
			h.Add("Vary", "Origin") // the answer depends on it, so caches must key on it
		}
		origin := r.Header.Get("Origin")
		if origin == "" || !anyOrigin && !slices.Contains(s.corsOrigins, strings.ToLower(origin)) {
			next.ServeHTTP(w, r)
			return
		}
		if anyOrigin {
			h.Set("Access-Control-Allow-Origin", "*")
		} else {
			h.Set("Access-Control-Allow-Origin", origin)
		}
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", corsMethods)
			h.Set("Access-Control-Allow-Headers", corsHeaders)
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h.Set("Access-Control-Expose-Headers", "X-Request-ID, Location")
		next.ServeHTTP(w, r)
	})
}

// designerDeadline gives a route that waits for the AI designer the
// designer's time to answer instead of the server's WriteTimeout, which
// would cut a long turn off mid-stream (text/event-stream) or before its
// JSON answer. Reading the request stays bounded by the ReadTimeout:
// net/http clears the read deadline itself once the body is read.
func (s *server) designerDeadline(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.designerTimeout > 0 {
			err := http.NewResponseController(w).SetWriteDeadline(time.Now().Add(s.designerTimeout))
			if err != nil && !errors.Is(err, http.ErrNotSupported) { // recorders in tests have no deadline
				s.logger.WarnContext(r.Context(), "extend write deadline", slog.Any("err", err))
			}
		}
		next.ServeHTTP(w, r)
	})
}
