package offline

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/kalcifer/kalcifer/designer"
	"github.com/kalcifer/kalcifer/graph"
)

func TestDesignNewJourney(t *testing.T) {
	d := New()
	if d.Name() != "offline" {
		t.Errorf("Name() = %q", d.Name())
	}
	var events []designer.Event
	res, err := d.Design(context.Background(), designer.Request{
		Message: "When a user signs up, send a welcome email. Wait 3 days. If they haven't opened it, text them a reminder. Hello world.",
	}, func(e designer.Event) { events = append(events, e) })
	if err != nil {
		t.Fatal(err)
	}
	if problems := graph.Validate(res.Graph); problems != nil {
		t.Fatalf("invalid graph: %v", problems)
	}
	if res.Engine != "offline" || res.Explanation == "" || res.Diff != nil {
		t.Errorf("engine %q, explanation %q, diff %v", res.Engine, res.Explanation, res.Diff)
	}
	if len(res.Unrecognized) != 1 || res.Unrecognized[0] != "Hello world" {
		t.Errorf("unrecognized %q, want [Hello world]", res.Unrecognized)
	}
	if !strings.Contains(strings.Join(res.FollowUpQuestions, "\n"), `Which email template should the welcome email use? I used "welcome_email".`) {
		t.Errorf("follow-up questions %q lack the invented template", res.FollowUpQuestions)
	}
	if len(events) == 0 || events[0].Type != "status" {
		t.Errorf("events %v, want a status", events)
	}
}

func TestDesignErrors(t *testing.T) {
	d := New()
	_, err := d.Design(context.Background(), designer.Request{Message: "Please make it go viral."}, nil)
	if err == nil || !strings.Contains(err.Error(), `"Please make it go viral"`) {
		t.Errorf("err = %v, want one naming the sentence not understood", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := d.Design(ctx, designer.Request{Message: "send a welcome email"}, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: err = %v", err)
	}
	if _, err := d.Explain(context.Background(), nil); err == nil {
		t.Error("Explain(nil) gave no error")
	}
}

// TestDesignRefines checks a request with a current journey is a refinement:
// the answer is a valid graph with its diff, or an error.
func TestDesignRefines(t *testing.T) {
	d := New()
	first, err := d.Design(context.Background(), designer.Request{Message: "When a user signs up, send a welcome email, wait 3 days, then send a tips email."}, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := d.Design(context.Background(), designer.Request{Message: "make the wait 5 days instead of 3", Current: first.Graph}, nil)
	if err != nil {
		t.Fatalf("refine: %v", err)
	}
	if problems := graph.Validate(res.Graph); problems != nil {
		t.Fatalf("invalid refined graph: %v", problems)
	}
	if res.FollowUpQuestions == nil || res.Unrecognized == nil {
		t.Errorf("lists should be empty, not nil (null in JSON): %#v, %#v", res.FollowUpQuestions, res.Unrecognized)
	}
	if res.Engine != "offline" || res.Diff == nil || res.Diff.Empty() {
		t.Errorf("engine %q, diff %v: want offline and a non-empty diff", res.Engine, res.Diff)
	}
	explained, err := d.Explain(context.Background(), res.Graph)
	if err != nil || explained == "" {
		t.Errorf("Explain = %q, %v", explained, err)
	}
}
