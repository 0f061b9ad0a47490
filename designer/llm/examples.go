package llm

// examples are the worked examples of the system prompt, drawn from the
// design-eval corpus (designer/testdata/mini): the first is user story
// US-1; the others show what briefs get wrong most often — an audience
// as the entry, identifiers used exactly, "instead" as one path or the
// other, a goal reached only behind its event, "unless", a date with an
// offset, an A/B split, caps, exits, sources and honest questions. A test
// checks that each answer is a valid journey whose sources quote its
// request.
var examples = []struct{ request, answer string }{
	{exampleRequest, exampleAnswer},
	{"Audience: VIP customers. Day 0: email the `early_access` invite; if they have no email address, send an SMS instead. No more than 2 emails a week. Goal: first order (order_completed), give them a week. Also sync them to Salesforce.",
		`{"graph": {
  "nodes": [
    {"id": "entry_1", "type": "segment_entry", "position": {"x": 0, "y": 200}, "config": {"segment_id": "vip_customers"}},
    {"id": "condition_1", "type": "condition", "position": {"x": 200, "y": 200}, "config": {"expression": "!has(customer.email)"}},
    {"id": "sms_1", "type": "send_sms", "position": {"x": 400, "y": 100}, "config": {"template_id": "early_access_sms"}},
    {"id": "email_1", "type": "send_email", "position": {"x": 400, "y": 300}, "config": {"template_id": "early_access"}},
    {"id": "wait_1", "type": "wait_for_event", "position": {"x": 600, "y": 200}, "config": {"event_type": "order_completed", "timeout": "7d"}},
    {"id": "goal_1", "type": "goal_reached", "position": {"x": 800, "y": 100}, "config": {"goal_name": "first_order", "exit_after_goal": true}},
    {"id": "exit_1", "type": "journey_exit", "position": {"x": 800, "y": 300}, "config": {}}
  ],
  "edges": [
    {"id": "e1", "source": "entry_1", "target": "condition_1"},
    {"id": "e2", "source": "condition_1", "target": "sms_1", "branch": "true"},
    {"id": "e3", "source": "condition_1", "target": "email_1", "branch": "false"},
    {"id": "e4", "source": "sms_1", "target": "wait_1"},
    {"id": "e5", "source": "email_1", "target": "wait_1"},
    {"id": "e6", "source": "wait_1", "target": "goal_1", "branch": "event_received"},
    {"id": "e7", "source": "wait_1", "target": "exit_1", "branch": "timed_out"}
  ],
  "frequency_cap": {"email": {"max": 2, "window": "7d"}}},
 "explanation": "Members of the vip_customers segment get the early_access email, or an SMS instead when they have no email address. Whoever places an order within a week reaches the goal first_order. At most 2 emails a week.",
 "follow_up_questions": ["Which SMS template should replace the early_access email? I used \"early_access_sms\"."],
 "unrecognized": ["Also sync them to Salesforce"],
 "sources": [
   {"node_id": "entry_1", "text": "Audience: VIP customers"},
   {"node_id": "condition_1", "text": "if they have no email address"},
   {"node_id": "sms_1", "text": "send an SMS instead"},
   {"node_id": "email_1", "text": "email the ` + "`early_access`" + ` invite"},
   {"node_id": "wait_1", "text": "first order (order_completed), give them a week"},
   {"node_id": "goal_1", "text": "Goal: first order"},
   {"part": "frequency_cap", "text": "No more than 2 emails a week"}
 ]}`},
	{"On cart_abandoned: 1 hour later send a reminder email unless they purchased in the meantime. 2 days before coupon_expires_at, push a last-call notification, A/B test 50/50. Exit on order_completed.",
		`{"graph": {
  "nodes": [
    {"id": "entry_1", "type": "event_entry", "position": {"x": 0, "y": 200}, "config": {"event_type": "cart_abandoned"}},
    {"id": "wait_1", "type": "wait_for_event", "position": {"x": 200, "y": 200}, "config": {"event_type": "order_completed", "timeout": "1h"}},
    {"id": "email_1", "type": "send_email", "position": {"x": 400, "y": 300}, "config": {"template_id": "reminder_email"}},
    {"id": "exit_1", "type": "journey_exit", "position": {"x": 400, "y": 100}, "config": {"reason": "purchased"}},
    {"id": "wait_2", "type": "wait_until", "position": {"x": 600, "y": 300}, "config": {"until": "customer.coupon_expires_at", "offset": "-2d"}},
    {"id": "split_1", "type": "ab_split", "position": {"x": 800, "y": 300}, "config": {"variants": [{"key": "a", "weight": 50}, {"key": "b", "weight": 50}]}},
    {"id": "push_1", "type": "send_push", "position": {"x": 1000, "y": 200}, "config": {"template_id": "last_call_push_a"}},
    {"id": "push_2", "type": "send_push", "position": {"x": 1000, "y": 400}, "config": {"template_id": "last_call_push_b"}}
  ],
  "edges": [
    {"id": "e1", "source": "entry_1", "target": "wait_1"},
    {"id": "e2", "source": "wait_1", "target": "email_1", "branch": "timed_out"},
    {"id": "e3", "source": "wait_1", "target": "exit_1", "branch": "event_received"},
    {"id": "e4", "source": "email_1", "target": "wait_2"},
    {"id": "e5", "source": "wait_2", "target": "split_1"},
    {"id": "e6", "source": "split_1", "target": "push_1", "branch": "a"},
    {"id": "e7", "source": "split_1", "target": "push_2", "branch": "b"}
  ],
  "exit_criteria": {"event_type": "order_completed"}},
 "explanation": "An hour after a cart is abandoned, customers who have not ordered get a reminder email; those who ordered leave. Two days before their coupon expires, half get push variant a and half variant b. An order ends the journey at any point.",
 "follow_up_questions": ["Which event says they purchased? I used order_completed, the exit event.", "Which push templates should variants a and b use? I used \"last_call_push_a\" and \"last_call_push_b\"."],
 "unrecognized": [],
 "sources": [
   {"node_id": "entry_1", "text": "On cart_abandoned"},
   {"node_id": "wait_1", "text": "1 hour later"},
   {"node_id": "email_1", "text": "send a reminder email"},
   {"node_id": "exit_1", "text": "unless they purchased in the meantime"},
   {"node_id": "wait_2", "text": "2 days before coupon_expires_at"},
   {"node_id": "split_1", "text": "A/B test 50/50"},
   {"node_id": "push_1", "text": "push a last-call notification"},
   {"node_id": "push_2", "text": "push a last-call notification"},
   {"part": "exit_criteria", "text": "Exit on order_completed"}
 ]}`},
}
