package graph

import (
	"encoding/json"
	"slices"
	"testing"
)

func TestKindsAreWhole(t *testing.T) {
	for _, k := range Kinds() {
		if k.Type == "" || k.Group == "" || k.Description == "" || k.Config == nil {
			t.Errorf("%+v: a kind needs a type, a group, a description and a config", k)
		}
		if _, dynamic := k.Config.(Brancher); dynamic != (k.DynamicBranches != "" && k.Type != TypeGoalReached) {
			t.Errorf("%s: a config that names its branches (Brancher) and DynamicBranches go together", k.Type)
		}
		if (k.Group == GroupChannel) != (k.Holds == HoldsSend) {
			t.Errorf("%s: channel kinds, and only they, hold a send", k.Type)
		}
	}
	if got := TypesHolding(HoldsWait); !slices.Equal(got, []string{TypeWait, TypeWaitUntil, TypeWaitForEvent}) {
		t.Errorf("kinds holding a wait: %v", got)
	}
}

func TestDecodeConfig(t *testing.T) {
	n := Node{ID: "w", Type: TypeWaitForEvent, Config: json.RawMessage(`{"event_type": "opened", "timeout": "3d", "event_branch": "yes"}`)}
	c, err := DecodeConfig[WaitForEventConfig](n)
	if err != nil {
		t.Fatal(err)
	}
	if c.EventType != "opened" || c.Timeout != "3d" || c.EventBranchName() != "yes" || c.TimeoutBranchName() != BranchTimedOut {
		t.Errorf("decoded %+v", c)
	}
	if _, err := DecodeConfig[WaitConfig](n); err == nil {
		t.Error("a wait_for_event decoded as a wait config")
	}
	if c, err := DecodeConfig[JourneyExitConfig](Node{Type: TypeJourneyExit}); err != nil || c.Reason != "" {
		t.Errorf("an absent config: %+v, %v", c, err)
	}
	if req, _ := BranchesOf(n); !slices.Equal(req, []string{"yes", BranchTimedOut}) {
		t.Errorf("branches of %s: %v", n.Config, req)
	}
}

// Every channel kind names its channel, which picks its provider.
func TestChannelKindsNameTheirChannel(t *testing.T) {
	for _, k := range Kinds() {
		if (k.Group == GroupChannel) != (k.Channel != "") {
			t.Errorf("%s (group %s) has channel %q", k.Type, k.Group, k.Channel)
		}
	}
}
