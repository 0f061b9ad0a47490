package engine_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/api"
	"github.com/kalcifer/kalcifer/channel"
	"github.com/kalcifer/kalcifer/channel/webhook"
	"github.com/kalcifer/kalcifer/designer"
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
			`byid:send_email:{"template_id":"` + welcome.ID + `","to":"{{ customer.work_email }}","from":"news@example.com","subject":"Just for {{ customer.first_name }}"}`,
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
		if m := rec.of("byid")[0].Email; m.To != "ada@work.example.com" || m.From != "news@example.com" || m.Subject != "Just for Ada" || !strings.Contains(m.HTML, "pro plan") {
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

// A send that cannot render fails for good, with a reason naming what was
// missing, on the instance and on the send; the node's failed branch is
// taken when it has one. Render limits fail it the same way.
func TestRenderFailures(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		rec := renderRuntime(e, "", liquid.Limits{MaxOutputBytes: 300, MaxIterations: 1000, MaxItems: 1000, Timeout: time.Second})
		withBranch := e.journey(false, g([]string{
			`in:event_entry:{"event_type":"go"}`,
			`mail:send_email:{"subject":"Hi {{ customer.first_name }}","text":"x","to":"a@example.com"}`,
			`ok:add_tag:{"tag":"mailed"}`,
			`bad:add_tag:{"tag":"mail_failed"}`,
		}, []string{"in->mail", "mail->ok", "mail-failed->bad"}, ""))
		noBranch := e.journey(false, g([]string{
			`in:event_entry:{"event_type":"sms"}`,
			`sms:send_sms:{"body":"{{ event.data.code }}"}`,
			`after:add_tag:{"tag":"went_on"}`,
		}, []string{"in->sms", "sms->after"}, ""))
		missingTemplate := e.journey(false, g([]string{
			`in:event_entry:{"event_type":"tpl"}`,
			`nt:send_email:{"template_id":"nowhere"}`,
		}, []string{"in->nt"}, ""))
		tooLong := e.journey(false, g([]string{
			`in:event_entry:{"event_type":"long"}`,
			`long:send_email:{"subject":"s","html":"{% for i in (1..100) %}0123456789{% endfor %}","to":"a@example.com"}`,
		}, []string{"in->long"}, ""))
		noEmail := e.journey(false, g([]string{
			`in:event_entry:{"event_type":"noemail"}`,
			`ne:send_email:{"subject":"s","text":"t"}`,
		}, []string{"in->ne"}, ""))
		e.profile("named", map[string]any{"first_name": "Ada", "phone": "+1555"})
		e.profile("anon", map[string]any{"phone": "+1555"})
		for _, c := range []string{"named", "anon"} {
			e.event(c, "go", `{}`)
		}
		e.event("anon", "sms", `{}`)
		e.event("anon", "tpl", `{}`)
		e.event("anon", "long", `{}`)
		e.event("anon", "noemail", `{}`)
		e.drain()

		if got := e.customer("named").Tags; len(got) != 1 || got[0] != "mailed" {
			t.Fatalf("named took %v, want mailed", got)
		}
		anon := e.only(withBranch, "anon")
		if got := e.customer("anon").Tags; !slices.Contains(got, "mail_failed") || slices.Contains(got, "mailed") {
			t.Fatalf("anon took %v, want mail_failed", got)
		}
		if s := e.sends(anon)[0]; s.Status != kalcifer.SendFailed || !strings.Contains(s.Detail, "customer.first_name") {
			t.Fatalf("send = %s %q, want failed naming customer.first_name", s.Status, s.Detail)
		}
		in := e.only(noBranch, "anon")
		wantStatus(t, in, kalcifer.InstanceCompleted)
		if !strings.Contains(in.Reason, "event.data.code") || !slices.Contains(e.customer("anon").Tags, "went_on") {
			t.Fatalf("reason %q, tags %v: want the missing variable named and the path gone on", in.Reason, e.customer("anon").Tags)
		}
		for journey, want := range map[string]string{missingTemplate: `no template has the id or name "nowhere"`,
			tooLong: "longer than 300 bytes", noEmail: "the customer has no email attribute"} {
			in := e.only(journey, "anon")
			if s := e.sends(in)[0]; s.Status != kalcifer.SendFailed || !strings.Contains(s.Detail, want) || !strings.Contains(in.Reason, want) {
				t.Errorf("send %s: %s %q, instance %q; want failed with %q", s.NodeID, s.Status, s.Detail, in.Reason, want)
			}
		}
		if n := len(rec.of("mail")); n != 1 {
			t.Fatalf("%d messages of mail reached the provider, want only named's", n)
		}
		for _, node := range []string{"sms", "nt", "long", "ne"} {
			if n := len(rec.of(node)); n != 0 {
				t.Fatalf("%d messages of %s reached the provider", n, node)
			}
		}
	})
}

// An email carries a signed unsubscribe link in its body and headers; the
// public route shows a page on GET, refuses a forged token, and on POST
// marks the customer unsubscribed from email, visible on the profile. The
// next email is skipped — recorded, never sent — and the path goes on.
func TestUnsubscribe(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		srv := httptest.NewServer(api.NewHandler(api.Config{Store: e.st, Designer: designer.NewService(designer.Config{Store: e.st})}))
		t.Cleanup(srv.Close)
		rec := renderRuntime(e, srv.URL+"/", liquid.Limits{})
		j := e.journey(true, g([]string{
			`in:event_entry:{"event_type":"go"}`,
			`mail:send_email:{"subject":"News","html":"<p>News</p><a href=\"{{ unsubscribe_url }}\">Unsubscribe</a>"}`,
			`sms:send_sms:{"body":"still texting"}`,
		}, []string{"in->mail", "mail->sms"}, ""))
		e.profile("c", map[string]any{"email": "c@example.com", "phone": "+1555"})
		e.event("c", "go", `{}`)
		e.drain()
		m := rec.of("mail")[0].Email
		link := strings.TrimSuffix(strings.TrimPrefix(m.Headers["List-Unsubscribe"], "<"), ">")
		if !strings.HasPrefix(link, srv.URL+"/u/") || m.Headers["List-Unsubscribe-Post"] != "List-Unsubscribe=One-Click" ||
			!strings.Contains(m.HTML, `href="`+link+`"`) {
			t.Fatalf("email = %+v", m)
		}

		get := func(u string) (int, string) {
			res, err := http.Get(u)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			return res.StatusCode, string(b)
		}
		post := func(u string) (int, string) {
			res, err := http.Post(u, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			return res.StatusCode, string(b)
		}
		if code, page := get(link); code != http.StatusOK || !strings.Contains(page, `<form method="post">`) {
			t.Fatalf("GET = %d %s", code, page)
		}
		unsubscribed := func() any { return e.customer("c").Attributes["unsubscribed_email"] }
		if v := unsubscribed(); v != nil {
			t.Fatalf("GET unsubscribed the customer: %v", v)
		}
		// Forged: another customer's payload under c's MAC, and a token
		// signed with another key.
		token := strings.TrimPrefix(link, srv.URL+"/u/")
		_, sig, _ := strings.Cut(token, ".")
		other := channel.UnsubscribeToken([]byte("another key"), channel.Unsubscribe{TenantID: "default", CustomerID: "c", Channel: "email"})
		otherPayload, _, _ := strings.Cut(channel.UnsubscribeToken([]byte("k"), channel.Unsubscribe{TenantID: "default", CustomerID: "d", Channel: "email"}), ".")
		for _, forged := range []string{other, otherPayload + "." + sig, token + "x", "nonsense"} {
			if code, _ := post(srv.URL + "/u/" + url.PathEscape(forged)); code != http.StatusBadRequest {
				t.Fatalf("forged token %q: %d, want 400", forged, code)
			}
		}
		if v := unsubscribed(); v != nil {
			t.Fatalf("a forged token unsubscribed the customer: %v", v)
		}
		if code, page := post(link); code != http.StatusOK || !strings.Contains(page, "You are unsubscribed") {
			t.Fatalf("POST = %d %s", code, page)
		}
		if v := unsubscribed(); v != true {
			t.Fatalf("unsubscribed_email = %v after the one-click POST", v)
		}

		e.event("c", "go", `{}`)
		e.drain()
		if n := len(rec.of("mail")); n != 1 {
			t.Fatalf("%d emails sent, want 1: the unsubscribed customer got another", n)
		}
		if n := len(rec.of("sms")); n != 2 {
			t.Fatalf("%d text messages, want 2: the path did not go on after the skipped email", n)
		}
		var skipped int
		for _, in := range e.instances(j) {
			wantStatus(t, in, kalcifer.InstanceCompleted)
			for _, s := range e.sends(in) {
				if s.Status == kalcifer.SendSkipped {
					skipped++
					if !strings.Contains(s.Detail, "unsubscribed from email") || in.Reason != "" {
						t.Fatalf("skipped send %q, instance reason %q", s.Detail, in.Reason)
					}
				}
			}
		}
		if skipped != 1 {
			t.Fatalf("%d sends skipped, want 1", skipped)
		}
	})
}

// call_webhook's URL, header values and body strings are Liquid; signing
// and the idempotency key stay; a URL that renders to nonsense fails the
// send for good.
func TestWebhookTemplated(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		type call struct {
			path, query, header, key, sig, ts string
			body                              []byte
		}
		var mu sync.Mutex
		var calls []call
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			mu.Lock()
			calls = append(calls, call{r.URL.Path, r.URL.RawQuery, r.Header.Get("X-Customer"), r.Header.Get("Idempotency-Key"),
				r.Header.Get("X-Kalcifer-Signature"), r.Header.Get("X-Kalcifer-Timestamp"), b})
			mu.Unlock()
		}))
		t.Cleanup(srv.Close)
		renderRuntime(e, "", liquid.Limits{})
		j := e.journey(false, g([]string{
			`in:event_entry:{"event_type":"go"}`,
			`hook:call_webhook:{"url":` + jsonString(srv.URL+`/users/{{ customer.id }}?plan={{ event.data.plan }}`) + `,` +
				`"headers":{"X-Customer":"{{ customer.first_name }}"},` +
				`"body":{"greeting":"Hi {{ customer.first_name }}","nested":{"journey":"{{ journey.name }}","list":["{{ event.data.plan }}",2]},"n":3}}`,
			`bad:call_webhook:{"url":"http://{{ customer.host }}/x"}`,
		}, []string{"in->hook", "hook->bad"}, ""))
		e.profile("c1", map[string]any{"first_name": "Ada", "host": "bad host name"})
		e.event("c1", "go", `{"plan":"pro"}`)
		e.drain()
		in := e.only(j, "c1")
		if len(calls) != 1 {
			t.Fatalf("%d calls, want 1 (the bad URL must not be called)", len(calls))
		}
		c := calls[0]
		if c.path != "/users/c1" || c.query != "plan=pro" || c.header != "Ada" || c.key != engine.SendKey(in.ID, "hook", 1) {
			t.Fatalf("call = %+v", c)
		}
		secret, _ := e.st.WebhookSecret(e.ctx, kalcifer.DefaultTenantID)
		if !webhook.Verify(secret, c.ts, c.sig, c.body) {
			t.Fatal("the templated call's signature does not verify")
		}
		var body map[string]any
		if err := json.Unmarshal(c.body, &body); err != nil {
			t.Fatal(err)
		}
		nested, _ := body["nested"].(map[string]any)
		list, _ := nested["list"].([]any)
		if body["greeting"] != "Hi Ada" || nested["journey"] != "j" || len(list) != 2 || list[0] != "pro" || list[1] != 2.0 || body["n"] != 3.0 {
			t.Fatalf("body = %s", c.body)
		}
		sends := e.sends(in)
		i := slices.IndexFunc(sends, func(s kalcifer.Send) bool { return s.NodeID == "bad" })
		if s := sends[i]; i < 0 || s.Status != kalcifer.SendFailed || !strings.Contains(s.Detail, `config.url rendered to "http://bad host name/x"`) {
			t.Fatalf("bad send = %s %q", s.Status, s.Detail)
		}
	})
}
