package kalcifer

import (
	"time"

	"github.com/kalcifer/kalcifer/graph"
)

// VersionStatus tells whether a version is still being prepared or has
// been published (and is then immutable).
type VersionStatus string

// Version statuses.
const (
	VersionDraft     VersionStatus = "draft"
	VersionPublished VersionStatus = "published"
)

// Version is an immutable snapshot of a journey's graph, numbered 1, 2, 3…
// per journey. Every journey instance is pinned to one.
type Version struct {
	JourneyID   string        `json:"journey_id"`
	Version     int           `json:"version"`
	Status      VersionStatus `json:"status"`
	Graph       graph.Graph   `json:"graph"`
	Author      string        `json:"author"`
	Changelog   string        `json:"changelog"`
	CreatedAt   time.Time     `json:"created_at"`
	PublishedAt *time.Time    `json:"published_at,omitempty"`
}
