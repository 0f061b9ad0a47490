package api

import (
	_ "embed"
	"net/http"
)

// openAPIDocument is the OpenAPI 3.1 description of every route, written by
// hand. TestOpenAPIMatchesRouter keeps it in step with the router.
//
//go:embed openapi.json
var openAPIDocument []byte

// OpenAPI returns the OpenAPI 3.1 document of the API, for tools that want
// it without a running server.
func OpenAPI() []byte { return append([]byte(nil), openAPIDocument...) }

func (s *server) openAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write(openAPIDocument); err != nil {
		s.logger.DebugContext(r.Context(), "write openapi document", "error", err)
	}
}
