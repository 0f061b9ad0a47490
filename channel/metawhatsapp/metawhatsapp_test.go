package metawhatsapp_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/channel"
	"github.com/kalcifer/kalcifer/channel/internal/providertest"
	"github.com/kalcifer/kalcifer/channel/metawhatsapp"
)

const (
	accessToken = "EAAG-test-token"
	numberID    = "106540352242922"
	appSecret   = "meta-app-secret"
	accepted    = `{"messaging_product":"whatsapp","contacts":[{"input":"+14155550100","wa_id":"14155550100"}],"messages":[{"id":"wamid.HBgLMTQxNTU1NTAxMDAVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA","message_status":"accepted"}]}`
	errBody     = `{"error":{"message":"(#131009) Parameter value is not valid","type":"OAuthException","code":131009,"error_data":{"messaging_product":"whatsapp","details":"The phone number is not a valid WhatsApp user"},"fbtrace_id":"AbC"}}`
)

func config(s *providertest.Server) metawhatsapp.Config {
	return metawhatsapp.Config{AccessToken: accessToken, PhoneNumberID: numberID, AppSecret: appSecret, VerifyToken: "verify-me", BaseURL: s.URL}
}

func newProvider(t *testing.T, cfg metawhatsapp.Config) *metawhatsapp.Provider {
	t.Helper()
	p, err := metawhatsapp.New(cfg, providertest.Client())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

func message(tpl *channel.WhatsAppTemplate) channel.Message {
	return channel.Message{
		Key: "ins_01:wa:1", TenantID: "t1", InstanceID: "ins_01", NodeID: "wa", NodeType: "send_whatsapp",
		Channel: "whatsapp", Attempt: 1, WhatsApp: &channel.WhatsApp{To: "+14155550100", Body: "Hi Ada, your order shipped.", Template: tpl},
	}
}

// sent checks the request line, Bearer token and JSON of the last request
// against the Cloud API's messages reference, and returns the body.
func sent(t *testing.T, s *providertest.Server) map[string]any {
	t.Helper()
	r := s.Last(t)
	if want := "/" + metawhatsapp.DefaultAPIVersion + "/" + numberID + "/messages"; r.Method != http.MethodPost || r.Path != want {
		t.Errorf("request = %s %s, want POST %s", r.Method, r.Path, want)
	}
	if got := r.Header.Get("Authorization"); got != "Bearer "+accessToken {
		t.Errorf("Authorization = %q", got)
	}
	if got := r.Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q", got)
	}
	var body map[string]any
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatalf("body is not JSON: %v", err)
	}
	return body
}

func wantBody(t *testing.T, got, want map[string]any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", "  ")
		t.Errorf("body =\n%s", g)
	}
}

func TestSendText(t *testing.T) {
	t.Parallel()
	s := providertest.New(t)
	s.Play(providertest.JSON(http.StatusOK, accepted))
	p := newProvider(t, config(s))
	res, err := p.Send(t.Context(), message(nil))
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if res.Detail != "whatsapp message wamid.HBgLMTQxNTU1NTAxMDAVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA" {
		t.Errorf("Detail = %q", res.Detail)
	}
	wantBody(t, sent(t, s), map[string]any{
		"messaging_product": "whatsapp", "recipient_type": "individual", "to": "+14155550100", "type": "text",
		"text":                     map[string]any{"preview_url": false, "body": "Hi Ada, your order shipped."},
		"biz_opaque_callback_data": "ins_01:wa:1",
	})
}

func TestSendTemplate(t *testing.T) {
	t.Parallel()
	s := providertest.New(t)
	s.Play(providertest.JSON(http.StatusOK, accepted))
	cfg := config(s)
	cfg.APIVersion = "v21.0"
	p := newProvider(t, cfg)
	m := message(&channel.WhatsAppTemplate{Name: "order_update", Language: "en_US", Params: []string{"Ada", "#42"}})
	m.WhatsApp.Body = ""
	if _, err := p.Send(t.Context(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if r := s.Last(t); r.Path != "/v21.0/"+numberID+"/messages" {
		t.Errorf("path = %s, want the configured API version", r.Path)
	}
	var body map[string]any
	_ = json.Unmarshal(s.Last(t).Body, &body)
	wantBody(t, body, map[string]any{
		"messaging_product": "whatsapp", "recipient_type": "individual", "to": "+14155550100", "type": "template",
		"template": map[string]any{
			"name": "order_update", "language": map[string]any{"code": "en_US"},
			"components": []any{map[string]any{"type": "body", "parameters": []any{
				map[string]any{"type": "text", "text": "Ada"}, map[string]any{"type": "text", "text": "#42"},
			}}},
		},
		"biz_opaque_callback_data": "ins_01:wa:1",
	})
}

func TestSendOutcomes(t *testing.T) {
	t.Parallel()
	s := providertest.New(t)
	p := newProvider(t, config(s))
	providertest.Outcomes(t, s, func() error {
		_, err := p.Send(t.Context(), message(nil))
		return err
	}, errBody, "error 131009 (#131009) Parameter value is not valid (The phone number is not a valid WhatsApp user)")
}

// TestErrorCodes: the Graph API error code steers the outcome.
func TestErrorCodes(t *testing.T) {
	t.Parallel()
	graph := func(code int) string {
		return `{"error":{"message":"m","type":"OAuthException","code":` + itoa(code) + `,"fbtrace_id":"x"}}`
	}
	for _, c := range []struct {
		status, code int
		want         channel.Outcome
	}{
		{400, 130429, channel.OutcomeRetry}, // throughput rate limit
		{400, 80007, channel.OutcomeRetry},  // WABA rate limit
		{400, 4, channel.OutcomeRetry},      // app rate limit
		{400, 131056, channel.OutcomeRetry}, // pair rate limit
		{503, 131016, channel.OutcomeRetry}, // service unavailable
		{400, 131026, channel.OutcomeFailed},
		{400, 131047, channel.OutcomeFailed},
		{404, 132001, channel.OutcomeFailed},
		{401, 190, channel.OutcomeFailed},
		{403, 10, channel.OutcomeFailed},
		{500, 131000, channel.OutcomeRetry},
	} {
		s := providertest.New(t)
		p := newProvider(t, config(s))
		s.Play(providertest.JSON(c.status, graph(c.code)))
		_, err := p.Send(t.Context(), message(nil))
		got, _ := channel.Classify(err)
		if got != c.want {
			t.Errorf("HTTP %d code %d: outcome %v (%v), want %v", c.status, c.code, got, err, c.want)
		}
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// TestAcceptedWithoutID: a 2xx that names no message is not proof of a
// send.
func TestAcceptedWithoutID(t *testing.T) {
	t.Parallel()
	s := providertest.New(t)
	p := newProvider(t, config(s))
	s.Play(providertest.JSON(http.StatusOK, `{}`))
	_, err := p.Send(t.Context(), message(nil))
	providertest.Expect(t, err, channel.OutcomeAmbiguous, 0, 0)
}

func TestBadMessagesAreNotSent(t *testing.T) {
	t.Parallel()
	s := providertest.New(t)
	p := newProvider(t, config(s))
	for name, edit := range map[string]func(*channel.Message){
		"no content":       func(m *channel.Message) { m.WhatsApp = nil },
		"sms channel":      func(m *channel.Message) { m.Channel = "sms" },
		"bad number":       func(m *channel.Message) { m.WhatsApp.To = "14155550100" },
		"empty body":       func(m *channel.Message) { m.WhatsApp.Body = "" },
		"template no lang": func(m *channel.Message) { m.WhatsApp.Template = &channel.WhatsAppTemplate{Name: "order_update"} },
		"long key":         func(m *channel.Message) { m.Key = strings.Repeat("k", 513) },
	} {
		m := message(nil)
		edit(&m)
		_, err := p.Send(t.Context(), m)
		providertest.Expect(t, err, channel.OutcomeFailed, 0, 0)
		if err == nil || !strings.HasPrefix(err.Error(), "metawhatsapp: ") {
			t.Errorf("%s: error %v", name, err)
		}
	}
	if n := len(s.Requests()); n != 0 {
		t.Errorf("server got %d requests, want none", n)
	}
}

func TestConfigCheck(t *testing.T) {
	t.Parallel()
	good := metawhatsapp.Config{AccessToken: accessToken, PhoneNumberID: numberID}
	if err := good.Check(); err != nil {
		t.Fatalf("good config: %v", err)
	}
	for _, c := range []struct {
		name string
		edit func(*metawhatsapp.Config)
		want string
	}{
		{"no token", func(c *metawhatsapp.Config) { c.AccessToken = "" }, "access_token is required"},
		{"no number id", func(c *metawhatsapp.Config) { c.PhoneNumberID = "" }, "phone_number_id"},
		{"number not id", func(c *metawhatsapp.Config) { c.PhoneNumberID = "+14155550100" }, "phone_number_id"},
		{"bad version", func(c *metawhatsapp.Config) { c.APIVersion = "23" }, "api_version"},
		{"verify without secret", func(c *metawhatsapp.Config) { c.VerifyToken = "x" }, "app_secret"},
		{"bad base url", func(c *metawhatsapp.Config) { c.BaseURL = "graph.facebook.com" }, "base_url"},
	} {
		cfg := good
		c.edit(&cfg)
		err := cfg.Check()
		if kalcifer.ErrorCode(err) != kalcifer.EUNPROCESSABLE || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Check = %v, want an unprocessable error naming %q", c.name, err, c.want)
		}
		if _, err := metawhatsapp.New(cfg, nil); err == nil {
			t.Errorf("%s: New accepted the config", c.name)
		}
	}
}
