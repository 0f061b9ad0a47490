package ses

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/channel"
	"github.com/kalcifer/kalcifer/channel/internal/providertest"
)

var testConfig = Config{
	Region: "eu-west-1", AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
	From: "news@example.com", FromName: "Example News", ConfigurationSet: "kalcifer-events",
}

func newProvider(t *testing.T, s *providertest.Server) *Provider {
	t.Helper()
	cfg := testConfig
	cfg.BaseURL = s.URL
	p, err := New(cfg, providertest.Client())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

// verify checks r's SigV4 signature as SES would: it signs the same
// method, host, path, content type, X-Amz-* headers and body again with
// the account's secret and compares.
func verify(t *testing.T, r providertest.Request, host string) {
	t.Helper()
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/") || !strings.Contains(auth, "/eu-west-1/ses/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=") {
		t.Fatalf("Authorization = %q", auth)
	}
	at, err := time.Parse(amzDate, r.Header.Get("X-Amz-Date"))
	if err != nil {
		t.Fatalf("X-Amz-Date: %v", err)
	}
	again, _ := http.NewRequest(r.Method, "http://"+host+r.Path, strings.NewReader(string(r.Body)))
	again.Header.Set("Content-Type", r.Header.Get("Content-Type"))
	sign(again, r.Body, credentials{testConfig.AccessKeyID, testConfig.SecretAccessKey, ""}, "eu-west-1", "ses", at)
	if got := again.Header.Get("Authorization"); got != auth {
		t.Errorf("signature does not verify:\n sent %s\n want %s", auth, got)
	}
}

// TestSendRequest checks the request against the SES v2 SendEmail
// reference: path, a valid SigV4 signature, JSON, the Simple content with
// its headers, the key as a message tag and the configuration set.
func TestSendRequest(t *testing.T) {
	t.Parallel()
	s := providertest.New(t)
	s.Play(providertest.JSON(http.StatusOK, `{"MessageId":"0100018c-ses-1"}`))
	p := newProvider(t, s)

	res, err := p.Send(t.Context(), providertest.Message())
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if res.Detail != "ses message 0100018c-ses-1" {
		t.Errorf("Detail = %q", res.Detail)
	}
	r := s.Last(t)
	if r.Method != http.MethodPost || r.Path != "/v2/email/outbound-emails" {
		t.Errorf("request = %s %s, want POST /v2/email/outbound-emails", r.Method, r.Path)
	}
	if got := r.Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q", got)
	}
	verify(t, r, strings.TrimPrefix(s.URL, "http://"))

	var body map[string]any
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatalf("body is not JSON: %v", err)
	}
	simple := body["Content"].(map[string]any)["Simple"].(map[string]any)
	headers := map[string]any{}
	for _, h := range simple["Headers"].([]any) {
		h := h.(map[string]any)
		headers[h["Name"].(string)] = h["Value"]
	}
	delete(simple, "Headers")
	want := map[string]any{
		"FromEmailAddress": `"Example News" <news@example.com>`,
		"Destination":      map[string]any{"ToAddresses": []any{"ada@example.com"}},
		"ReplyToAddresses": []any{"help@example.com"},
		"Content": map[string]any{"Simple": map[string]any{
			"Subject": map[string]any{"Data": "Welcome, Ada", "Charset": "UTF-8"},
			"Body": map[string]any{
				"Text": map[string]any{"Data": providertest.Email().Text, "Charset": "UTF-8"},
				"Html": map[string]any{"Data": providertest.Email().HTML, "Charset": "UTF-8"},
			},
		}},
		"EmailTags":            []any{map[string]any{"Name": "kalcifer_key", "Value": channel.KeyToken("ins_01:welcome:1")}},
		"ConfigurationSetName": "kalcifer-events",
	}
	if !reflect.DeepEqual(body, want) {
		got, _ := json.MarshalIndent(body, "", "  ")
		t.Errorf("body =\n%s", got)
	}
	if want := (map[string]any{"List-Unsubscribe": "<https://kalcifer.example/u/abc>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}); !reflect.DeepEqual(headers, want) {
		t.Errorf("Headers = %v, want %v", headers, want)
	}
}

func TestSendOutcomes(t *testing.T) {
	t.Parallel()
	s := providertest.New(t)
	p := newProvider(t, s)
	providertest.Outcomes(t, s, func() error {
		_, err := p.Send(t.Context(), providertest.Message())
		return err
	}, `{"message":"Email address is not verified. The following identities failed the check: news@example.com"}`, "Email address is not verified")
}

// TestErrorTypes plays SES v2's documented SendEmail errors.
func TestErrorTypes(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		status int
		kind   string
		msg    string
		want   channel.Outcome
		after  time.Duration
	}{
		{400, "MessageRejected:http://internal.amazon.com/coral/com.amazonaws.sesv2/", "Email address is not verified.", channel.OutcomeFailed, 0},
		{400, "MailFromDomainNotVerifiedException", "not verified", channel.OutcomeFailed, 0},
		{400, "AccountSuspendedException", "suspended", channel.OutcomeFailed, 0},
		{400, "SendingPausedException", "paused", channel.OutcomeFailed, 0},
		{403, "SignatureDoesNotMatch", "The request signature we calculated does not match", channel.OutcomeFailed, 0},
		{404, "NotFoundException", "configuration set does not exist", channel.OutcomeFailed, 0},
		{429, "TooManyRequestsException", "Too Many Requests", channel.OutcomeRetry, 0},
		{400, "LimitExceededException", "Daily message quota exceeded", channel.OutcomeRetry, quotaDelay},
		{503, "", "", channel.OutcomeRetry, 0},
		{504, "", "", channel.OutcomeAmbiguous, 0},
	} {
		s := providertest.New(t)
		p := newProvider(t, s)
		var header []string
		if c.kind != "" {
			header = []string{"X-Amzn-ErrorType", c.kind}
		}
		s.Play(providertest.JSON(c.status, `{"message":"`+c.msg+`"}`, header...))
		_, err := p.Send(t.Context(), providertest.Message())
		got, after := channel.Classify(err)
		if got != c.want || (c.after != 0 && after != c.after) {
			t.Errorf("HTTP %d %s: outcome %v after %v (%v), want %v", c.status, c.kind, got, after, err, c.want)
		}
		if c.kind != "" && !strings.Contains(err.Error(), strings.SplitN(c.kind, ":", 2)[0]+": "+c.msg) {
			t.Errorf("error %q does not name %s and its message", err, c.kind)
		}
	}
}

func TestConfigCheck(t *testing.T) {
	t.Parallel()
	if err := testConfig.Check(); err != nil {
		t.Fatalf("good config: %v", err)
	}
	if p, _ := New(testConfig, nil); p.url != "https://email.eu-west-1.amazonaws.com/v2/email/outbound-emails" {
		t.Errorf("default url = %s", p.url)
	}
	for _, c := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"no region", func(c *Config) { c.Region = "" }, "region"},
		{"bad region", func(c *Config) { c.Region = "Europe" }, "region"},
		{"no secret", func(c *Config) { c.SecretAccessKey = "" }, "secret_access_key are required"},
		{"no from", func(c *Config) { c.From = "" }, "from is required"},
		{"bad base url", func(c *Config) { c.BaseURL = "email.eu-west-1.amazonaws.com" }, "base_url"},
	} {
		cfg := testConfig
		c.edit(&cfg)
		err := cfg.Check()
		if kalcifer.ErrorCode(err) != kalcifer.EUNPROCESSABLE || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Check = %v, want an unprocessable error naming %q", c.name, err, c.want)
		}
	}
}
