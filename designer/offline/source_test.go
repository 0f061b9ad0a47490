package offline

import (
	"context"
	"strings"
	"testing"

	"github.com/kalcifer/kalcifer/designer"
)

// Every node of a designed journey says where it was read from, and every
// span is the text it claims to be.
func TestSources(t *testing.T) {
	text := "Webinar flow: when a user signs up, send a welcome email; wait 3 days, then if they haven't opened it send an SMS. Goal: first purchase. Stop if they unsubscribe."
	res, err := New().Design(context.Background(), designer.Request{Message: text}, nil)
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]string{}
	for _, s := range res.Sources {
		if text[s.Start:s.End] != s.Text {
			t.Errorf("%+v: the span holds %q", s, text[s.Start:s.End])
		}
		by[s.NodeID+s.Part] = s.Text
	}
	for _, n := range res.Graph.Nodes {
		if n.Type == "journey_exit" {
			continue
		}
		if by[n.ID] == "" {
			t.Errorf("%s (%s) has no source: %+v", n.ID, n.Type, res.Sources)
		}
	}
	for id, want := range map[string]string{"entry_1": "when a user signs up", "sms_1": "send an SMS", "goal_1": "first purchase",
		"exit_criteria": "unsubscribe"} {
		if !strings.Contains(by[id], want) {
			t.Errorf("%s: source %q, want it to hold %q", id, by[id], want)
		}
	}
}

func TestSourcesCorpus(t *testing.T) {
	for _, c := range loadCorpus(t) {
		res, err := New().Design(context.Background(), designer.Request{Message: c.Text}, nil)
		if err != nil {
			continue
		}
		for _, s := range res.Sources {
			if s.Start < 0 || s.End > len(c.Text) || c.Text[s.Start:s.End] != s.Text {
				t.Errorf("%s: %+v is not a span of the description", c.Name, s)
			}
		}
	}
}
