package offline

import (
	"fmt"

	"github.com/kalcifer/kalcifer/graph"
)

// explain describes g in plain language.
func explain(g *graph.Graph) string {
	if g.Empty() {
		return "This journey is empty."
	}
	return fmt.Sprintf("This journey has %d steps.", len(g.Nodes))
}
