package metawhatsapp_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/channel"
	"github.com/kalcifer/kalcifer/channel/internal/providertest"
	"github.com/kalcifer/kalcifer/channel/metawhatsapp"
)

// statusWebhook is a messages webhook, shaped as Meta's reference shows
// it, with statuses of this number and of another number of the business
// account, and an incoming message.
const statusWebhook = `{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[
 {"field":"messages","value":{"messaging_product":"whatsapp",
  "metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},
  "statuses":[
   {"id":"wamid.A","status":"sent","timestamp":"1750263773","recipient_id":"14155550100","biz_opaque_callback_data":"ins_01:wa:1"},
   {"id":"wamid.A","status":"delivered","timestamp":"1750263774","recipient_id":"14155550100","biz_opaque_callback_data":"ins_01:wa:1",
    "conversation":{"id":"c1","origin":{"type":"utility"}},"pricing":{"billable":true,"pricing_model":"PMP","category":"utility"}},
   {"id":"wamid.A","status":"read","timestamp":"1750263780","recipient_id":"14155550100","biz_opaque_callback_data":"ins_01:wa:1"},
   {"id":"wamid.B","status":"failed","timestamp":"1750263790","recipient_id":"14155550199",
    "errors":[{"code":131026,"title":"Message undeliverable","message":"Message undeliverable","error_data":{"details":"Unable to deliver"}}]}]}},
 {"field":"messages","value":{"messaging_product":"whatsapp",
  "metadata":{"display_phone_number":"15550000000","phone_number_id":"999"},
  "statuses":[{"id":"wamid.OTHER","status":"delivered","timestamp":"1750263774","recipient_id":"1"}]}},
 {"field":"messages","value":{"messaging_product":"whatsapp",
  "metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},
  "messages":[{"from":"14155550100","id":"wamid.IN","timestamp":"1750263800","type":"text","text":{"body":"STOP"}}]}}]}]}`

func webhookRequest(body, sig string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "https://kalcifer.example/api/v1/providers/prv_1/callbacks", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if sig != "" {
		r.Header.Set(metawhatsapp.SignatureHeader, sig)
	}
	return r
}

func TestReadCallback(t *testing.T) {
	t.Parallel()
	p := newProvider(t, config(providertest.New(t)))
	got, err := p.ReadCallback(webhookRequest(statusWebhook, metawhatsapp.Signature(appSecret, []byte(statusWebhook))), []byte(statusWebhook), "")
	if err != nil {
		t.Fatalf("ReadCallback: %v", err)
	}
	want := []channel.Status{
		{Key: "ins_01:wa:1", MessageID: "wamid.A", Event: channel.StatusDelivered, At: time.Unix(1750263774, 0).UTC()},
		{Key: "ins_01:wa:1", MessageID: "wamid.A", Event: channel.StatusRead, At: time.Unix(1750263780, 0).UTC()},
		{MessageID: "wamid.B", Event: channel.StatusFailed, At: time.Unix(1750263790, 0).UTC(), Detail: "whatsapp error 131026 Message undeliverable"},
	}
	if len(got) != len(want) {
		t.Fatalf("statuses =\n%+v\nwant\n%+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("status %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

// TestSignatureVector: the signature is "sha256=" and the hex HMAC-SHA256
// of the raw body. The vector is GitHub's documented example of the same
// X-Hub-Signature-256 scheme, recomputed with Python's hmac module.
func TestSignatureVector(t *testing.T) {
	t.Parallel()
	got := metawhatsapp.Signature("It's a Secret to Everybody", []byte("Hello, World!"))
	if want := "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"; got != want {
		t.Errorf("Signature = %s, want %s", got, want)
	}
}

func TestReadCallbackRefusesForgeries(t *testing.T) {
	t.Parallel()
	p := newProvider(t, config(providertest.New(t)))
	sig := metawhatsapp.Signature(appSecret, []byte(statusWebhook))
	tampered := strings.Replace(statusWebhook, `"status":"failed"`, `"status":"delivered"`, 1)
	for name, c := range map[string]struct{ body, sig string }{
		"no signature":     {statusWebhook, ""},
		"tampered body":    {tampered, sig},
		"another secret":   {statusWebhook, metawhatsapp.Signature("not-the-secret", []byte(statusWebhook))},
		"no sha256 prefix": {statusWebhook, strings.TrimPrefix(sig, "sha256=")},
		"not hex":          {statusWebhook, "sha256=zz"},
	} {
		got, err := p.ReadCallback(webhookRequest(c.body, c.sig), []byte(c.body), "")
		if kalcifer.ErrorCode(err) != kalcifer.EUNAUTHORIZED || got != nil {
			t.Errorf("%s: ReadCallback = %v, %v; want an unauthorized error", name, got, err)
		}
	}

	cfg := config(providertest.New(t))
	cfg.AppSecret, cfg.VerifyToken = "", ""
	p = newProvider(t, cfg)
	if _, err := p.ReadCallback(webhookRequest(statusWebhook, sig), []byte(statusWebhook), ""); kalcifer.ErrorCode(err) != kalcifer.EUNAUTHORIZED || !strings.Contains(err.Error(), "app_secret") {
		t.Errorf("without an app secret: %v, want an unauthorized error naming app_secret", err)
	}
}

func TestReadCallbackBadBody(t *testing.T) {
	t.Parallel()
	p := newProvider(t, config(providertest.New(t)))
	body := `{"object":`
	_, err := p.ReadCallback(webhookRequest(body, metawhatsapp.Signature(appSecret, []byte(body))), []byte(body), "")
	if kalcifer.ErrorCode(err) != kalcifer.EINVALID {
		t.Errorf("ReadCallback = %v, want an invalid-request error", err)
	}
}

func TestVerifySubscription(t *testing.T) {
	t.Parallel()
	p := newProvider(t, config(providertest.New(t)))
	q := url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {"verify-me"}, "hub.challenge": {"1158201444"}}
	if challenge, ok := p.VerifySubscription(q); !ok || challenge != "1158201444" {
		t.Errorf("VerifySubscription = %q, %v; want the challenge", challenge, ok)
	}
	for name, edit := range map[string]func(url.Values){
		"wrong token":      func(q url.Values) { q.Set("hub.verify_token", "guess") },
		"no token":         func(q url.Values) { q.Del("hub.verify_token") },
		"wrong mode":       func(q url.Values) { q.Set("hub.mode", "unsubscribe") },
		"markup challenge": func(q url.Values) { q.Set("hub.challenge", "<script>") },
		"no challenge":     func(q url.Values) { q.Del("hub.challenge") },
	} {
		bad := url.Values{}
		for k, v := range q {
			bad[k] = v
		}
		edit(bad)
		if challenge, ok := p.VerifySubscription(bad); ok || challenge != "" {
			t.Errorf("%s: VerifySubscription = %q, %v; want refused", name, challenge, ok)
		}
	}
}
