package api

import (
	"net/http"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/graph"
)

// listNodeTypes serves the node catalogue: every type's group, branches and
// config JSON Schema, the same schemas the validator checks configs against.
func (s *server) listNodeTypes(w http.ResponseWriter, r *http.Request) {
	s.writeJSON(w, r, http.StatusOK, kalcifer.Page[graph.NodeType]{Data: graph.Types()})
}
