package graph_test

import (
	"testing"

	"github.com/kalcifer/kalcifer/channel/webhook"
	"github.com/kalcifer/kalcifer/graph"
)

// Validation refuses call_webhook timeouts above the provider's cap, which
// would otherwise be cut silently at send time: the two must agree.
func TestWebhookTimeoutMatchesProvider(t *testing.T) {
	if graph.MaxWebhookTimeout != webhook.MaxTimeout {
		t.Fatalf("graph.MaxWebhookTimeout = %v, webhook.MaxTimeout = %v", graph.MaxWebhookTimeout, webhook.MaxTimeout)
	}
}
