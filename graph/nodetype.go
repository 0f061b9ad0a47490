package graph

import (
	"encoding/json"
	"slices"
)

// NodeType describes one kind of node: its group, what it does, the branches
// out of it and the JSON Schema of its config.
type NodeType struct {
	Type        string `json:"type"`
	Group       string `json:"group"` // entry, channel, logic, data or exit
	Description string `json:"description"`
	// Branches are the fixed branches out of the node; "default" for plain
	// nodes, none for nodes that end the journey.
	Branches []string `json:"branches"`
	// OptionalBranches may have an edge but need none (channel "failed").
	OptionalBranches []string `json:"optional_branches,omitempty"`
	// DynamicBranches explains branches that come from the config.
	DynamicBranches string          `json:"dynamic_branches,omitempty"`
	ConfigSchema    json.RawMessage `json:"config_schema"`
	// NotRunnable, when set, says why the engine cannot run the type yet and
	// what to use instead. Drafts may hold such nodes; a journey with one is
	// neither activated nor published (see Unrunnable).
	NotRunnable string `json:"not_runnable,omitempty"`
}

// Groups of node types.
const (
	GroupEntry   = "entry"
	GroupChannel = "channel"
	GroupLogic   = "logic"
	GroupData    = "data"
	GroupExit    = "exit"
)

// useInstead names the entries that work, for the types that do not yet.
const useInstead = "use event_entry, webhook_entry or POST /journeys/{id}/trigger"

var (
	types  []NodeType
	byType map[string]NodeType
)

func init() {
	def := []string{DefaultBranch}
	add := func(typ, group, desc string, branches []string, schema string) {
		nt := NodeType{Type: typ, Group: group, Description: desc, Branches: branches, ConfigSchema: json.RawMessage(schema)}
		if group == GroupChannel {
			nt.OptionalBranches = []string{"failed"}
		}
		types = append(types, nt)
	}
	add("event_entry", GroupEntry, "Starts the journey for a customer when an event of a given type arrives.", def, schemaEventEntry)
	add("segment_entry", GroupEntry, "Starts the journey for customers who enter a segment.", def, schemaSegmentEntry)
	add("webhook_entry", GroupEntry, "Starts the journey when an external system POSTs to the journey's webhook.", def, schemaWebhookEntry)
	add("scheduled_entry", GroupEntry, "Starts the journey on a cron schedule for matching customers.", def, schemaScheduledEntry)
	add("send_email", GroupChannel, "Sends an email rendered from a template.", def, schemaSendEmail)
	add("send_sms", GroupChannel, "Sends a text message.", def, schemaSendSMS)
	add("send_push", GroupChannel, "Sends a mobile push notification.", def, schemaSendPush)
	add("send_whatsapp", GroupChannel, "Sends a WhatsApp template message.", def, schemaSendWhatsApp)
	add("call_webhook", GroupChannel, "Calls an HTTP endpoint with the customer, event and journey as JSON.", def, schemaCallWebhook)
	add("wait", GroupLogic, "Waits for a fixed duration.", def, schemaWait)
	add("wait_until", GroupLogic, "Waits until a fixed time or a time held in a customer attribute.", def, schemaWaitUntil)
	add("wait_for_event", GroupLogic, "Waits for a customer event or a timeout, whichever comes first.", nil, schemaWaitForEvent)
	add("condition", GroupLogic, "Routes the customer by a true/false CEL expression.", []string{"true", "false"}, schemaCondition)
	add("ab_split", GroupLogic, "Splits customers between 2 to 5 variants by weight; a customer always gets the same variant.", nil, schemaABSplit)
	add("frequency_cap", GroupLogic, "Routes by whether the customer got too many messages on a channel recently.", []string{"within_cap", "exceeded"}, schemaFrequencyCap)
	add("update_profile", GroupData, "Sets attributes on the customer's profile.", def, schemaUpdateProfile)
	add("add_tag", GroupData, "Adds a tag to the customer.", def, schemaTag)
	add("remove_tag", GroupData, "Removes a tag from the customer.", def, schemaTag)
	add("custom_code", GroupData, "Runs a sandboxed Lua snippet.", def, schemaCustomCode)
	add("goal_reached", GroupExit, "Marks a conversion goal; optionally ends the journey.", nil, schemaGoalReached)
	add("journey_exit", GroupExit, "Ends the journey for the customer.", nil, schemaJourneyExit)

	byType = make(map[string]NodeType, len(types))
	for i := range types {
		switch types[i].Type {
		case "wait_for_event":
			types[i].DynamicBranches = "event_branch and timeout_branch from the config (default event_received and timed_out)"
		case "ab_split":
			types[i].DynamicBranches = "one per variants[].key"
		case "goal_reached":
			types[i].OptionalBranches = []string{DefaultBranch}
			types[i].DynamicBranches = "default, followed only when exit_after_goal is false"
		case "segment_entry":
			types[i].NotRunnable = "segment_entry cannot enrol customers yet: segments are not implemented; " + useInstead
		case "scheduled_entry":
			types[i].NotRunnable = "scheduled_entry cannot enrol customers yet: scheduled entries are not implemented; " + useInstead
		case "custom_code":
			types[i].NotRunnable = "custom_code cannot run yet: the Lua sandbox is not implemented, so every customer reaching the node would fail; " +
				"use update_profile, add_tag or remove_tag"
		}
		if types[i].Branches == nil {
			types[i].Branches = []string{}
		}
		byType[types[i].Type] = types[i]
	}
}

// Types returns every node type, grouped as in the design's table.
func Types() []NodeType { return slices.Clone(types) }

// Lookup returns the node type named typ.
func Lookup(typ string) (NodeType, bool) {
	nt, ok := byType[typ]
	return nt, ok
}

// IsEntry reports whether typ starts a journey.
func IsEntry(typ string) bool { return byType[typ].Group == GroupEntry }

// IsExit reports whether typ is an exit node.
func IsExit(typ string) bool { return byType[typ].Group == GroupExit }

// IsChannel reports whether typ sends a message.
func IsChannel(typ string) bool { return byType[typ].Group == GroupChannel }

// BranchesOf returns the branches node n must have an edge on (required) and
// may have one on (optional), given its config.
func BranchesOf(n Node) (required, optional []string) {
	nt, ok := byType[n.Type]
	if !ok {
		return nil, nil
	}
	switch n.Type {
	case "wait_for_event":
		var c struct {
			EventBranch   string `json:"event_branch"`
			TimeoutBranch string `json:"timeout_branch"`
		}
		_ = json.Unmarshal(n.Config, &c) // an invalid config is reported by Validate
		if c.EventBranch == "" {
			c.EventBranch = "event_received"
		}
		if c.TimeoutBranch == "" {
			c.TimeoutBranch = "timed_out"
		}
		return []string{c.EventBranch, c.TimeoutBranch}, nil
	case "ab_split":
		var c struct {
			Variants []struct {
				Key string `json:"key"`
			} `json:"variants"`
		}
		_ = json.Unmarshal(n.Config, &c)
		for _, v := range c.Variants {
			if v.Key != "" && !slices.Contains(required, v.Key) {
				required = append(required, v.Key)
			}
		}
		return required, nil
	case "condition", "frequency_cap":
		return nt.Branches, nil
	}
	// Plain nodes: a path may end anywhere, so "default" needs no edge.
	return nil, append(slices.Clone(nt.Branches), nt.OptionalBranches...)
}
