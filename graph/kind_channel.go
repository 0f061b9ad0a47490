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
	channelKind(TypeSendEmail, "email", "Sends an email rendered from a template or inline content.", SendEmailConfig{}),
	channelKind(TypeSendSMS, "sms", "Sends a text message rendered from a template or an inline body.", SendSMSConfig{}),
	channelKind(TypeSendPush, "push", "Sends a mobile push notification rendered from a template or inline content.", SendPushConfig{}),
	channelKind(TypeSendWhatsApp, "whatsapp", "Sends a WhatsApp message: a template, an inline body, or an approved WhatsApp template.", SendWhatsAppConfig{}),
	channelKind(TypeCallWebhook, "webhook", "Calls an HTTP endpoint with the customer, event and journey as JSON.", CallWebhookConfig{}),
}

// Liquid is a config field that is a Liquid template, for the checks that
// need the Liquid parser (package store, which graph may not import).
type Liquid struct {
	Field  string // e.g. "subject", "headers.X-Id", "body.name"
	Source string
}

// Templated is implemented by configs with Liquid fields.
type Templated interface {
	Liquid() []Liquid
}

// LiquidFields lists a node's Liquid fields (none for a config that does not
// decode: validation reports that).
func LiquidFields(n Node) []Liquid {
	c, err := decodeAny(n)
	if err != nil {
		return nil
	}
	if t, ok := c.(Templated); ok {
		return t.Liquid()
	}
	return nil
}

// TemplateRef is the template a channel node names in template_id, or "".
func TemplateRef(n Node) string {
	c, err := decodeAny(n)
	if err != nil {
		return ""
	}
	if r, ok := c.(interface{ templateRef() string }); ok {
		return r.templateRef()
	}
	return ""
}

// liquidOf lists the non-empty fields among name, source pairs.
func liquidOf(pairs ...string) []Liquid {
	var out []Liquid
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] != "" {
			out = append(out, Liquid{Field: pairs[i], Source: pairs[i+1]})
		}
	}
	return out
}

// checkOneSource refuses a node with both a template and inline content, or
// neither.
func checkOneSource(template string, inline bool, what string, bad func(string, error)) {
	switch {
	case template != "" && inline:
		bad("template_id", fmt.Errorf("and inline content (%s) are both set: give one or the other", what))
	case template == "" && !inline:
		bad("template_id", fmt.Errorf("is missing: give a template_id (a template's id or name) or inline content (%s)", what))
	}
}

// Recipient fields: "to" is Liquid; its default is the customer attribute
// named here, so that profiles written the usual way need no config.
const (
	DefaultEmailTo = "{{ customer.email }}"
	DefaultPhoneTo = "{{ customer.phone }}"
	DefaultPushTo  = "{{ customer.push_token }}"
)

// SendEmailConfig is a send_email's config: a template, or inline content.
type SendEmailConfig struct {
	TemplateID string `json:"template_id,omitempty" jsonschema:"minLength=1,maxLength=200" jsonschema_description:"The email template to render: its id or its name. Leave out for inline content."`
	Subject    string `json:"subject,omitempty" jsonschema:"maxLength=998" jsonschema_description:"Subject line (Liquid): with html or text when no template is used, or overriding the template's."`
	HTML       string `json:"html,omitempty" jsonschema_description:"Inline HTML body (Liquid)."`
	Text       string `json:"text,omitempty" jsonschema_description:"Inline text body (Liquid); default: the text of the rendered html."`
	To         string `json:"to,omitempty" jsonschema:"maxLength=998" jsonschema_description:"Recipient address (Liquid); default: the customer's email attribute."`
	From       string `json:"from,omitempty" jsonschema:"maxLength=998" jsonschema_description:"Sender address (Liquid); default: the provider account's."`
	ReplyTo    string `json:"reply_to,omitempty" jsonschema:"maxLength=998" jsonschema_description:"Reply-To address (Liquid)."`
	Provider   string `json:"provider,omitempty" jsonschema_description:"The email provider to send through; default: the tenant's default."`
}

// Check requires a template or inline content with a subject and a body.
// A subject beside a template overrides the template's.
func (c SendEmailConfig) Check(bad func(string, error)) {
	inline := c.HTML != "" || c.Text != ""
	checkOneSource(c.TemplateID, inline || (c.TemplateID == "" && c.Subject != ""), "subject, html, text", bad)
	if c.TemplateID == "" && (inline || c.Subject != "") {
		if c.Subject == "" {
			bad("subject", errors.New("is required with inline content"))
		}
		if c.HTML == "" && c.Text == "" {
			bad("html", errors.New("or text is required with inline content"))
		}
	}
}

// Liquid lists the Liquid fields.
func (c SendEmailConfig) Liquid() []Liquid {
	return liquidOf("subject", c.Subject, "html", c.HTML, "text", c.Text, "to", c.To, "from", c.From, "reply_to", c.ReplyTo)
}

func (c SendEmailConfig) templateRef() string { return c.TemplateID }

// SendSMSConfig is a send_sms's config: a template or a body.
type SendSMSConfig struct {
	TemplateID string `json:"template_id,omitempty" jsonschema:"minLength=1,maxLength=200" jsonschema_description:"The SMS template to render: its id or its name."`
	Body       string `json:"body,omitempty" jsonschema:"maxLength=1600" jsonschema_description:"The message text (Liquid), when no template is used."`
	To         string `json:"to,omitempty" jsonschema:"maxLength=200" jsonschema_description:"Recipient phone number in E.164 form (Liquid); default: the customer's phone attribute."`
	From       string `json:"from,omitempty" jsonschema:"maxLength=200" jsonschema_description:"Sender number or name (Liquid); default: the provider account's."`
	Provider   string `json:"provider,omitempty" jsonschema_description:"The SMS provider; default: the tenant's default."`
}

// Check requires a template or a body.
func (c SendSMSConfig) Check(bad func(string, error)) {
	checkOneSource(c.TemplateID, c.Body != "", "body", bad)
}

// Liquid lists the Liquid fields.
func (c SendSMSConfig) Liquid() []Liquid {
	return liquidOf("body", c.Body, "to", c.To, "from", c.From)
}

func (c SendSMSConfig) templateRef() string { return c.TemplateID }

// SendPushConfig is a send_push's config: a template, or a title and a body.
type SendPushConfig struct {
	TemplateID string            `json:"template_id,omitempty" jsonschema:"minLength=1,maxLength=200" jsonschema_description:"The push template to render: its id or its name."`
	Title      string            `json:"title,omitempty" jsonschema:"maxLength=200" jsonschema_description:"Notification title (Liquid), when no template is used."`
	Body       string            `json:"body,omitempty" jsonschema:"maxLength=2000" jsonschema_description:"Notification text (Liquid), when no template is used."`
	Data       map[string]string `json:"data,omitempty" jsonschema_description:"Extra key/value data delivered to the app; each value is Liquid."`
	To         string            `json:"to,omitempty" jsonschema:"maxLength=4096" jsonschema_description:"The device token (Liquid); default: the customer's push_token attribute."`
	Provider   string            `json:"provider,omitempty" jsonschema_description:"The push provider (fcm, apns); default: the tenant's default."`
}

// Check requires a template, or a title and a body.
func (c SendPushConfig) Check(bad func(string, error)) {
	inline := c.Title != "" || c.Body != "" || len(c.Data) > 0
	checkOneSource(c.TemplateID, inline, "title, body, data", bad)
	if c.TemplateID == "" && inline {
		if c.Title == "" {
			bad("title", errors.New("is required with inline content"))
		}
		if c.Body == "" {
			bad("body", errors.New("is required with inline content"))
		}
	}
	for k := range c.Data {
		if k == "" {
			bad("data", errors.New("has an empty key"))
		}
	}
}

// Liquid lists the Liquid fields.
func (c SendPushConfig) Liquid() []Liquid {
	out := liquidOf("title", c.Title, "body", c.Body, "to", c.To)
	for _, k := range slices.Sorted(maps.Keys(c.Data)) {
		out = append(out, liquidOf("data."+k, c.Data[k])...)
	}
	return out
}

func (c SendPushConfig) templateRef() string { return c.TemplateID }

// SendWhatsAppConfig is a send_whatsapp's config: a Kalcifer template, an
// inline body (free-form, inside the customer-service window), or an
// approved WhatsApp template.
type SendWhatsAppConfig struct {
	TemplateID       string            `json:"template_id,omitempty" jsonschema:"minLength=1,maxLength=200" jsonschema_description:"A whatsapp template of Kalcifer to render: its id or its name."`
	Body             string            `json:"body,omitempty" jsonschema:"maxLength=4096" jsonschema_description:"Free-form message text (Liquid), when no template is used."`
	WhatsAppTemplate *WhatsAppTemplate `json:"whatsapp_template,omitempty" jsonschema_description:"An approved WhatsApp template and its parameters."`
	To               string            `json:"to,omitempty" jsonschema:"maxLength=200" jsonschema_description:"Recipient phone number in E.164 form (Liquid); default: the customer's phone attribute."`
	From             string            `json:"from,omitempty" jsonschema:"maxLength=200" jsonschema_description:"Sending number (Liquid); default: the provider account's."`
	Provider         string            `json:"provider,omitempty" jsonschema_description:"The WhatsApp provider; default: the tenant's default."`
}

// WhatsAppTemplate names an approved WhatsApp template.
type WhatsAppTemplate struct {
	Name     string   `json:"name" jsonschema:"minLength=1,maxLength=512" jsonschema_description:"The approved template's name, e.g. order_update."`
	Language string   `json:"language" jsonschema:"minLength=2,maxLength=20" jsonschema_description:"Its language code, e.g. en_US."`
	Params   []string `json:"params,omitempty" jsonschema:"maxItems=100" jsonschema_description:"The body's {{1}}, {{2}}… in order; each is Liquid."`
}

// Check requires exactly one of a template, a body and an approved
// template.
func (c SendWhatsAppConfig) Check(bad func(string, error)) {
	n := 0
	for _, set := range []bool{c.TemplateID != "", c.Body != "", c.WhatsAppTemplate != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		bad("template_id", errors.New("give exactly one of template_id, body and whatsapp_template"))
	}
}

// Liquid lists the Liquid fields.
func (c SendWhatsAppConfig) Liquid() []Liquid {
	out := liquidOf("body", c.Body, "to", c.To, "from", c.From)
	if c.WhatsAppTemplate != nil {
		for i, p := range c.WhatsAppTemplate.Params {
			out = append(out, liquidOf(fmt.Sprintf("whatsapp_template.params.%d", i), p)...)
		}
	}
	return out
}

func (c SendWhatsAppConfig) templateRef() string { return c.TemplateID }

// JSONSchemaExtend says what content a send_email needs: a template, or a
// subject and a body (Check refuses both at once).
func (SendEmailConfig) JSONSchemaExtend(s *jsonschema.Schema) {
	s.AnyOf = []*jsonschema.Schema{{Required: []string{"template_id"}}, {Required: []string{"subject", "html"}}, {Required: []string{"subject", "text"}}}
}

// JSONSchemaExtend requires a template or a body.
func (SendSMSConfig) JSONSchemaExtend(s *jsonschema.Schema) {
	s.AnyOf = []*jsonschema.Schema{{Required: []string{"template_id"}}, {Required: []string{"body"}}}
}

// JSONSchemaExtend requires a template, or a title and a body.
func (SendPushConfig) JSONSchemaExtend(s *jsonschema.Schema) {
	s.AnyOf = []*jsonschema.Schema{{Required: []string{"template_id"}}, {Required: []string{"title", "body"}}}
}

// JSONSchemaExtend requires a template, a body or an approved template.
func (SendWhatsAppConfig) JSONSchemaExtend(s *jsonschema.Schema) {
	s.AnyOf = []*jsonschema.Schema{{Required: []string{"template_id"}}, {Required: []string{"body"}}, {Required: []string{"whatsapp_template"}}}
}

// CallWebhookConfig is a call_webhook's config.
type CallWebhookConfig struct {
	URL        string            `json:"url" jsonschema:"minLength=1,maxLength=2048" jsonschema_description:"The absolute http or https URL to call (Liquid)."`
	Method     string            `json:"method,omitempty" jsonschema:"enum=POST,enum=PUT,default=POST" jsonschema_description:"HTTP method."`
	Headers    map[string]string `json:"headers,omitempty" jsonschema_description:"Extra request headers: names are HTTP tokens (X-Api-Key), values (Liquid) have no line breaks."`
	Body       map[string]any    `json:"body,omitempty" jsonschema_description:"Extra JSON fields sent with the customer, event and journey context; string values are Liquid."`
	Idempotent bool              `json:"idempotent,omitempty" jsonschema:"default=false" jsonschema_description:"The receiver drops repeated Idempotency-Key values: a call whose outcome is unknown (a timeout, a crash mid-call) is then sent again with the same key instead of being marked ambiguous."`
	Timeout    *string           `json:"timeout,omitempty" jsonschema:"pattern=^[0-9]{1\\,9}(ms|s|m)$,default=10s" jsonschema_description:"How long to wait for an answer (e.g. 500ms, 10s, 1m); at most 2m."`
}

// Check refuses a URL that is not absolute http(s), header names that are
// not HTTP tokens, header values the provider would refuse, and a timeout
// past MaxWebhookTimeout.
func (c CallWebhookConfig) Check(bad func(string, error)) {
	if i := strings.Index(c.URL, "{"); i >= 0 && (strings.Contains(c.URL, "{{") || strings.Contains(c.URL, "{%")) {
		// Templated: what it renders to is checked at send time; its
		// scheme must be written out.
		if lower := strings.ToLower(c.URL[:i]); !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "https://") {
			bad("url", fmt.Errorf("%q must start with http:// or https:// before any Liquid", c.URL))
		}
	} else if u, err := url.Parse(c.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
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

// Liquid lists the Liquid fields: the URL, header values and the string
// values of the body, nested ones included.
func (c CallWebhookConfig) Liquid() []Liquid {
	out := liquidOf("url", c.URL)
	for _, name := range slices.Sorted(maps.Keys(c.Headers)) {
		out = append(out, liquidOf("headers."+name, c.Headers[name])...)
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case string:
			out = append(out, liquidOf(path, v)...)
		case map[string]any:
			for _, k := range slices.Sorted(maps.Keys(v)) {
				walk(path+"."+k, v[k])
			}
		case []any:
			for i, x := range v {
				walk(fmt.Sprintf("%s.%d", path, i), x)
			}
		}
	}
	walk("body", c.Body)
	return out
}
