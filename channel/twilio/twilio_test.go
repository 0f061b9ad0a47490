package twilio_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/channel"
	"github.com/kalcifer/kalcifer/channel/internal/providertest"
	"github.com/kalcifer/kalcifer/channel/twilio"
)

const (
	sid       = "AC0123456789abcdef0123456789abcdef"
	token     = "tw-auth-token"
	service   = "MG0123456789abcdef0123456789abcdef"
	content   = "HXb5b62575e6e4ff6129ad7c8efe1f983e"
	callback  = "https://kalcifer.example/api/v1/providers/prv_1/callbacks"
	created   = `{"sid":"SM0123456789abcdef0123456789abcdef","status":"queued","error_code":null}`
	errBody   = `{"code":21211,"message":"The 'To' number +15005550001 is not a valid phone number.","more_info":"https://www.twilio.com/docs/errors/21211","status":400}`
	errString = "error 21211 The 'To' number +15005550001 is not a valid phone number."
)

func config(s *providertest.Server) twilio.Config {
	return twilio.Config{
		AccountSID: sid, AuthToken: token, From: "+15005550006", WhatsAppFrom: "+14155238886",
		StatusCallbackURL: callback, BaseURL: s.URL + "/",
	}
}

func newProvider(t *testing.T, cfg twilio.Config) *twilio.Provider {
	t.Helper()
	p, err := twilio.New(cfg, providertest.Client())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

func smsMessage() channel.Message {
	return channel.Message{
		Key: "ins_01:remind:1", TenantID: "t1", InstanceID: "ins_01", NodeID: "remind", NodeType: "send_sms",
		Channel: "sms", Attempt: 1, SMS: &channel.SMS{To: "+14155550100", Body: "Hi Ada, your order #42 shipped."},
	}
}

func whatsAppMessage(tpl *channel.WhatsAppTemplate) channel.Message {
	return channel.Message{
		Key: "ins_01:wa:2", TenantID: "t1", InstanceID: "ins_01", NodeID: "wa", NodeType: "send_whatsapp",
		Channel: "whatsapp", Attempt: 1, WhatsApp: &channel.WhatsApp{To: "+14155550100", Body: "Hi Ada", Template: tpl},
	}
}

// form checks the request line, basic auth and content type of the last
// request against Twilio's Create Message reference and returns its form.
func form(t *testing.T, s *providertest.Server) url.Values {
	t.Helper()
	r := s.Last(t)
	if want := "/2010-04-01/Accounts/" + sid + "/Messages.json"; r.Method != http.MethodPost || r.Path != want {
		t.Errorf("request = %s %s, want POST %s", r.Method, r.Path, want)
	}
	req := http.Request{Header: r.Header}
	if user, pass, ok := req.BasicAuth(); !ok || user != sid || pass != token {
		t.Errorf("basic auth = %q:%q (%v), want the account SID and auth token", user, pass, ok)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		t.Errorf("Content-Type = %q", ct)
	}
	f, err := url.ParseQuery(string(r.Body))
	if err != nil {
		t.Fatalf("body is not form-encoded: %v", err)
	}
	return f
}

func wantForm(t *testing.T, got url.Values, want map[string]string) {
	t.Helper()
	flat := map[string]string{}
	for k, v := range got {
		flat[k] = strings.Join(v, ",")
	}
	if !reflect.DeepEqual(flat, want) {
		t.Errorf("form =\n%v\nwant\n%v", flat, want)
	}
}

func TestSendSMS(t *testing.T) {
	t.Parallel()
	s := providertest.New(t)
	s.Play(providertest.JSON(http.StatusCreated, created))
	p := newProvider(t, config(s))
	res, err := p.Send(t.Context(), smsMessage())
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if res.Detail != "twilio message SM0123456789abcdef0123456789abcdef" {
		t.Errorf("Detail = %q", res.Detail)
	}
	wantForm(t, form(t, s), map[string]string{
		"To": "+14155550100", "From": "+15005550006", "Body": "Hi Ada, your order #42 shipped.",
		"StatusCallback": callback + "?kalcifer_key=ins_01%3Aremind%3A1",
	})
}

func TestSendSMSThroughMessagingService(t *testing.T) {
	t.Parallel()
	s := providertest.New(t)
	s.Play(providertest.JSON(http.StatusCreated, created))
	cfg := config(s)
	cfg.From, cfg.StatusCallbackURL, cfg.MessagingServiceSID = "", "", service
	p := newProvider(t, cfg)
	if _, err := p.Send(t.Context(), smsMessage()); err != nil {
		t.Fatalf("Send: %v", err)
	}
	wantForm(t, form(t, s), map[string]string{
		"To": "+14155550100", "MessagingServiceSid": service, "Body": "Hi Ada, your order #42 shipped.",
	})
	// The message's own sender wins over the service.
	m := smsMessage()
	m.SMS.From = "Kalcifer"
	if _, err := p.Send(t.Context(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if f := form(t, s); f.Get("From") != "Kalcifer" || f.Has("MessagingServiceSid") {
		t.Errorf("form = %v, want From=Kalcifer and no service", f)
	}
}

func TestSendWhatsAppText(t *testing.T) {
	t.Parallel()
	s := providertest.New(t)
	s.Play(providertest.JSON(http.StatusCreated, created))
	p := newProvider(t, config(s))
	if _, err := p.Send(t.Context(), whatsAppMessage(nil)); err != nil {
		t.Fatalf("Send: %v", err)
	}
	wantForm(t, form(t, s), map[string]string{
		"To": "whatsapp:+14155550100", "From": "whatsapp:+14155238886", "Body": "Hi Ada",
		"StatusCallback": callback + "?kalcifer_key=ins_01%3Awa%3A2",
	})
}

// TestSendWhatsAppTemplate: an approved template goes as ContentSid with
// ContentVariables, a JSON object of the numbered placeholders.
func TestSendWhatsAppTemplate(t *testing.T) {
	t.Parallel()
	s := providertest.New(t)
	s.Play(providertest.JSON(http.StatusCreated, created))
	p := newProvider(t, config(s))
	m := whatsAppMessage(&channel.WhatsAppTemplate{Name: content, Language: "en", Params: []string{"Ada", "#42"}})
	m.WhatsApp.Body = ""
	if _, err := p.Send(t.Context(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	f := form(t, s)
	var vars map[string]string
	if err := json.Unmarshal([]byte(f.Get("ContentVariables")), &vars); err != nil || !reflect.DeepEqual(vars, map[string]string{"1": "Ada", "2": "#42"}) {
		t.Errorf("ContentVariables = %q (%v)", f.Get("ContentVariables"), err)
	}
	f.Del("ContentVariables")
	wantForm(t, f, map[string]string{
		"To": "whatsapp:+14155550100", "From": "whatsapp:+14155238886", "ContentSid": content,
		"StatusCallback": callback + "?kalcifer_key=ins_01%3Awa%3A2",
	})
}

func TestSendOutcomes(t *testing.T) {
	t.Parallel()
	s := providertest.New(t)
	p := newProvider(t, config(s))
	providertest.Outcomes(t, s, func() error {
		_, err := p.Send(t.Context(), smsMessage())
		return err
	}, errBody, errString)
}

// TestErrorCodes: Twilio's error code steers 4xx answers.
func TestErrorCodes(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		status int
		body   string
		want   channel.Outcome
	}{
		{400, `{"code":21611,"message":"This 'From' number has exceeded the maximum number of queued messages","status":400}`, channel.OutcomeRetry},
		{400, `{"code":21610,"message":"Attempt to send to unsubscribed recipient","status":400}`, channel.OutcomeFailed},
		{400, `{"code":63016,"message":"Failed to send freeform message because you are outside the allowed window.","status":400}`, channel.OutcomeFailed},
		{401, `{"code":20003,"message":"Authenticate","status":401}`, channel.OutcomeFailed},
		{404, `{"code":20404,"message":"The requested resource was not found","status":404}`, channel.OutcomeFailed},
		{429, `{"code":20429,"message":"Too Many Requests","status":429}`, channel.OutcomeRetry},
		{503, `{"code":20503,"message":"Service Unavailable","status":503}`, channel.OutcomeRetry},
	} {
		s := providertest.New(t)
		p := newProvider(t, config(s))
		s.Play(providertest.JSON(c.status, c.body))
		_, err := p.Send(t.Context(), smsMessage())
		got, _ := channel.Classify(err)
		if got != c.want {
			t.Errorf("HTTP %d %s: outcome %v (%v), want %v", c.status, c.body, got, err, c.want)
		}
	}
}

// TestBadMessagesAreNotSent: what Twilio would refuse fails without a
// request.
func TestBadMessagesAreNotSent(t *testing.T) {
	t.Parallel()
	s := providertest.New(t)
	cfg := config(s)
	p := newProvider(t, cfg)
	for name, edit := range map[string]func(*channel.Message){
		"no sms":           func(m *channel.Message) { m.SMS = nil },
		"bad number":       func(m *channel.Message) { m.SMS.To = "0415 555 0100" },
		"empty body":       func(m *channel.Message) { m.SMS.Body = " " },
		"email channel":    func(m *channel.Message) { m.Channel = "email" },
		"template by name": func(m *channel.Message) { *m = whatsAppMessage(&channel.WhatsAppTemplate{Name: "order_update"}) },
		"whatsapp no body": func(m *channel.Message) { *m = whatsAppMessage(nil); m.WhatsApp.Body = "" },
	} {
		m := smsMessage()
		edit(&m)
		_, err := p.Send(t.Context(), m)
		providertest.Expect(t, err, channel.OutcomeFailed, 0, 0)
		if err == nil || !strings.HasPrefix(err.Error(), "twilio: ") {
			t.Errorf("%s: error %v", name, err)
		}
	}
	cfg.WhatsAppFrom = ""
	p = newProvider(t, cfg)
	_, err := p.Send(t.Context(), whatsAppMessage(nil))
	if err == nil || !strings.Contains(err.Error(), "whatsapp_from") {
		t.Errorf("whatsapp without a sender: %v", err)
	}
	if n := len(s.Requests()); n != 0 {
		t.Errorf("server got %d requests, want none", n)
	}
}

func TestConfigCheck(t *testing.T) {
	t.Parallel()
	good := twilio.Config{AccountSID: sid, AuthToken: token, From: "+15005550006"}
	if err := good.Check(); err != nil {
		t.Fatalf("good config: %v", err)
	}
	for _, c := range []struct {
		name string
		edit func(*twilio.Config)
		want string
	}{
		{"no sid", func(c *twilio.Config) { c.AccountSID = "" }, "account_sid"},
		{"api key sid", func(c *twilio.Config) { c.AccountSID = "SK0123456789abcdef0123456789abcdef" }, "account_sid"},
		{"no token", func(c *twilio.Config) { c.AuthToken = "" }, "auth_token is required"},
		{"no sender", func(c *twilio.Config) { c.From = "" }, "a sender is required"},
		{"bad service", func(c *twilio.Config) { c.MessagingServiceSID = "MG1" }, "messaging_service_sid"},
		{"bad whatsapp from", func(c *twilio.Config) { c.WhatsAppFrom = "whatsapp:+14155238886" }, "whatsapp_from"},
		{"bad callback", func(c *twilio.Config) { c.StatusCallbackURL = "/callbacks" }, "status_callback_url"},
		{"bad base url", func(c *twilio.Config) { c.BaseURL = "ftp://x" }, "base_url"},
	} {
		cfg := good
		c.edit(&cfg)
		err := cfg.Check()
		if kalcifer.ErrorCode(err) != kalcifer.EUNPROCESSABLE || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Check = %v, want an unprocessable error naming %q", c.name, err, c.want)
		}
		if _, err := twilio.New(cfg, nil); err == nil {
			t.Errorf("%s: New accepted the config", c.name)
		}
	}
}
