package postmark_test

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/channel"
	"github.com/kalcifer/kalcifer/channel/postmark"
)

const (
	hookUser = "kalcifer"
	hookPass = "s3cret-webhook-password"
)

func callbackProvider(t *testing.T, user, pass string) *postmark.Provider {
	t.Helper()
	p, err := postmark.New(postmark.Config{ServerToken: "tok", From: "a@example.com", WebhookUsername: user, WebhookPassword: pass}, nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

func post(body, user, pass string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/api/v1/providers/p/callbacks", strings.NewReader(body))
	if user != "" || pass != "" {
		r.SetBasicAuth(user, pass)
	}
	return r
}

// Bodies in the shapes of Postmark's webhook reference.
func TestReadCallbackMapsRecordTypes(t *testing.T) {
	t.Parallel()
	p := callbackProvider(t, hookUser, hookPass)
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	cases := map[string]struct {
		body string
		want []channel.Status
	}{
		"delivery": {`{"RecordType":"Delivery","ServerID":23,"MessageStream":"outbound","MessageID":"m1","Recipient":"a@example.com","Tag":"","DeliveredAt":"2026-03-02T09:00:00Z","Details":"Test delivery webhook details","Metadata":{"kalcifer_key":"k1","n":43}}`,
			[]channel.Status{{Key: "k1", MessageID: "m1", Event: channel.StatusDelivered, At: at, Detail: "Test delivery webhook details"}}},
		"bounce": {`{"RecordType":"Bounce","ID":42,"Type":"HardBounce","TypeCode":1,"Name":"Hard bounce","MessageID":"m1","Description":"The server was unable to deliver your message","Details":"x","Email":"a@example.com","BouncedAt":"2026-03-02T04:00:00-05:00","Inactive":true,"Metadata":{"kalcifer_key":"k1"}}`,
			[]channel.Status{{Key: "k1", MessageID: "m1", Event: channel.StatusBounced, At: at, Detail: "HardBounce: The server was unable to deliver your message"}}},
		"spam": {`{"RecordType":"SpamComplaint","MessageID":"m1","BouncedAt":"2026-03-02T09:00:00Z","Metadata":{"kalcifer_key":"k1"}}`,
			[]channel.Status{{Key: "k1", MessageID: "m1", Event: channel.StatusComplained, At: at}}},
		"open": {`{"RecordType":"Open","FirstOpen":true,"MessageID":"m1","ReceivedAt":"2026-03-02T09:00:00Z","Platform":"WebMail","Metadata":{"kalcifer_key":"k1"}}`,
			[]channel.Status{{Key: "k1", MessageID: "m1", Event: channel.StatusOpened, At: at}}},
		"click": {`{"RecordType":"Click","ClickLocation":"HTML","OriginalLink":"https://example.com/buy","MessageID":"m1","ReceivedAt":"2026-03-02T09:00:00Z","Metadata":{"kalcifer_key":"k1"}}`,
			[]channel.Status{{Key: "k1", MessageID: "m1", Event: channel.StatusClicked, At: at, URL: "https://example.com/buy"}}},
		"unsubscribe": {`{"RecordType":"SubscriptionChange","MessageID":"m1","ChangedAt":"2026-03-02T09:00:00Z","SuppressSending":true,"SuppressionReason":"ManualSuppression","Metadata":{"kalcifer_key":"k1"}}`,
			[]channel.Status{{Key: "k1", MessageID: "m1", Event: channel.StatusUnsubscribed, At: at}}},
		"resubscribe": {`{"RecordType":"SubscriptionChange","MessageID":"m1","SuppressSending":false}`, nil},
		"inbound":     {`{"RecordType":"Inbound","MessageID":"m1"}`, nil},
	}
	for name, c := range cases {
		got, err := p.ReadCallback(post(c.body, hookUser, hookPass), []byte(c.body), "")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", name, got, c.want)
		}
	}
}

func TestReadCallbackRefusesWrongCredentials(t *testing.T) {
	t.Parallel()
	body := `{"RecordType":"Open","MessageID":"m1","Metadata":{"kalcifer_key":"k1"}}`
	cases := map[string]struct {
		p          *postmark.Provider
		user, pass string
		code, msg  string
	}{
		"no credentials":      {callbackProvider(t, hookUser, hookPass), "", "", kalcifer.EUNAUTHORIZED, "missing or wrong"},
		"wrong password":      {callbackProvider(t, hookUser, hookPass), hookUser, hookPass + "x", kalcifer.EUNAUTHORIZED, "missing or wrong"},
		"wrong user":          {callbackProvider(t, hookUser, hookPass), "other", hookPass, kalcifer.EUNAUTHORIZED, "missing or wrong"},
		"account without any": {callbackProvider(t, "", ""), hookUser, hookPass, kalcifer.EUNAUTHORIZED, "no webhook_username"},
	}
	for name, c := range cases {
		got, err := c.p.ReadCallback(post(body, c.user, c.pass), []byte(body), "")
		if kalcifer.ErrorCode(err) != c.code || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: %v (%v), want %s %q", name, err, got, c.code, c.msg)
		}
	}
	_, err := callbackProvider(t, hookUser, hookPass).ReadCallback(post("[1]", hookUser, hookPass), []byte("[1]"), "")
	if kalcifer.ErrorCode(err) != kalcifer.EINVALID {
		t.Errorf("not an object: %v", err)
	}
	for _, cfg := range []postmark.Config{{WebhookUsername: "u"}, {WebhookPassword: hookPass}, {WebhookUsername: "u:x", WebhookPassword: hookPass},
		{WebhookUsername: "u", WebhookPassword: "short"}} {
		cfg.ServerToken, cfg.From = "tok", "a@example.com"
		if err := cfg.Check(); kalcifer.ErrorCode(err) != kalcifer.EUNPROCESSABLE {
			t.Errorf("%+v: %v", cfg, err)
		}
	}
}
