package vonage_test

import (
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/channel"
	"github.com/kalcifer/kalcifer/channel/internal/providertest"
	"github.com/kalcifer/kalcifer/channel/vonage"
)

const (
	apiKey    = "abcd1234"
	apiSecret = "vonage-api-secret"
	callback  = "https://kalcifer.example/api/v1/providers/prv_1/callbacks"
	cbToken   = "tok_0123456789abcdef"
	accepted  = `{"message-count":"1","messages":[{"to":"14155550100","message-id":"0A0000000123ABCD1","status":"0","remaining-balance":"3.14159265","message-price":"0.03330000","network":"12345","client-ref":"ins_01:remind:1"}]}`
	problem   = `{"type":"https://developer.vonage.com/api-errors#invalid-params","title":"Invalid request","detail":"The request failed due to validation errors","instance":"bf0ca0bf927b3b52e3cb03217e1a1ddf"}`
)

func config(s *providertest.Server) vonage.Config {
	return vonage.Config{APIKey: apiKey, APISecret: apiSecret, From: "Kalcifer", StatusCallbackURL: callback, CallbackToken: cbToken, BaseURL: s.URL}
}

func newProvider(t *testing.T, cfg vonage.Config) *vonage.Provider {
	t.Helper()
	p, err := vonage.New(cfg, providertest.Client())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

func message() channel.Message {
	return channel.Message{
		Key: "ins_01:remind:1", TenantID: "t1", InstanceID: "ins_01", NodeID: "remind", NodeType: "send_sms",
		Channel: "sms", Attempt: 1, SMS: &channel.SMS{To: "+14155550100", Body: "Hi Ada, your order #42 shipped."},
	}
}

// form checks the request line and content type against the SMS API
// reference and returns the form.
func form(t *testing.T, s *providertest.Server) map[string]string {
	t.Helper()
	r := s.Last(t)
	if r.Method != http.MethodPost || r.Path != "/sms/json" {
		t.Errorf("request = %s %s, want POST /sms/json", r.Method, r.Path)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		t.Errorf("Content-Type = %q", ct)
	}
	f, err := url.ParseQuery(string(r.Body))
	if err != nil {
		t.Fatalf("body is not form-encoded: %v", err)
	}
	flat := map[string]string{}
	for k, v := range f {
		flat[k] = strings.Join(v, ",")
	}
	return flat
}

func TestSendRequest(t *testing.T) {
	t.Parallel()
	s := providertest.New(t)
	s.Play(providertest.JSON(http.StatusOK, accepted))
	p := newProvider(t, config(s))
	res, err := p.Send(t.Context(), message())
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if res.Detail != "vonage message 0A0000000123ABCD1" {
		t.Errorf("Detail = %q", res.Detail)
	}
	want := map[string]string{
		"api_key": apiKey, "api_secret": apiSecret, "from": "Kalcifer", "to": "14155550100",
		"text": "Hi Ada, your order #42 shipped.", "type": "text", "client-ref": "ins_01:remind:1",
		"callback": callback + "?kalcifer_token=" + cbToken,
	}
	if got := form(t, s); !reflect.DeepEqual(got, want) {
		t.Errorf("form =\n%v\nwant\n%v", got, want)
	}
}

// TestSendUnicode: text outside the GSM alphabet goes as type=unicode;
// GSM's own accents and extension characters do not.
func TestSendUnicode(t *testing.T) {
	t.Parallel()
	s := providertest.New(t)
	s.Play(providertest.JSON(http.StatusOK, accepted))
	cfg := config(s)
	cfg.StatusCallbackURL, cfg.From = "", "+15005550006"
	p := newProvider(t, cfg)
	for body, typ := range map[string]string{"Grüße, Élodie! {€5}": "text", "こんにちは": "unicode", "Olá 🎉": "unicode"} {
		m := message()
		m.SMS.Body = body
		if _, err := p.Send(t.Context(), m); err != nil {
			t.Fatalf("Send: %v", err)
		}
		f := form(t, s)
		if f["type"] != typ || f["text"] != body || f["from"] != "15005550006" {
			t.Errorf("%q: type=%s text=%q from=%s, want type %s", body, f["type"], f["text"], f["from"], typ)
		}
		if _, ok := f["callback"]; ok {
			t.Errorf("callback sent without status_callback_url")
		}
	}
}

func TestSendOutcomes(t *testing.T) {
	t.Parallel()
	s := providertest.New(t)
	p := newProvider(t, config(s))
	providertest.Outcomes(t, s, func() error {
		_, err := p.Send(t.Context(), message())
		return err
	}, problem, "Invalid request: The request failed due to validation errors")
}

// TestMessageStatuses: the SMS API answers 200 with a status per part.
func TestMessageStatuses(t *testing.T) {
	t.Parallel()
	part := func(status, text string) string {
		return `{"status":"` + status + `","error-text":"` + text + `"}`
	}
	ok := `{"to":"14155550100","message-id":"0A01","status":"0"}`
	for _, c := range []struct {
		name  string
		parts string
		want  channel.Outcome
		msg   string
	}{
		{"throttled", part("1", "Throttled"), channel.OutcomeRetry, "status 1 Throttled"},
		{"internal error", part("5", "Internal Error"), channel.OutcomeRetry, "status 5"},
		{"too many binds", part("10", "Too Many Existing Binds"), channel.OutcomeRetry, "status 10"},
		{"missing params", part("2", "Missing to param"), channel.OutcomeFailed, "Missing to param"},
		{"bad credentials", part("4", "Bad Credentials"), channel.OutcomeFailed, "status 4"},
		{"barred", part("7", "Number barred"), channel.OutcomeFailed, "status 7"},
		{"no credit", part("9", "Partner quota violation"), channel.OutcomeFailed, "status 9"},
		{"invalid sender", part("15", "Illegal Sender Address - rejected"), channel.OutcomeFailed, "status 15"},
		{"partly accepted", ok + "," + part("1", "Throttled"), channel.OutcomeFailed, "accepted 1 of 2 parts"},
		{"two parts sent", ok + "," + ok, channel.OutcomeSent, ""},
	} {
		s := providertest.New(t)
		p := newProvider(t, config(s))
		s.Play(providertest.JSON(http.StatusOK, `{"message-count":"1","messages":[`+c.parts+`]}`))
		_, err := p.Send(t.Context(), message())
		got, _ := channel.Classify(err)
		if got != c.want || (err != nil && !strings.Contains(err.Error(), c.msg)) {
			t.Errorf("%s: outcome %v (%v), want %v with %q", c.name, got, err, c.want, c.msg)
		}
	}
	s := providertest.New(t)
	p := newProvider(t, config(s))
	s.Play(providertest.JSON(http.StatusOK, `{"message-count":"0","messages":[]}`))
	_, err := p.Send(t.Context(), message())
	providertest.Expect(t, err, channel.OutcomeAmbiguous, 0, 0)
}

func TestBadMessagesAreNotSent(t *testing.T) {
	t.Parallel()
	s := providertest.New(t)
	p := newProvider(t, config(s))
	for name, edit := range map[string]func(*channel.Message){
		"no sms":        func(m *channel.Message) { m.SMS = nil },
		"whatsapp":      func(m *channel.Message) { m.Channel = "whatsapp" },
		"bad number":    func(m *channel.Message) { m.SMS.To = "07700900000" },
		"empty body":    func(m *channel.Message) { m.SMS.Body = "" },
		"long sender":   func(m *channel.Message) { m.SMS.From = "KalciferNews" },
		"long key":      func(m *channel.Message) { m.Key = strings.Repeat("k", 101) },
		"sender breaks": func(m *channel.Message) { m.SMS.From = "a\nb" },
	} {
		m := message()
		edit(&m)
		_, err := p.Send(t.Context(), m)
		providertest.Expect(t, err, channel.OutcomeFailed, 0, 0)
		if err == nil || !strings.HasPrefix(err.Error(), "vonage: ") {
			t.Errorf("%s: error %v", name, err)
		}
	}
	if n := len(s.Requests()); n != 0 {
		t.Errorf("server got %d requests, want none", n)
	}
}

func TestConfigCheck(t *testing.T) {
	t.Parallel()
	good := vonage.Config{APIKey: apiKey, APISecret: apiSecret, From: "Kalcifer"}
	if err := good.Check(); err != nil {
		t.Fatalf("good config: %v", err)
	}
	for _, c := range []struct {
		name string
		edit func(*vonage.Config)
		want string
	}{
		{"no key", func(c *vonage.Config) { c.APIKey = "" }, "api_key is required"},
		{"no secret", func(c *vonage.Config) { c.APISecret = "" }, "api_secret is required"},
		{"no from", func(c *vonage.Config) { c.From = "" }, "from: a sender is required"},
		{"bad from", func(c *vonage.Config) { c.From = "+0123" }, "from"},
		{"bad method", func(c *vonage.Config) { c.SignatureMethod, c.SignatureSecret = "sha384", "s" }, "signature_method"},
		{"method without secret", func(c *vonage.Config) { c.SignatureMethod = "sha256" }, "signature_secret"},
		{"short token", func(c *vonage.Config) { c.CallbackToken = "abc" }, "callback_token"},
		{"bad callback", func(c *vonage.Config) { c.StatusCallbackURL = "callbacks" }, "status_callback_url"},
		{"long callback", func(c *vonage.Config) {
			c.StatusCallbackURL, c.CallbackToken = "https://kalcifer.example/api/v1/providers/prv_0123456789abcdef/callbacks", cbToken
		}, "at most 100"},
		{"bad base url", func(c *vonage.Config) { c.BaseURL = "rest.nexmo.com" }, "base_url"},
	} {
		cfg := good
		c.edit(&cfg)
		err := cfg.Check()
		if kalcifer.ErrorCode(err) != kalcifer.EUNPROCESSABLE || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Check = %v, want an unprocessable error naming %q", c.name, err, c.want)
		}
		if _, err := vonage.New(cfg, nil); err == nil {
			t.Errorf("%s: New accepted the config", c.name)
		}
	}
}
