package graph

// The config JSON Schemas (draft 2020-12) of every node type. They are the
// one definition the validator, the editor and the AI designer share; every
// property carries a description because the editor shows it as help text.

const durationProp = `{"type": "string", "pattern": "^[0-9]{1,9}(s|m|h|d)$", "description": "A whole number and a unit: s, m, h or d (30s, 15m, 12h, 3d); at most 3650d (10 years)."}`

const schemaEventEntry = `{
  "type": "object", "additionalProperties": false, "required": ["event_type"],
  "properties": {
    "event_type": {"type": "string", "minLength": 1, "maxLength": 200, "description": "The event type that starts the journey, e.g. signed_up."},
    "filter": {"type": "object", "description": "Only events whose data has these keys with equal values start the journey."}
  }
}`

const schemaSegmentEntry = `{
  "type": "object", "additionalProperties": false, "required": ["segment_id"],
  "properties": {
    "segment_id": {"type": "string", "minLength": 1, "maxLength": 200, "description": "The segment whose new members enter the journey."},
    "schedule": {"type": "string", "description": "How often to re-evaluate the segment, as a 5-field cron expression; default: on every profile change."}
  }
}`

const schemaWebhookEntry = `{
  "type": "object", "additionalProperties": false,
  "properties": {
    "description": {"type": "string", "maxLength": 1000, "description": "What system calls this webhook, for the journey's readers."}
  }
}`

const schemaScheduledEntry = `{
  "type": "object", "additionalProperties": false, "required": ["cron"],
  "properties": {
    "cron": {"type": "string", "minLength": 1, "description": "When to run, as a 5-field cron expression, e.g. 0 9 * * 1 for Mondays at 09:00."},
    "timezone": {"type": "string", "description": "IANA time zone of the schedule, e.g. Europe/Paris; default UTC."},
    "segment_id": {"type": "string", "description": "Only members of this segment enter; default: every customer."}
  }
}`

const schemaSendEmail = `{
  "type": "object", "additionalProperties": false, "required": ["template_id"],
  "properties": {
    "template_id": {"type": "string", "minLength": 1, "maxLength": 200, "description": "The email template to render."},
    "provider": {"type": "string", "description": "The email provider to send through; default: the tenant's default."},
    "from": {"type": "string", "description": "Sender address; default: the template's or provider's."},
    "subject": {"type": "string", "maxLength": 998, "description": "Subject line (Liquid); default: the template's."},
    "reply_to": {"type": "string", "description": "Reply-To address."}
  }
}`

const schemaSendSMS = `{
  "type": "object", "additionalProperties": false,
  "anyOf": [{"required": ["template_id"]}, {"required": ["body"]}],
  "properties": {
    "template_id": {"type": "string", "minLength": 1, "description": "The SMS template to render."},
    "body": {"type": "string", "minLength": 1, "maxLength": 1600, "description": "The message text (Liquid), when no template is used."},
    "provider": {"type": "string", "description": "The SMS provider; default: the tenant's default."},
    "from": {"type": "string", "description": "Sender number or name."}
  }
}`

const schemaSendPush = `{
  "type": "object", "additionalProperties": false,
  "anyOf": [{"required": ["template_id"]}, {"required": ["title", "body"]}],
  "properties": {
    "template_id": {"type": "string", "minLength": 1, "description": "The push template to render."},
    "title": {"type": "string", "maxLength": 200, "description": "Notification title (Liquid)."},
    "body": {"type": "string", "maxLength": 2000, "description": "Notification text (Liquid)."},
    "provider": {"type": "string", "description": "The push provider (fcm, apns); default: the tenant's default."},
    "data": {"type": "object", "description": "Extra key/value data delivered to the app."}
  }
}`

const schemaSendWhatsApp = `{
  "type": "object", "additionalProperties": false, "required": ["template_id"],
  "properties": {
    "template_id": {"type": "string", "minLength": 1, "description": "The approved WhatsApp template."},
    "language": {"type": "string", "description": "Template language code, e.g. en_US."},
    "provider": {"type": "string", "description": "The WhatsApp provider; default: the tenant's default."}
  }
}`

const schemaCallWebhook = `{
  "type": "object", "additionalProperties": false, "required": ["url"],
  "properties": {
    "url": {"type": "string", "minLength": 1, "maxLength": 2048, "description": "The absolute http or https URL to call."},
    "method": {"type": "string", "enum": ["POST", "PUT"], "default": "POST", "description": "HTTP method."},
    "headers": {"type": "object", "additionalProperties": {"type": "string"}, "description": "Extra request headers: names are HTTP tokens (X-Api-Key), values have no line breaks."},
    "body": {"type": "object", "description": "Extra JSON fields sent with the customer, event and journey context."},
    "idempotent": {"type": "boolean", "default": false, "description": "The receiver drops repeated Idempotency-Key values: a call whose outcome is unknown (a timeout, a crash mid-call) is then sent again with the same key instead of being marked ambiguous."},
    "timeout": {"type": "string", "pattern": "^[0-9]{1,9}(ms|s|m)$", "default": "10s", "description": "How long to wait for an answer (e.g. 500ms, 10s, 1m); at most 2m."}
  }
}`

const schemaWait = `{
  "type": "object", "additionalProperties": false, "required": ["duration"],
  "properties": {"duration": ` + durationProp + `}
}`

const schemaWaitUntil = `{
  "type": "object", "additionalProperties": false, "required": ["until"],
  "properties": {
    "until": {"type": "string", "minLength": 1, "description": "An RFC 3339 time (2026-12-24T09:00:00Z) or a customer attribute holding one (customer.trial_ends_at)."}
  }
}`

const schemaWaitForEvent = `{
  "type": "object", "additionalProperties": false, "required": ["event_type", "timeout"],
  "properties": {
    "event_type": {"type": "string", "minLength": 1, "maxLength": 200, "description": "The customer event to wait for, e.g. email_opened."},
    "timeout": ` + durationProp + `,
    "filter": {"type": "object", "description": "Only events whose data has these keys with equal values count."},
    "event_branch": {"type": "string", "minLength": 1, "default": "event_received", "description": "Branch taken when the event arrives."},
    "timeout_branch": {"type": "string", "minLength": 1, "default": "timed_out", "description": "Branch taken when the timeout passes first."}
  }
}`

const schemaCondition = `{
  "type": "object", "additionalProperties": false, "required": ["expression"],
  "properties": {
    "expression": {"type": "string", "minLength": 1, "maxLength": 4000, "description": "A CEL expression over customer, event and journey that gives true or false, e.g. customer.plan == \"premium\"."}
  }
}`

const schemaABSplit = `{
  "type": "object", "additionalProperties": false, "required": ["variants"],
  "properties": {
    "variants": {
      "type": "array", "minItems": 2, "maxItems": 5, "description": "The variants; each is a branch out of the node.",
      "items": {
        "type": "object", "additionalProperties": false, "required": ["key", "weight"],
        "properties": {
          "key": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$", "description": "The variant's name and branch."},
          "weight": {"type": "integer", "minimum": 1, "maximum": 100, "description": "Relative share of customers."}
        }
      }
    }
  }
}`

const schemaFrequencyCap = `{
  "type": "object", "additionalProperties": false, "required": ["channel", "max", "window"],
  "properties": {
    "channel": {"type": "string", "enum": ["email", "sms", "push", "whatsapp", "webhook", "any"], "description": "The channel counted; any counts every channel."},
    "max": {"type": "integer", "minimum": 1, "maximum": 10000, "description": "Most messages allowed in the window."},
    "window": ` + durationProp + `
  }
}`

const schemaUpdateProfile = `{
  "type": "object", "additionalProperties": false, "required": ["set"],
  "properties": {
    "set": {"type": "object", "minProperties": 1, "description": "Attributes to set on the customer's profile."}
  }
}`

const schemaTag = `{
  "type": "object", "additionalProperties": false, "required": ["tag"],
  "properties": {
    "tag": {"type": "string", "minLength": 1, "maxLength": 100, "description": "The tag."}
  }
}`

const schemaCustomCode = `{
  "type": "object", "additionalProperties": false, "required": ["language", "code"],
  "properties": {
    "language": {"type": "string", "enum": ["lua"], "description": "The language of the code."},
    "code": {"type": "string", "minLength": 1, "maxLength": 65536, "description": "The code to run."},
    "timeout": ` + durationProp + `
  }
}`

const schemaGoalReached = `{
  "type": "object", "additionalProperties": false, "required": ["goal_name"],
  "properties": {
    "goal_name": {"type": "string", "minLength": 1, "maxLength": 200, "description": "The conversion goal, e.g. first_purchase."},
    "exit_after_goal": {"type": "boolean", "default": false, "description": "End the journey when the goal is reached; otherwise continue on the default branch."}
  }
}`

const schemaJourneyExit = `{
  "type": "object", "additionalProperties": false,
  "properties": {
    "reason": {"type": "string", "maxLength": 200, "description": "Why customers leave here, for reports."}
  }
}`
