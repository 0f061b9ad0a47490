package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"
)

// BodyLimits returns the body limit of each route of a handler made by
// NewHandler, as "METHOD /pattern" → bytes, for the tests that walk the
// routes.
func BodyLimits(h http.Handler) map[string]int64 {
	limits := map[string]int64{}
	_ = chi.Walk(h.(chi.Routes), func(method, route string, h http.Handler, _ ...func(http.Handler) http.Handler) error {
		if l, ok := endpoint(h).(*limitedHandler); ok {
			limits[method+" "+route] = l.limit
		}
		return nil
	})
	return limits
}

// CheckBodyLimits is checkBodyLimits, for a router built by a test.
func CheckBodyLimits(router chi.Routes) error { return (&server{}).checkBodyLimits(router) }
