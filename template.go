package kalcifer

import (
	"fmt"
	"time"
)

// Channel is the kind of message a template is for.
type Channel string

// The template channels.
const (
	ChannelEmail    Channel = "email"
	ChannelSMS      Channel = "sms"
	ChannelWhatsApp Channel = "whatsapp"
	ChannelPush     Channel = "push"
)

// Valid reports whether c is a known channel.
func (c Channel) Valid() bool {
	switch c {
	case ChannelEmail, ChannelSMS, ChannelWhatsApp, ChannelPush:
		return true
	}
	return false
}

// Template is a message template: its current content, and the version
// that content is. Every change makes a new version; a send renders the
// current version when it is sent, and records which (Send.TemplateVersion).
type Template struct {
	ID       string  `json:"id"`
	TenantID string  `json:"tenant_id"`
	Name     string  `json:"name"`
	Channel  Channel `json:"channel"`
	Version  int     `json:"version"`
	TemplateContent
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// TemplateContent is what a template says, each field a Liquid template.
// Which fields a channel takes: email subject, html and text (text is
// derived from the rendered html when empty); sms and whatsapp body; push
// title, body and data.
type TemplateContent struct {
	Subject string            `json:"subject,omitempty"`
	HTML    string            `json:"html,omitempty"`
	Text    string            `json:"text,omitempty"`
	Body    string            `json:"body,omitempty"`
	Title   string            `json:"title,omitempty"`
	Data    map[string]string `json:"data,omitempty"`
}

// TemplateVersion is one immutable version of a template's content.
type TemplateVersion struct {
	Version int `json:"version"`
	TemplateContent
	Author    string    `json:"author"`
	CreatedAt time.Time `json:"created_at"`
}

// TemplateFilter selects a page of a tenant's templates.
type TemplateFilter struct {
	TenantID string
	Channel  Channel
	Limit    int
	Cursor   string
}

// Fields lists the content's non-empty fields as name → source, push data
// entries as "data.KEY".
func (c TemplateContent) Fields() map[string]string {
	out := map[string]string{}
	for name, v := range map[string]string{"subject": c.Subject, "html": c.HTML, "text": c.Text, "body": c.Body, "title": c.Title} {
		if v != "" {
			out[name] = v
		}
	}
	for k, v := range c.Data {
		out["data."+k] = v
	}
	return out
}

// Check lists what is wrong with the content's shape for a channel: the
// fields it needs and the fields it does not take. Liquid syntax is
// checked elsewhere (package liquid).
func (c TemplateContent) Check(ch Channel) []Detail {
	var problems []Detail
	need := func(field, v string) {
		if v == "" {
			problems = append(problems, Detail{Field: field, Message: fmt.Sprintf("a %s template needs a %s", ch, field)})
		}
	}
	refuse := func(field string, set bool) {
		if set {
			problems = append(problems, Detail{Field: field, Message: fmt.Sprintf("a %s template has no %s", ch, field)})
		}
	}
	switch ch {
	case ChannelEmail:
		need("subject", c.Subject)
		if c.HTML == "" && c.Text == "" {
			problems = append(problems, Detail{Field: "html", Message: "an email template needs html or text (text is derived from html when absent)"})
		}
		refuse("body", c.Body != "")
		refuse("title", c.Title != "")
		refuse("data", c.Data != nil)
	case ChannelSMS, ChannelWhatsApp:
		need("body", c.Body)
		refuse("subject", c.Subject != "")
		refuse("html", c.HTML != "")
		refuse("text", c.Text != "")
		refuse("title", c.Title != "")
		refuse("data", c.Data != nil)
	case ChannelPush:
		need("title", c.Title)
		need("body", c.Body)
		refuse("subject", c.Subject != "")
		refuse("html", c.HTML != "")
		refuse("text", c.Text != "")
		for k := range c.Data {
			if k == "" {
				problems = append(problems, Detail{Field: "data", Message: "push data keys must not be empty"})
			}
		}
	default:
		problems = append(problems, Detail{Field: "channel", Message: fmt.Sprintf("channel %q is unknown: use email, sms, whatsapp or push", ch)})
	}
	return problems
}
