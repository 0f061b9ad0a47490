package offline

import (
	"github.com/kalcifer/kalcifer/designer"
	"github.com/kalcifer/kalcifer/graph"
)

// Suggest proposes improvements of g from its analytics.
func Suggest(g *graph.Graph, stats map[string]designer.NodeStats) []designer.Suggestion {
	return nil
}
