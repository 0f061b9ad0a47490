package twilio

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/channel"
)

// SignatureHeader carries Twilio's signature of a webhook request.
const SignatureHeader = "X-Twilio-Signature"

// The MessageStatus values that become delivery statuses. queued, sending,
// sent, accepted, scheduled and the others are steps on the way, left out.
var statuses = map[string]string{
	"delivered":   channel.StatusDelivered,
	"undelivered": channel.StatusFailed,
	"failed":      channel.StatusFailed,
	"read":        channel.StatusRead,
}

// ReadCallback reads one status callback: a form-encoded POST signed with
// X-Twilio-Signature. callbackURL is the status callback URL as configured;
// Twilio signs the URL it called, so the request's own query (which holds
// the send's key) is part of what is checked.
func (p *Provider) ReadCallback(r *http.Request, body []byte, callbackURL string) ([]channel.Status, error) {
	sig := r.Header.Get(SignatureHeader)
	if sig == "" {
		return nil, kalcifer.Errorf(kalcifer.EUNAUTHORIZED, "twilio callback: no %s header", SignatureHeader)
	}
	params, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, kalcifer.Errorf(kalcifer.EINVALID, "twilio callback: the body is not form-encoded: %v", err)
	}
	if callbackURL == "" {
		callbackURL = p.cfg.StatusCallbackURL
	}
	if !p.validSignature(sig, signedURL(callbackURL, r.URL.RawQuery), params) {
		return nil, kalcifer.Errorf(kalcifer.EUNAUTHORIZED, "twilio callback: the %s does not match the account's auth token", SignatureHeader)
	}
	event, ok := statuses[first(params, "MessageStatus", "SmsStatus")]
	if !ok {
		return nil, nil
	}
	st := channel.Status{
		Key:       r.URL.Query().Get(KeyParam),
		MessageID: first(params, "MessageSid", "SmsSid"),
		Event:     event,
	}
	if code := params.Get("ErrorCode"); code != "" && code != "0" {
		st.Detail = "twilio error " + code
	}
	return []channel.Status{st}, nil
}

// first is the value of the first of names that params holds.
func first(params url.Values, names ...string) string {
	for _, n := range names {
		if v := params.Get(n); v != "" {
			return v
		}
	}
	return ""
}

// signedURL is the URL Twilio called: the callback URL's scheme, host and
// path with the request's raw query, kept encoded as it came.
func signedURL(callbackURL, rawQuery string) string {
	base, _, _ := strings.Cut(callbackURL, "?")
	if rawQuery == "" {
		return base
	}
	return base + "?" + rawQuery
}

// validSignature checks sig against the URL and the POST parameters.
// Twilio may have signed the URL with or without the default port, so
// both are tried, as its own helper libraries do.
func (p *Provider) validSignature(sig, u string, params url.Values) bool {
	got, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return false
	}
	for _, candidate := range portVariants(u) {
		if hmac.Equal(got, Signature(p.cfg.AuthToken, candidate, params)) {
			return true
		}
	}
	return false
}

// Signature is Twilio's request signature: HMAC-SHA1, keyed by the auth
// token, of the full URL followed by each POST parameter's name and value,
// sorted by name. X-Twilio-Signature holds it in base64.
func Signature(authToken, u string, params url.Values) []byte {
	names := make([]string, 0, len(params))
	for n := range params {
		names = append(names, n)
	}
	sort.Strings(names)
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(u))
	for _, n := range names {
		vals := append([]string(nil), params[n]...)
		sort.Strings(vals)
		for _, v := range vals {
			mac.Write([]byte(n))
			mac.Write([]byte(v))
		}
	}
	return mac.Sum(nil)
}

// portVariants is u as given and u with its default port added or removed.
func portVariants(u string) []string {
	pu, err := url.Parse(u)
	if err != nil || pu.Host == "" {
		return []string{u}
	}
	def := map[string]string{"https": "443", "http": "80"}[pu.Scheme]
	alt := *pu
	switch pu.Port() {
	case "":
		if def == "" {
			return []string{u}
		}
		alt.Host = pu.Host + ":" + def
	case def:
		alt.Host = strings.TrimSuffix(pu.Host, ":"+def)
	default:
		return []string{u}
	}
	return []string{u, alt.String()}
}
