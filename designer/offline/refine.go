package offline

import (
	"errors"

	"github.com/kalcifer/kalcifer/graph"
)

// refine applies a plain-English edit to a copy of current.
func refine(current *graph.Graph, message string) (*graph.Graph, string, []string, error) {
	return nil, "", []string{message}, errors.New("refining a journey is not available yet")
}
