package graph

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"

	"github.com/invopop/jsonschema"
	"golang.org/x/net/http/httpguts"
)

// Channel node types: each sends one message and holds the path until its
// outcome is known.
const (
	TypeSendEmail    = "send_email"
	TypeSendSMS      = "send_sms"
	TypeSendPush     = "send_push"
	TypeSendWhatsApp = "send_whatsapp"
	TypeCallWebhook  = "call_webhook"
)

// BranchFailed is the optional branch a channel node takes when its message
// was not sent (failed, ambiguous, or refused by a frequency cap).
const BranchFailed = "failed"

// channelKind is a channel kind: default out, optional failed, holds a send.
func channelKind(typ, channel, desc string, config Config) Kind {
	return Kind{Type: typ, Group: GroupChannel, Description: desc, Holds: HoldsSend, Channel: channel,
		Branches: []string{DefaultBranch}, OptionalBranches: []string{BranchFailed}, Config: config}
}

var channelKinds = []Kind{
	channelKind(TypeSendEmail, "email", "Sends an email rendered from a template.", SendEmailConfig{}),
	channelKind(TypeSendSMS, "sms", "Sends a text message.", SendSMSConfig{}),
	channelKind(TypeSendPush, "push", "Sends a mobile push notification.", SendPushConfig{}),
	channelKind(TypeSendWhatsApp, "whatsapp", "Sends a WhatsApp template message.", SendWhatsAppConfig{}),
	channelKind(TypeCallWebhook, "webhook", "Calls an HTTP endpoint with the customer, event and journey as JSON.", CallWebhookConfig{}),
}

// SendEmailConfig is a send_email's config.
type SendEmailConfig struct {
	nothingToCheck
	TemplateID string `json:"template_id" jsonschema:"minLength=1,maxLength=200" jsonschema_description:"The email template to render."`
	Provider   string `json:"provider,omitempty" jsonschema_description:"The email provider to send through; default: the tenant's default."`
	From       string `json:"from,omitempty" jsonschema_description:"Sender address; default: the template's or provider's."`
	Subject    string `json:"subject,omitempty" jsonschema:"maxLength=998" jsonschema_description:"Subject line (Liquid); default: the template's."`
	ReplyTo    string `json:"reply_to,omitempty" jsonschema_description:"Reply-To address."`
}

// SendSMSConfig is a send_sms's config: a template or a body.
type SendSMSConfig struct {
	nothingToCheck
	TemplateID string `json:"template_id,omitempty" jsonschema:"minLength=1" jsonschema_description:"The SMS template to render."`
	Body       string `json:"body,omitempty" jsonschema:"minLength=1,maxLength=1600" jsonschema_description:"The message text (Liquid), when no template is used."`
	Provider   string `json:"provider,omitempty" jsonschema_description:"The SMS provider; default: the tenant's default."`
	From       string `json:"from,omitempty" jsonschema_description:"Sender number or name."`
}

// JSONSchemaExtend requires a template or a body.
func (SendSMSConfig) JSONSchemaExtend(s *jsonschema.Schema) {
	s.AnyOf = []*jsonschema.Schema{{Required: []string{"template_id"}}, {Required: []string{"body"}}}
}

// SendPushConfig is a send_push's config: a template, or a title and a body.
type SendPushConfig struct {
	nothingToCheck
	TemplateID string         `json:"template_id,omitempty" jsonschema:"minLength=1" jsonschema_description:"The push template to render."`
	Title      string         `json:"title,omitempty" jsonschema:"maxLength=200" jsonschema_description:"Notification title (Liquid)."`
	Body       string         `json:"body,omitempty" jsonschema:"maxLength=2000" jsonschema_description:"Notification text (Liquid)."`
	Provider   string         `json:"provider,omitempty" jsonschema_description:"The push provider (fcm, apns); default: the tenant's default."`
	Data       map[string]any `json:"data,omitempty" jsonschema_description:"Extra key/value data delivered to the app."`
}

// JSONSchemaExtend requires a template, or a title and a body.
func (SendPushConfig) JSONSchemaExtend(s *jsonschema.Schema) {
	s.AnyOf = []*jsonschema.Schema{{Required: []string{"template_id"}}, {Required: []string{"title", "body"}}}
}

// SendWhatsAppConfig is a send_whatsapp's config.
type SendWhatsAppConfig struct {
	nothingToCheck
	TemplateID string `json:"template_id" jsonschema:"minLength=1" jsonschema_description:"The approved WhatsApp template."`
	Language   string `json:"language,omitempty" jsonschema_description:"Template language code, e.g. en_US."`
	Provider   string `json:"provider,omitempty" jsonschema_description:"The WhatsApp provider; default: the tenant's default."`
}

// CallWebhookConfig is a call_webhook's config.
type CallWebhookConfig struct {
	URL        string            `json:"url" jsonschema:"minLength=1,maxLength=2048" jsonschema_description:"The absolute http or https URL to call."`
	Method     string            `json:"method,omitempty" jsonschema:"enum=POST,enum=PUT,default=POST" jsonschema_description:"HTTP method."`
	Headers    map[string]string `json:"headers,omitempty" jsonschema_description:"Extra request headers: names are HTTP tokens (X-Api-Key), values have no line breaks."`
	Body       map[string]any    `json:"body,omitempty" jsonschema_description:"Extra JSON fields sent with the customer, event and journey context."`
	Idempotent bool              `json:"idempotent,omitempty" jsonschema:"default=false" jsonschema_description:"The receiver drops repeated Idempotency-Key values: a call whose outcome is unknown (a timeout, a crash mid-call) is then sent again with the same key instead of being marked ambiguous."`
	Timeout    *string           `json:"timeout,omitempty" jsonschema:"pattern=^[0-9]{1\\,9}(ms|s|m)$,default=10s" jsonschema_description:"How long to wait for an answer (e.g. 500ms, 10s, 1m); at most 2m."`
}

// Check refuses a URL that is not absolute http(s), header names that are
// not HTTP tokens, header values the provider would refuse, and a timeout
// past MaxWebhookTimeout.
func (c CallWebhookConfig) Check(bad func(string, error)) {
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("url", fmt.Errorf("%q is not an absolute http or https URL", c.URL))
	}
	for _, name := range slices.Sorted(maps.Keys(c.Headers)) {
		switch value := c.Headers[name]; {
		case !httpguts.ValidHeaderFieldName(name):
			bad("headers."+name, fmt.Errorf("%q is not a valid HTTP header name (letters, digits and !#$%%&'*+-.^_`|~ only)", name))
		case strings.ContainsAny(value, "\r\n"):
			bad("headers."+name, errors.New("has a line break in its value; header values are one line"))
		case strings.ContainsRune(value, 0):
			bad("headers."+name, errors.New("has a NUL character in its value"))
		}
	}
	if c.Timeout != nil {
		checkDuration(*c.Timeout, MaxWebhookTimeout, "timeout", bad)
	}
}
