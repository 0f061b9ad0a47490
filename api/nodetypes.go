package api

import (
	"net/http"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/graph"
)

// listNodeTypes serves the node catalogue: every type's group, branches and
// config JSON Schema, the same schemas the validator checks configs against,
// and whether this server runs it (not_runnable says why not).
func (s *server) listNodeTypes(w http.ResponseWriter, r *http.Request) {
	s.writeJSON(w, r, http.StatusOK, kalcifer.Page[graph.NodeType]{Data: graph.Types(s.on()...)})
}

// on names the node types this server turned on (graph.Kind.Off): those
// its engine runs. Without an engine, none.
func (s *server) on() []string {
	if s.engine == nil {
		return nil
	}
	return s.engine.On()
}
