package twilio_test

import (
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/channel"
	"github.com/kalcifer/kalcifer/channel/internal/providertest"
	"github.com/kalcifer/kalcifer/channel/twilio"
)

// TestSignatureVector is the example of Twilio's webhook security guide:
// auth token 12345, its URL and parameters, and the signature it shows.
func TestSignatureVector(t *testing.T) {
	t.Parallel()
	params := url.Values{
		"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+14158675309"}, "Digits": {"1234"},
		"From": {"+14158675309"}, "To": {"+18005551212"},
	}
	got := base64.StdEncoding.EncodeToString(twilio.Signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", params))
	if want := "RSOYDt4T1cUTdK1PDd93/VVr8B8="; got != want {
		t.Errorf("signature = %s, want %s", got, want)
	}
}

// statusCallback is the request Twilio makes to the StatusCallback URL a
// send gave it, signed with authToken.
func statusCallback(t *testing.T, callbackURL, authToken string, params url.Values) *http.Request {
	t.Helper()
	body := params.Encode()
	r := httptest.NewRequest(http.MethodPost, callbackURL, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set(twilio.SignatureHeader, base64.StdEncoding.EncodeToString(twilio.Signature(authToken, callbackURL, params)))
	return r
}

func statusParams(status string) url.Values {
	return url.Values{
		"AccountSid": {sid}, "ApiVersion": {"2010-04-01"}, "From": {"+15005550006"}, "To": {"+14155550100"},
		"MessageSid": {"SM0123456789abcdef0123456789abcdef"}, "SmsSid": {"SM0123456789abcdef0123456789abcdef"},
		"MessageStatus": {status}, "SmsStatus": {status},
	}
}

func read(t *testing.T, p *twilio.Provider, r *http.Request) ([]channel.Status, error) {
	t.Helper()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return p.ReadCallback(r, body, callback)
}

// TestReadCallback follows one send's StatusCallback URL back: the key
// rides in its query, the signature covers it, the statuses map.
func TestReadCallback(t *testing.T) {
	t.Parallel()
	s := providertest.New(t)
	s.Play(providertest.JSON(http.StatusCreated, created))
	p := newProvider(t, config(s))
	if _, err := p.Send(t.Context(), smsMessage()); err != nil {
		t.Fatalf("Send: %v", err)
	}
	sent := form(t, s).Get("StatusCallback")

	for _, c := range []struct {
		status, errorCode string
		want              *channel.Status
	}{
		{"delivered", "", &channel.Status{Event: channel.StatusDelivered}},
		{"undelivered", "30003", &channel.Status{Event: channel.StatusFailed, Detail: "twilio error 30003"}},
		{"failed", "30008", &channel.Status{Event: channel.StatusFailed, Detail: "twilio error 30008"}},
		{"read", "", &channel.Status{Event: channel.StatusRead}},
		{"sent", "", nil},
		{"queued", "", nil},
	} {
		params := statusParams(c.status)
		if c.errorCode != "" {
			params.Set("ErrorCode", c.errorCode)
		}
		got, err := read(t, p, statusCallback(t, sent, token, params))
		if err != nil {
			t.Fatalf("%s: ReadCallback: %v", c.status, err)
		}
		if c.want == nil {
			if len(got) != 0 {
				t.Errorf("%s: statuses %+v, want none", c.status, got)
			}
			continue
		}
		want := *c.want
		want.Key, want.MessageID = "ins_01:remind:1", "SM0123456789abcdef0123456789abcdef"
		if len(got) != 1 || got[0] != want {
			t.Errorf("%s: statuses %+v, want %+v", c.status, got, want)
		}
	}
}

func TestReadCallbackRefusesForgeries(t *testing.T) {
	t.Parallel()
	p := newProvider(t, config(providertest.New(t)))
	u := callback + "?kalcifer_key=ins_01%3Aremind%3A1"

	unauthorized := func(name string, r *http.Request) {
		t.Helper()
		got, err := read(t, p, r)
		if kalcifer.ErrorCode(err) != kalcifer.EUNAUTHORIZED || got != nil {
			t.Errorf("%s: ReadCallback = %v, %v; want an unauthorized error", name, got, err)
		}
	}
	r := statusCallback(t, u, token, statusParams("delivered"))
	r.Header.Del(twilio.SignatureHeader)
	unauthorized("no signature", r)

	unauthorized("another token", statusCallback(t, u, "someone-else", statusParams("delivered")))

	// A valid signature over "failed", sent with "delivered".
	signed := statusCallback(t, u, token, statusParams("failed"))
	r = httptest.NewRequest(http.MethodPost, u, strings.NewReader(statusParams("delivered").Encode()))
	r.Header = signed.Header
	unauthorized("tampered status", r)

	// The key is covered too: another send's key in the query.
	r = statusCallback(t, u, token, statusParams("delivered"))
	r.URL.RawQuery = "kalcifer_key=ins_02%3Aremind%3A1"
	unauthorized("tampered key", r)

	r = statusCallback(t, u, token, statusParams("delivered"))
	r.Header.Set(twilio.SignatureHeader, "not base64!")
	unauthorized("garbage signature", r)
}

// TestReadCallbackDefaultPort: Twilio may sign https://host:443/...; the
// reader accepts both spellings, as Twilio's libraries do.
func TestReadCallbackDefaultPort(t *testing.T) {
	t.Parallel()
	p := newProvider(t, config(providertest.New(t)))
	params := statusParams("delivered")
	r := statusCallback(t, callback+"?kalcifer_key=k", token, params)
	withPort := strings.Replace(callback, "kalcifer.example", "kalcifer.example:443", 1) + "?kalcifer_key=k"
	r.Header.Set(twilio.SignatureHeader, base64.StdEncoding.EncodeToString(twilio.Signature(token, withPort, params)))
	if got, err := read(t, p, r); err != nil || len(got) != 1 || got[0].Key != "k" {
		t.Errorf("ReadCallback = %+v, %v", got, err)
	}
}

func TestReadCallbackBadBody(t *testing.T) {
	t.Parallel()
	p := newProvider(t, config(providertest.New(t)))
	r := httptest.NewRequest(http.MethodPost, callback, nil)
	r.Header.Set(twilio.SignatureHeader, "x")
	_, err := p.ReadCallback(r, []byte("%zz"), callback)
	if kalcifer.ErrorCode(err) != kalcifer.EINVALID {
		t.Errorf("ReadCallback = %v, want an invalid-request error", err)
	}
}
