package engine_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/channel"
	"github.com/kalcifer/kalcifer/channel/webhook"
	"github.com/kalcifer/kalcifer/engine"
	"github.com/kalcifer/kalcifer/internal/netguard"
	"github.com/kalcifer/kalcifer/liquid"
	"github.com/kalcifer/kalcifer/store"
)

// recorder is a provider of every message channel that keeps the messages
// it is given: the seam where rendered content leaves the engine.
type recorder struct {
	mu   sync.Mutex
	msgs []channel.Message
}

func (r *recorder) Name() string { return "recorder" }

func (r *recorder) Send(_ context.Context, m channel.Message) (channel.Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, m)
	return channel.Result{Detail: "recorded"}, nil
}

// of returns the messages a node sent, in order.
func (r *recorder) of(node string) []channel.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []channel.Message
	for _, m := range r.msgs {
		if m.NodeID == node {
			out = append(out, m)
		}
	}
	return out
}

// renderRuntime replaces e's runtime by one whose message channels go to a
// recorder, with the given public URL and render limits.
func renderRuntime(e *env, publicURL string, limits liquid.Limits) *recorder {
	rec := &recorder{}
	hooks := webhook.New(e.st.WebhookSecret, webhook.WithClock(e.clock), webhook.WithPolicy(netguard.Policy{AllowPrivate: true}))
	reg := channel.NewRegistry(map[string]channel.Provider{"email": rec, "sms": rec, "push": rec, "whatsapp": rec, "webhook": hooks})
	e.rt = engine.New(engine.Config{Store: e.st, Clock: e.clock, Providers: reg, PublicURL: publicURL, RenderLimits: limits})
	e.t.Cleanup(e.rt.Stop)
	return rec
}

func (e *env) profile(id string, attrs map[string]any, tags ...string) {
	e.t.Helper()
	if _, err := e.st.PatchCustomer(e.ctx, store.PatchCustomerParams{TenantID: kalcifer.DefaultTenantID, CustomerID: id, Set: attrs, AddTags: tags}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) template(name string, ch kalcifer.Channel, c kalcifer.TemplateContent) *kalcifer.Template {
	e.t.Helper()
	tpl := &kalcifer.Template{TenantID: kalcifer.DefaultTenantID, Name: name, Channel: ch, TemplateContent: c}
	if err := e.st.CreateTemplate(e.ctx, "test", tpl); err != nil {
		e.t.Fatal(err)
	}
	return tpl
}

// jsonString quotes s for a graph's config.
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// Templates by name and by id, inline content of every channel, and the
// context: customer attributes and tags, the triggering event, the journey,
// the instance; a default filter; the template version in the ledger, and
// a new version rendered by the next send.
func TestRenderedContent(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		rec := renderRuntime(e, "https://kalcifer.example.com", liquid.Limits{})
		welcome := e.template("welcome", kalcifer.ChannelEmail, kalcifer.TemplateContent{
			Subject: "Hi {{ customer.first_name }}",
			HTML: `<p>{{ event.data.plan }} plan; {{ journey.name }} v{{ journey.version }}; {{ instance.id }}; ` +
				`{{ customer.nickname | default: "friend" }}; {{ customer.tags | join: "," }}; {{ instance.data.x | default: "no data" }}</p>`})
		e.template("sms_hi", kalcifer.ChannelSMS, kalcifer.TemplateContent{Body: "{{ customer.first_name }}: your {{ event.data.plan }} plan"})
		j := e.journey(true, g([]string{
			`in:event_entry:{"event_type":"go"}`,
			`byname:send_email:{"template_id":"welcome","reply_to":"help+{{ customer.id }}@example.com"}`,
			`byid:send_email:{"template_id":"` + welcome.ID + `","to":"{{ customer.work_email }}","from":"news@example.com"}`,
			`sms:send_sms:{"template_id":"sms_hi"}`,
			`push:send_push:{"title":"{{ event.data.plan }}","body":"Hey {{ customer.first_name }}","data":{"plan":"{{ event.data.plan }}","fixed":"1"}}`,
			`wa:send_whatsapp:{"whatsapp_template":{"name":"order_update","language":"en_US","params":["{{ customer.first_name }}","{{ event.data.plan | upcase }}"]}}`,
			`inline:send_whatsapp:{"body":"Free text for {{ customer.id }}","to":"+15550000000"}`,
		}, []string{"in->byname", "byname->byid", "byid->sms", "sms->push", "push->wa", "wa->inline"}, ""))
		e.profile("c1", map[string]any{"email": "ada@example.com", "work_email": "ada@work.example.com", "first_name": "Ada",
			"phone": "+14155550100", "push_token": "device-1"}, "vip", "beta")
		e.event("c1", "go", `{"plan":"pro"}`)
		e.drain()
		in := e.only(j, "c1")
		wantStatus(t, in, kalcifer.InstanceCompleted)

		m := rec.of("byname")[0].Email
		wantHTML := "<p>pro plan; j v1; " + in.ID + "; friend; vip,beta; no data</p>"
		if m.To != "ada@example.com" || m.Subject != "Hi Ada" || m.HTML != wantHTML || m.ReplyTo != "help+c1@example.com" || m.From != "" {
			t.Fatalf("by name: %+v", m)
		}
		if !strings.Contains(m.Text, "pro plan; j v1") {
			t.Fatalf("text from html = %q", m.Text)
		}
		if m := rec.of("byid")[0].Email; m.To != "ada@work.example.com" || m.From != "news@example.com" || m.Subject != "Hi Ada" {
			t.Fatalf("by id: %+v", m)
		}
		if s := rec.of("sms")[0].SMS; s.To != "+14155550100" || s.Body != "Ada: your pro plan" {
			t.Fatalf("sms: %+v", s)
		}
		if p := rec.of("push")[0].Push; p.Token != "device-1" || p.Title != "pro" || p.Body != "Hey Ada" || p.Data["plan"] != "pro" || p.Data["fixed"] != "1" {
			t.Fatalf("push: %+v", p)
		}
		if w := rec.of("wa")[0].WhatsApp; w.To != "+14155550100" || w.Template == nil || w.Template.Name != "order_update" ||
			w.Template.Language != "en_US" || strings.Join(w.Template.Params, ",") != "Ada,PRO" {
			t.Fatalf("whatsapp template: %+v %+v", w, w.Template)
		}
		if w := rec.of("inline")[0].WhatsApp; w.To != "+15550000000" || w.Body != "Free text for c1" || w.Template != nil {
			t.Fatalf("whatsapp text: %+v", w)
		}
		for _, s := range e.sends(in) {
			want := 0
			if s.NodeID == "byname" || s.NodeID == "byid" || s.NodeID == "sms" {
				want = 1
			}
			if s.Status != kalcifer.SendSent || s.TemplateVersion != want || (want == 1) != (s.TemplateID != "") {
				t.Fatalf("send %s: %s, template %q v%d", s.NodeID, s.Status, s.TemplateID, s.TemplateVersion)
			}
		}

		// A new version of the template is what the next send renders.
		if _, err := e.st.UpdateTemplate(e.ctx, store.UpdateTemplateParams{Actor: "test", TenantID: kalcifer.DefaultTenantID,
			TemplateID: welcome.ID, Content: kalcifer.TemplateContent{Subject: "Hello again {{ customer.first_name }}", Text: "v2"}}); err != nil {
			t.Fatal(err)
		}
		e.event("c1", "go", `{"plan":"pro"}`)
		e.drain()
		if got := rec.of("byname"); len(got) != 2 || got[1].Email.Subject != "Hello again Ada" || got[1].Email.Text != "v2" {
			t.Fatalf("after the update: %+v", got[len(got)-1].Email)
		}
		versions := map[int]int{}
		for _, in := range e.instances(j) {
			for _, s := range e.sends(in) {
				if s.NodeID == "byname" {
					versions[s.TemplateVersion]++
				}
			}
		}
		if versions[1] != 1 || versions[2] != 1 {
			t.Fatalf("template versions of the byname sends = %v, want one of v1 and one of v2", versions)
		}
	})
}
