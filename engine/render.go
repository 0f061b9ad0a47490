package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/channel"
	"github.com/kalcifer/kalcifer/graph"
	"github.com/kalcifer/kalcifer/liquid"
	"github.com/kalcifer/kalcifer/store"
)

// A send's content is rendered when the send is claimed, inside the claim
// transaction: from the node's template at the template's current version,
// or from the node's inline content, and the recipient from the node's "to"
// (default: the customer's email, phone or push_token attribute). Parsing
// costs about half a millisecond a field, so parsed fields are cached: a
// template's per (tenant, template, version), a node's per (journey,
// version, node) — both immutable. Rendering is strict: a required variable
// that is missing fails the send, naming the field and the variable.

// maxParsed bounds the cache of parsed fields; it is emptied when full.
const maxParsed = 4096

// renderer renders sends' content.
type renderer struct {
	liquid    *liquid.Engine
	publicURL string // "" means no unsubscribe links
	unsubKey  []byte

	mu     sync.Mutex
	parsed map[string]map[string]*liquid.Template
}

func newRenderer(limits liquid.Limits, publicURL string, unsubKey []byte) *renderer {
	return &renderer{liquid: liquid.NewEngine(limits), publicURL: strings.TrimSuffix(publicURL, "/"), unsubKey: unsubKey,
		parsed: map[string]map[string]*liquid.Template{}}
}

// parse returns the parsed fields of src (field → Liquid source), cached
// under key.
func (r *renderer) parse(key string, src map[string]string) (map[string]*liquid.Template, error) {
	r.mu.Lock()
	out, ok := r.parsed[key]
	r.mu.Unlock()
	if ok {
		return out, nil
	}
	out = make(map[string]*liquid.Template, len(src))
	for _, field := range slices.Sorted(maps.Keys(src)) {
		tpl, err := r.liquid.Parse(src[field])
		if err != nil { // checked when saved: only a template saved before the checks
			return nil, fmt.Errorf("%s: %w", field, err)
		}
		out[field] = tpl
	}
	r.mu.Lock()
	if len(r.parsed) >= maxParsed {
		clear(r.parsed)
	}
	r.parsed[key] = out
	r.mu.Unlock()
	return out, nil
}

// claimMemo keeps what one claim transaction read, so a batch of sends of
// one template or journey reads it once.
type claimMemo struct {
	templates map[string]*kalcifer.Template // tenant + ref → template (nil: none)
	journeys  map[string]string             // tenant + journey id → name
}

func newClaimMemo() *claimMemo {
	return &claimMemo{templates: map[string]*kalcifer.Template{}, journeys: map[string]string{}}
}

// settle is how a send that will not be called ends.
type settle struct {
	status kalcifer.SendStatus
	detail string
}

// defaultTo is the recipient of a channel whose node says no "to".
var defaultTo = map[string]string{"email": graph.DefaultEmailTo, "sms": graph.DefaultPhoneTo,
	"whatsapp": graph.DefaultPhoneTo, "push": graph.DefaultPushTo}

// template returns the tenant's template ref names, read once per claim;
// nil when there is none.
func (c *claimMemo) template(t *store.EngineTx, tenantID, ref string) (*kalcifer.Template, error) {
	k := tenantID + "\x00" + ref
	if tpl, ok := c.templates[k]; ok {
		return tpl, nil
	}
	tpl, err := t.CurrentTemplate(tenantID, ref)
	var ke *kalcifer.Error
	if errors.As(err, &ke) && ke.Code == kalcifer.ENOTFOUND {
		tpl, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	c.templates[k] = tpl
	return tpl, nil
}

// journeyName returns a journey's name, read once per claim.
func (c *claimMemo) journeyName(t *store.EngineTx, tenantID, id string) (string, error) {
	k := tenantID + "\x00" + id
	if name, ok := c.journeys[k]; ok {
		return name, nil
	}
	j, err := t.Journey(tenantID, id)
	var ke *kalcifer.Error
	if errors.As(err, &ke) && ke.Code == kalcifer.ENOTFOUND {
		j, err = &kalcifer.Journey{}, nil // deleted meanwhile: no name
	}
	if err != nil {
		return "", err
	}
	c.journeys[k] = j.Name
	return j.Name, nil
}

// rendered is what render made of a send.
type rendered struct {
	// settle, when set, ends the send without a call.
	settle *settle
	// templateID and templateVersion name the template rendered, if any.
	templateID      string
	templateVersion int
}

// render fills m's content for its channel (or, for a webhook, its config
// with the Liquid rendered), or says how the send ends without a call:
// skipped when the customer unsubscribed from the channel, failed when its
// template is missing or its content does not render. An error is the
// store's: the transaction rolls back.
func (rt *Runtime) render(ctx context.Context, t *store.EngineTx, memo *claimMemo, d store.DueSend, state State, m *channel.Message) (rendered, error) {
	var out rendered
	sd := d.Send
	fail := func(format string, args ...any) (rendered, error) {
		out.settle = &settle{kalcifer.SendFailed, "not sent: " + fmt.Sprintf(format, args...)}
		return out, nil
	}
	if sd.Channel != "webhook" && d.Customer.Attributes[channel.UnsubscribedAttribute(sd.Channel)] == true {
		out.settle = &settle{kalcifer.SendSkipped, "not sent: the customer unsubscribed from " + sd.Channel}
		return out, nil
	}
	raw, err := json.Marshal(sd.Config)
	if err != nil {
		return fail("the node's config cannot be read: %v", err)
	}
	node := graph.Node{ID: sd.NodeID, Type: sd.NodeType, Config: raw}
	nodeSrc := map[string]string{}
	for _, f := range graph.LiquidFields(node) {
		nodeSrc[f.Field] = f.Source
	}
	if to, ok := defaultTo[sd.Channel]; ok && nodeSrc["to"] == "" {
		nodeSrc["to"] = to
	}
	fields, err := rt.renderer.parse(fmt.Sprintf("node\x00%s\x00%s\x00%d\x00%s", sd.TenantID, sd.JourneyID, sd.Version, sd.NodeID), nodeSrc)
	if err != nil {
		return fail("the node's %v", err)
	}
	fields = maps.Clone(fields)
	source := "the node's content"
	if ref := graph.TemplateRef(node); ref != "" {
		tpl, err := memo.template(t, sd.TenantID, ref)
		if err != nil {
			return out, err
		}
		if tpl == nil {
			return fail("no template has the id or name %q", ref)
		}
		out.templateID, out.templateVersion = tpl.ID, tpl.Version
		source = fmt.Sprintf("template %q version %d", tpl.Name, tpl.Version)
		if string(tpl.Channel) != sd.Channel {
			return fail("%s is a %s template, and node %s sends %s", source, tpl.Channel, sd.NodeID, sd.Channel)
		}
		tplFields, err := rt.renderer.parse(fmt.Sprintf("template\x00%s\x00%s\x00%d", sd.TenantID, tpl.ID, tpl.Version), tpl.Fields())
		if err != nil {
			return fail("%s: %v", source, err)
		}
		for field, tpl := range tplFields {
			if _, override := nodeSrc[field]; !override { // a node's subject overrides the template's
				fields[field] = tpl
			}
		}
	}
	name, err := memo.journeyName(t, sd.TenantID, sd.JourneyID)
	if err != nil {
		return out, err
	}
	vars, err := rt.renderVars(sd, state, m, name)
	if err != nil {
		return out, err
	}
	text := make(map[string]string, len(fields))
	for _, field := range slices.Sorted(maps.Keys(fields)) {
		s, _, err := fields[field].Render(ctx, vars, true)
		if err != nil {
			if _, set := sd.Config["to"]; field == "to" && !set {
				attr := strings.TrimSuffix(strings.TrimPrefix(defaultTo[sd.Channel], "{{ customer."), " }}")
				return fail("the customer has no %s attribute to send to (or set the node's \"to\")", attr)
			}
			if _, own := nodeSrc[field]; own {
				return fail("config.%s of node %s did not render: %v", field, sd.NodeID, err)
			}
			return fail("%s did not render: %s: %v", source, field, err)
		}
		text[field] = s
	}
	if reason := fill(m, text, vars); reason != "" {
		return fail("%s", reason)
	}
	return out, nil
}

// renderVars is the context templates see: customer (attributes, id,
// tags), event (the event that started the instance), journey (id, name,
// version), instance (id, data), and for email unsubscribe_url.
func (rt *Runtime) renderVars(sd *kalcifer.Send, state State, m *channel.Message, journeyName string) (map[string]any, error) {
	event := m.Event
	if event == nil {
		event = map[string]any{}
	}
	data, err := state.instanceData()
	if err != nil {
		return nil, err
	}
	if data == nil {
		data = map[string]any{}
	}
	vars := map[string]any{
		"customer": m.Customer,
		"event":    event,
		"journey":  map[string]any{"id": sd.JourneyID, "name": journeyName, "version": sd.Version},
		"instance": map[string]any{"id": sd.InstanceID, "data": data},
	}
	if sd.Channel == "email" {
		vars["unsubscribe_url"] = rt.unsubscribeURL(sd)
	}
	return vars, nil
}

// unsubscribeURL is the signed link that unsubscribes the send's customer
// from its channel, or "" when the server has no public URL.
func (rt *Runtime) unsubscribeURL(sd *kalcifer.Send) string {
	if rt.renderer.publicURL == "" {
		return ""
	}
	return rt.renderer.publicURL + "/u/" + channel.UnsubscribeToken(rt.renderer.unsubKey,
		channel.Unsubscribe{TenantID: sd.TenantID, CustomerID: sd.CustomerID, Channel: sd.Channel})
}

// fill puts the rendered fields into m, or says why they cannot be sent.
func fill(m *channel.Message, text map[string]string, vars map[string]any) string {
	switch m.Channel {
	case "email":
		e := &channel.Email{To: text["to"], From: text["from"], ReplyTo: text["reply_to"],
			Subject: text["subject"], HTML: text["html"], Text: text["text"]}
		if e.Text == "" && e.HTML != "" {
			e.Text = liquid.HTMLToText(e.HTML)
		}
		if u, _ := vars["unsubscribe_url"].(string); u != "" {
			e.Headers = channel.UnsubscribeHeaders(u)
		}
		m.Email = e
	case "sms":
		m.SMS = &channel.SMS{To: text["to"], From: text["from"], Body: text["body"]}
	case "whatsapp":
		w := &channel.WhatsApp{To: text["to"], From: text["from"], Body: text["body"]}
		if wt, ok := m.Config["whatsapp_template"].(map[string]any); ok {
			name, _ := wt["name"].(string)
			lang, _ := wt["language"].(string)
			w.Template = &channel.WhatsAppTemplate{Name: name, Language: lang}
			params, _ := wt["params"].([]any)
			for i := range params {
				w.Template.Params = append(w.Template.Params, text[fmt.Sprintf("whatsapp_template.params.%d", i)])
			}
		}
		m.WhatsApp = w
	case "push":
		p := &channel.Push{Token: text["to"], Title: text["title"], Body: text["body"]}
		for field, v := range text {
			if k, ok := strings.CutPrefix(field, "data."); ok {
				if p.Data == nil {
					p.Data = map[string]string{}
				}
				p.Data[k] = v
			}
		}
		m.Push = p
	case "webhook":
		return fillWebhook(m, text)
	}
	return ""
}

// fillWebhook replaces m.Config's URL, header values and body strings with
// their rendered text, refusing a URL or header the call could not make.
func fillWebhook(m *channel.Message, text map[string]string) string {
	cfg := maps.Clone(m.Config)
	u, err := url.Parse(text["url"])
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.ContainsAny(text["url"], " \t\r\n") {
		return fmt.Sprintf("config.url rendered to %q, which is not an absolute http or https URL", text["url"])
	}
	cfg["url"] = text["url"]
	if hs, ok := cfg["headers"].(map[string]any); ok {
		out := make(map[string]any, len(hs))
		for name := range hs {
			v := text["headers."+name]
			if strings.ContainsAny(v, "\r\n\x00") {
				return fmt.Sprintf("config.headers.%s rendered to a value with a line break or NUL", name)
			}
			out[name] = v
		}
		cfg["headers"] = out
	}
	if b, ok := cfg["body"]; ok {
		cfg["body"] = renderedJSON("body", b, text)
	}
	m.Config = cfg
	return ""
}

// renderedJSON copies v with each string replaced by its rendered text
// (paths as graph.CallWebhookConfig.Liquid names them).
func renderedJSON(path string, v any, text map[string]string) any {
	switch v := v.(type) {
	case string:
		return text[path]
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = renderedJSON(path+"."+k, x, text)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = renderedJSON(fmt.Sprintf("%s.%d", path, i), x, text)
		}
		return out
	}
	return v
}
