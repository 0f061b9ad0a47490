package engine_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/channel"
	"github.com/kalcifer/kalcifer/channel/sendgrid"
	"github.com/kalcifer/kalcifer/engine"
	"github.com/kalcifer/kalcifer/store"
)

// keyRecorder is the email provider of the delivery tests: it accepts every
// send and remembers its key by customer and node, as a real provider
// carries the key to its event webhook.
type keyRecorder struct {
	mu   sync.Mutex
	keys map[string]string // "customer/node" → key
}

func (k *keyRecorder) Name() string { return "recorder" }

func (k *keyRecorder) Send(_ context.Context, m channel.Message) (channel.Result, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.keys[m.Customer["id"].(string)+"/"+m.NodeID] = m.Key
	return channel.Result{Detail: "recorder message " + m.Key}, nil
}

func (k *keyRecorder) key(t *testing.T, customer, node string) string {
	t.Helper()
	k.mu.Lock()
	defer k.mu.Unlock()
	key, ok := k.keys[customer+"/"+node]
	if !ok {
		t.Fatalf("no send of node %s to %s", node, customer)
	}
	return key
}

// withRecorder gives e a runtime whose email provider is a keyRecorder.
func withRecorder(e *env) *keyRecorder {
	k := &keyRecorder{keys: map[string]string{}}
	reg := channel.NewRegistry(map[string]channel.Provider{"email": k})
	e.rt = engine.New(engine.Config{Store: e.st, Clock: e.clock, Providers: reg})
	e.t.Cleanup(e.rt.Stop)
	return k
}

// sendgridAccount is a SendGrid account with the Signed Event Webhook on,
// and the private key SendGrid would sign with.
type sendgridAccount struct {
	priv     *ecdsa.PrivateKey
	provider *sendgrid.Provider
}

func newSendgridAccount(t *testing.T) sendgridAccount {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	p, err := sendgrid.New(sendgrid.Config{APIKey: "SG.k", From: "news@example.com",
		WebhookVerificationKey: base64.StdEncoding.EncodeToString(der)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return sendgridAccount{priv, p}
}

// deliver signs body as SendGrid does, reads it through the account's
// callback reader and records the statuses, as the callbacks route does.
func (a sendgridAccount) deliver(t *testing.T, e *env, tenant, body string) engine.RecordResult {
	t.Helper()
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	digest := sha256.Sum256([]byte(ts + body))
	sig, err := ecdsa.SignASN1(rand.Reader, a.priv, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodPost, "/api/v1/providers/sg/callbacks", strings.NewReader(body))
	r.Header.Set(sendgrid.SignatureHeader, base64.StdEncoding.EncodeToString(sig))
	r.Header.Set(sendgrid.TimestampHeader, ts)
	statuses, err := a.provider.ReadCallback(r, []byte(body), "")
	if err != nil {
		t.Fatalf("ReadCallback: %v", err)
	}
	res, err := e.rt.RecordDeliveries(e.ctx, tenant, "sg", statuses)
	if err != nil {
		t.Fatalf("RecordDeliveries: %v", err)
	}
	return res
}

func sgEvent(event, key string, at time.Time) string {
	return `{"email":"x@example.com","timestamp":` + strconv.FormatInt(at.Unix(), 10) + `,"event":"` + event +
		`","sg_message_id":"sg-` + key + `","kalcifer_key":"` + key + `"}`
}

// The end-to-end case: send_email → wait_for_event email_opened
// (2 s, narrowed to the send node) → two branches, with the open coming
// through the signed SendGrid event webhook. An open of another node's
// email does not count; a customer whose open never comes times out.
func TestEmailOpenedThroughSignedWebhook(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		rec := withRecorder(e)
		sg := newSendgridAccount(t)
		j := e.journey(false, g([]string{
			`in:event_entry:{"event_type":"signed_up"}`,
			`intro:send_email:{"subject":"Intro","text":"Hi","to":"{{ customer.id }}@example.com"}`,
			`mail:send_email:{"subject":"Welcome","text":"Hi","to":"{{ customer.id }}@example.com"}`,
			`w:wait_for_event:{"event_type":"email_opened","timeout":"2s","filter":{"node_id":"mail"}}`,
			`hot:add_tag:{"tag":"engaged"}`,
			`cold:add_tag:{"tag":"cold"}`,
		}, []string{"in->intro", "intro->mail", "mail->w", "w-event_received->hot", "w-timed_out->cold"}, ""))
		e.event("a", "signed_up", "")
		e.event("b", "signed_up", "")
		e.drain()
		a := e.only(j, "a")
		wantStatus(t, a, kalcifer.InstanceActive)

		// An open of the intro email is an email_opened, but not of node mail.
		intro := rec.key(t, "a", "intro")
		if res := sg.deliver(t, e, kalcifer.DefaultTenantID, `[`+sgEvent("open", intro, e.clock.Now())+`]`); res.Recorded != 1 {
			t.Fatalf("intro open: %+v", res)
		}
		e.drain()
		wantStatus(t, e.only(j, "a"), kalcifer.InstanceActive)

		key := rec.key(t, "a", "mail")
		res := sg.deliver(t, e, kalcifer.DefaultTenantID, `[`+sgEvent("delivered", key, e.clock.Now())+`,`+sgEvent("open", key, e.clock.Now())+`]`)
		if res != (engine.RecordResult{Recorded: 2}) {
			t.Fatalf("delivered+open: %+v", res)
		}
		e.drain()
		e.clock.advance(2 * time.Second)
		e.drain()

		a, b := e.only(j, "a"), e.only(j, "b")
		wantStatus(t, a, kalcifer.InstanceCompleted)
		wantStatus(t, b, kalcifer.InstanceCompleted)
		if got := e.trail(a); got != "in=default intro=waiting intro=default mail=waiting mail=default w=waiting w=event_received hot=default" {
			t.Fatalf("a: %q", got)
		}
		if got := e.trail(b); got != "in=default intro=waiting intro=default mail=waiting mail=default w=waiting w=timed_out cold=default" {
			t.Fatalf("b: %q", got)
		}
		if !slices.Equal(e.customer("a").Tags, []string{"engaged"}) || !slices.Equal(e.customer("b").Tags, []string{"cold"}) {
			t.Fatalf("tags a=%v b=%v", e.customer("a").Tags, e.customer("b").Tags)
		}
		for _, s := range e.sends(a) {
			if s.NodeID == "mail" && (s.Delivery != channel.StatusOpened || s.DeliveryAt == nil) {
				t.Fatalf("mail's ledger row: delivery %q at %v, want opened", s.Delivery, s.DeliveryAt)
			}
		}
	})
}

// The ledger keeps the furthest status; repeats of a webhook make no second
// event; unknown keys and other tenants' sends are counted and ignored.
func TestRecordDeliveries(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		rec := withRecorder(e)
		sg := newSendgridAccount(t)
		if _, _, err := e.st.EnsureTenant(e.ctx, "test", "other"); err != nil {
			t.Fatal(err)
		}
		j := e.journey(false, g([]string{`in:event_entry:{"event_type":"go"}`, `mail:send_email:{"subject":"Hi","text":"Hi","to":"{{ customer.id }}@example.com"}`},
			[]string{"in->mail"}, ""))
		e.event("c", "go", "")
		e.drain()
		key := rec.key(t, "c", "mail")
		delivery := func() string {
			t.Helper()
			s := e.sends(e.only(j, "c"))
			if len(s) != 1 {
				t.Fatalf("%d sends", len(s))
			}
			return s[0].Delivery + "/" + s[0].DeliveryDetail
		}
		now := e.clock.Now()

		click := `{"timestamp":` + strconv.FormatInt(now.Unix(), 10) + `,"event":"click","url":"https://example.com/x","kalcifer_key":"` + key + `"}`
		if res := sg.deliver(t, e, kalcifer.DefaultTenantID, `[`+click+`,`+sgEvent("open", key, now)+`]`); res != (engine.RecordResult{Recorded: 2}) {
			t.Fatalf("click+open: %+v", res)
		}
		if got := delivery(); got != "clicked/" {
			t.Fatalf("after click then open: %q, want clicked", got)
		}
		bounce := `{"timestamp":1,"event":"bounce","reason":"550 gone","kalcifer_key":"` + key + `"}`
		sg.deliver(t, e, kalcifer.DefaultTenantID, `[`+bounce+`]`)
		sg.deliver(t, e, kalcifer.DefaultTenantID, `[`+sgEvent("delivered", key, now)+`]`)
		if got := delivery(); got != "bounced/550 gone" {
			t.Fatalf("after bounce then delivered: %q, want bounced", got)
		}

		// The provider retries the whole webhook: nothing new.
		res := sg.deliver(t, e, kalcifer.DefaultTenantID, `[`+click+`,`+sgEvent("open", key, now)+`]`)
		if res != (engine.RecordResult{Duplicates: 2}) {
			t.Fatalf("retried webhook: %+v", res)
		}
		// Unknown keys, and this tenant's key named by another tenant.
		res = sg.deliver(t, e, "other", `[`+sgEvent("open", key, now)+`,`+sgEvent("open", "nope", now)+`]`)
		if res != (engine.RecordResult{Unknown: 2}) {
			t.Fatalf("other tenant: %+v", res)
		}
		if res := sg.deliver(t, e, kalcifer.DefaultTenantID, `[`+sgEvent("open", "nope", now)+`]`); res != (engine.RecordResult{Unknown: 1}) {
			t.Fatalf("unknown key: %+v", res)
		}

		e.drain()
		var types []string
		var data map[string]any
		err := e.st.WithEngineTx(e.ctx, func(tx *store.EngineTx) error {
			rows, err := tx.Tx().Query(e.ctx, `SELECT event_type, data FROM events WHERE tenant_id = $1 AND customer_id = $2`,
				kalcifer.DefaultTenantID, "c")
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var typ, raw string
				if err := rows.Scan(&typ, &raw); err != nil {
					return err
				}
				types = append(types, typ)
				if typ == "email_clicked" {
					if err := json.Unmarshal([]byte(raw), &data); err != nil {
						return err
					}
				}
			}
			return rows.Err()
		})
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(types)
		if want := []string{"email_bounced", "email_clicked", "email_delivered", "email_opened", "go"}; !slices.Equal(types, want) {
			t.Fatalf("events %v, want %v", types, want)
		}
		in := e.only(j, "c")
		if data["journey_id"] != j || data["node_id"] != "mail" || data["instance_id"] != in.ID || data["send_key"] != key ||
			data["url"] != "https://example.com/x" || data["version"] != float64(1) {
			t.Fatalf("email_clicked data = %v", data)
		}
	})
}
