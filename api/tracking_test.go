package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/secrets"
	"github.com/kalcifer/kalcifer/tracking"
)

// trackedGraph sends an email and waits for a click on it.
const trackedGraph = `{"nodes":[
	{"id":"entry","type":"event_entry","position":{"x":0,"y":0},"config":{"event_type":"signed_up"}},
	{"id":"mail","type":"send_email","position":{"x":0,"y":100},"config":{"subject":"Welcome","html":"<p>Hi</p>","to":"{{ customer.id }}@example.com"}},
	{"id":"wait","type":"wait_for_event","position":{"x":0,"y":200},"config":{"event_type":"email_clicked","timeout":"3d","filter":{"node_id":"mail"}}},
	{"id":"done","type":"journey_exit","position":{"x":0,"y":300}}],
	"edges":[{"id":"e1","source":"entry","target":"mail"},{"id":"e2","source":"mail","target":"wait"},
	{"id":"e3","source":"wait","branch":"event_received","target":"done"},
	{"id":"e4","source":"wait","branch":"timed_out","target":"done"}]}`

// get fetches path without following redirects.
func (tb *testBundle) get(path string) *http.Response {
	tb.t.Helper()
	c := *tb.srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := c.Get(tb.srv.URL + path)
	if err != nil {
		tb.t.Fatal(err)
	}
	tb.t.Cleanup(func() { res.Body.Close() })
	return res
}

// The pixel and a tracked link, fetched over real HTTP, record the send's
// delivery and become email_opened and email_clicked events that a
// wait_for_event sees; forged tokens record nothing and redirect nowhere.
func TestTrackingPixelAndLinks(t *testing.T) {
	tb := setup(t, withRuntime)
	j := tb.activeJourney("tracked", trackedGraph)
	tb.sendEvent(tb.editor, map[string]any{"customer_id": "ada", "event_type": "signed_up"})
	var in instanceDetail
	tb.eventually("the email is sent and the instance waits", func() bool {
		page := tb.instances(j.ID, "customer_id=ada")
		if len(page.Data) != 1 {
			return false
		}
		in = tb.instance(page.Data[0].ID)
		return len(in.Sends) == 1 && in.Sends[0].Status == kalcifer.SendLogged && len(in.Steps) >= 4
	})
	key := in.Sends[0].Key
	signer := tracking.NewSigner(tracking.Key(tb.store.Keyring()))
	forger := tracking.NewSigner(tracking.Key(secrets.Generate()))

	// A forged pixel still answers the GIF, and records nothing.
	for _, token := range []string{forger.Token(tracking.Open, tracking.Link{TenantID: "default", Key: key}), "garbage"} {
		res := tb.get("/t/o/" + token)
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "image/gif" ||
			res.Header.Get("Cache-Control") != "no-store" || !bytes.HasPrefix(body, []byte("GIF89a")) {
			t.Fatalf("pixel for %q: %d %v %q", token, res.StatusCode, res.Header, body)
		}
	}
	// A forged or changed click token is a 404, never a redirect.
	genuine := signer.Token(tracking.Click, tracking.Link{TenantID: "default", Key: key, URL: "https://example.com/landing?a=1"})
	payload, sig, _ := strings.Cut(genuine, ".")
	evil, _ := json.Marshal(tracking.Link{TenantID: "default", Key: key, URL: "https://evil.example/"})
	for _, token := range []string{
		forger.Token(tracking.Click, tracking.Link{TenantID: "default", Key: key, URL: "https://evil.example/"}),
		strings.TrimSuffix(payload, "=") + "x." + sig,
		string(evil) + "." + sig,
	} {
		res := tb.get("/t/c/" + token)
		if res.StatusCode != http.StatusNotFound || res.Header.Get("Location") != "" {
			t.Fatalf("forged click: %d, Location %q", res.StatusCode, res.Header.Get("Location"))
		}
	}
	if got := tb.instance(in.ID); got.Status != kalcifer.InstanceActive || got.Sends[0].Delivery != "" {
		t.Fatalf("after forged tokens: %s, delivery %q", got.Status, got.Sends[0].Delivery)
	}

	res := tb.get("/t/o/" + signer.Token(tracking.Open, tracking.Link{TenantID: "default", Key: key}))
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "image/gif" {
		t.Fatalf("pixel: %d", res.StatusCode)
	}
	tb.eventually("the open is recorded", func() bool { return tb.instance(in.ID).Sends[0].Delivery == "opened" })
	if got := tb.instance(in.ID); got.Status != kalcifer.InstanceActive {
		t.Fatalf("an open resumed a wait for a click: %s", got.Status)
	}

	res = tb.get("/t/c/" + genuine)
	if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "https://example.com/landing?a=1" {
		t.Fatalf("click: %d, Location %q", res.StatusCode, res.Header.Get("Location"))
	}
	tb.eventually("the click resumes the wait", func() bool { return tb.instance(in.ID).Status == kalcifer.InstanceExited })
	got := tb.instance(in.ID)
	if got.Sends[0].Delivery != "clicked" || got.Sends[0].DeliveryAt == nil {
		t.Fatalf("delivery = %q at %v, want clicked", got.Sends[0].Delivery, got.Sends[0].DeliveryAt)
	}
	if ids := nodeIDs(got.Steps); !strings.Contains(strings.Join(ids, " "), "wait done") {
		t.Fatalf("steps = %v", ids)
	}

	// Another tenant's token for this send records nothing.
	before := tb.countEvents()
	tb.get("/t/o/" + signer.Token(tracking.Open, tracking.Link{TenantID: "acme", Key: key}))
	tb.get("/t/o/" + signer.Token(tracking.Open, tracking.Link{TenantID: "default", Key: key})) // a repeat
	if after := tb.countEvents(); after != before {
		t.Fatalf("events %d → %d", before, after)
	}
}
