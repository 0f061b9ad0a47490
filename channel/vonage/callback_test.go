package vonage_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/channel"
	"github.com/kalcifer/kalcifer/channel/internal/providertest"
	"github.com/kalcifer/kalcifer/channel/vonage"
)

// TestSignatureVectors are the vectors of Vonage's Python SDK tests
// (secret "secret", params a=1, b=2, timestamp=1461605396).
func TestSignatureVectors(t *testing.T) {
	t.Parallel()
	params := map[string]string{"a": "1", "b": "2", "timestamp": "1461605396"}
	for method, want := range map[string]string{
		"":        "6af838ef94998832dbfc29020b564830",
		"md5hash": "6af838ef94998832dbfc29020b564830",
		"md5":     "c15c21ced558c93a226c305f58f902f2",
		"sha1":    "3e19a4e6880fdc2c1426bfd0587c98b9532f0210",
		"sha256":  "a321e824b9b816be7c3f28859a31749a098713d39f613c80d455bbaffae1cd24",
		"sha512":  "812a18f76680fa0fe1b8bd9ee1625466ceb1bd96242e4d050d2cfd9a7b40166c63ed26ec9702168781b6edcf1633db8ff95af9341701004eec3fcf9550572ee8",
	} {
		if got := vonage.Signature("secret", method, params); got != want {
			t.Errorf("%q: signature %s, want %s", method, got, want)
		}
	}
	// '&' and '=' in values are signed as '_' (recomputed with Python's
	// hashlib from the documented procedure).
	odd := map[string]string{"a": "1&2", "b": "x=y", "timestamp": "1461605396"}
	if got, want := vonage.Signature("secret", "md5hash", odd), "2f5c38358afaa0db31e094d6cd9cc1ca"; got != want {
		t.Errorf("values with & and =: signature %s, want %s", got, want)
	}
}

// receipt is a delivery receipt as the SMS API reference shows it.
func receipt(status, errCode string) map[string]string {
	return map[string]string{
		"msisdn": "14155550100", "to": "Kalcifer", "network-code": "310090", "messageId": "0A0000000123ABCD1",
		"price": "0.03330000", "status": status, "scts": "2001011400", "err-code": errCode,
		"api-key": apiKey, "client-ref": "ins_01:remind:1", "message-timestamp": "2026-11-03 09:30:12",
	}
}

func signed(p map[string]string, secret, method string) map[string]string {
	out := map[string]string{"timestamp": "1762162212", "nonce": "6e5ab0fc-1f9c-4e4b-8a3f-1f0b4ec2a4a1"}
	for k, v := range p {
		out[k] = v
	}
	out["sig"] = strings.ToUpper(vonage.Signature(secret, method, out))
	return out
}

func values(p map[string]string) url.Values {
	v := url.Values{}
	for k, s := range p {
		v.Set(k, s)
	}
	return v
}

func TestReadCallbackStatuses(t *testing.T) {
	t.Parallel()
	p := newProvider(t, config(providertest.New(t)))
	for _, c := range []struct {
		status, errCode string
		want            *channel.Status
	}{
		{"delivered", "0", &channel.Status{Event: channel.StatusDelivered}},
		{"failed", "6", &channel.Status{Event: channel.StatusFailed, Detail: "vonage err-code 6"}},
		{"expired", "1", &channel.Status{Event: channel.StatusFailed, Detail: "vonage err-code 1"}},
		{"rejected", "29", &channel.Status{Event: channel.StatusFailed, Detail: "vonage err-code 29"}},
		{"accepted", "0", nil},
		{"buffered", "0", nil},
	} {
		q := values(receipt(c.status, c.errCode))
		q.Set(vonage.TokenParam, cbToken)
		r := httptest.NewRequest(http.MethodGet, callback+"?"+q.Encode(), nil)
		got, err := p.ReadCallback(r, nil, callback)
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
		want.Key, want.MessageID, want.At = "ins_01:remind:1", "0A0000000123ABCD1", time.Date(2026, 11, 3, 9, 30, 12, 0, time.UTC)
		if len(got) != 1 || got[0] != want {
			t.Errorf("%s: statuses %+v, want %+v", c.status, got, want)
		}
	}
}

// TestReadCallbackToken: without signed webhooks the URL's token is what
// proves the receipt comes from the URL given to Vonage.
func TestReadCallbackToken(t *testing.T) {
	t.Parallel()
	p := newProvider(t, config(providertest.New(t)))
	body := values(receipt("delivered", "0")).Encode()
	for name, c := range map[string]struct {
		query string
		ok    bool
	}{
		"right token": {"?" + vonage.TokenParam + "=" + cbToken, true},
		"wrong token": {"?" + vonage.TokenParam + "=tok_guessed_guessed", false},
		"no token":    {"", false},
	} {
		r := httptest.NewRequest(http.MethodPost, callback+c.query, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		got, err := p.ReadCallback(r, []byte(body), callback)
		if c.ok && (err != nil || len(got) != 1) {
			t.Errorf("%s: ReadCallback = %v, %v", name, got, err)
		}
		if !c.ok && kalcifer.ErrorCode(err) != kalcifer.EUNAUTHORIZED {
			t.Errorf("%s: ReadCallback = %v, %v; want an unauthorized error", name, got, err)
		}
	}

	cfg := config(providertest.New(t))
	cfg.CallbackToken = ""
	p = newProvider(t, cfg)
	r := httptest.NewRequest(http.MethodPost, callback, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if _, err := p.ReadCallback(r, []byte(body), callback); kalcifer.ErrorCode(err) != kalcifer.EUNAUTHORIZED || !strings.Contains(err.Error(), "signature_secret nor callback_token") {
		t.Errorf("no verification configured: %v", err)
	}
}

// TestReadCallbackSigned: signed receipts, as GET, form POST and JSON
// POST, with each method; tampered, unsigned and wrongly signed ones are
// refused.
func TestReadCallbackSigned(t *testing.T) {
	t.Parallel()
	for _, method := range []string{"md5hash", "sha256", "sha512"} {
		cfg := config(providertest.New(t))
		cfg.CallbackToken, cfg.SignatureSecret, cfg.SignatureMethod = "", "sig-secret", method
		p := newProvider(t, cfg)
		params := signed(receipt("delivered", "0"), "sig-secret", method)

		requests := map[string]func(map[string]string) (*http.Request, []byte){
			"GET": func(p map[string]string) (*http.Request, []byte) {
				return httptest.NewRequest(http.MethodGet, callback+"?"+values(p).Encode(), nil), nil
			},
			"form POST": func(p map[string]string) (*http.Request, []byte) {
				b := []byte(values(p).Encode())
				r := httptest.NewRequest(http.MethodPost, callback, strings.NewReader(string(b)))
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				return r, b
			},
			"JSON POST": func(p map[string]string) (*http.Request, []byte) {
				b, _ := json.Marshal(p)
				r := httptest.NewRequest(http.MethodPost, callback, strings.NewReader(string(b)))
				r.Header.Set("Content-Type", "application/json; charset=utf-8")
				return r, b
			},
		}
		for how, build := range requests {
			r, body := build(params)
			got, err := p.ReadCallback(r, body, callback)
			if err != nil || len(got) != 1 || got[0].Key != "ins_01:remind:1" || got[0].Event != channel.StatusDelivered {
				t.Errorf("%s %s: ReadCallback = %+v, %v", method, how, got, err)
			}

			tampered := map[string]string{}
			for k, v := range params {
				tampered[k] = v
			}
			tampered["client-ref"] = "ins_02:remind:1"
			unsigned := map[string]string{}
			for k, v := range params {
				if k != "sig" {
					unsigned[k] = v
				}
			}
			for name, bad := range map[string]map[string]string{
				"tampered":       tampered,
				"unsigned":       unsigned,
				"another secret": signed(receipt("delivered", "0"), "not-the-secret", method),
			} {
				r, body := build(bad)
				if got, err := p.ReadCallback(r, body, callback); kalcifer.ErrorCode(err) != kalcifer.EUNAUTHORIZED {
					t.Errorf("%s %s %s: ReadCallback = %v, %v; want an unauthorized error", method, how, name, got, err)
				}
			}
		}
	}
}

func TestReadCallbackBadBody(t *testing.T) {
	t.Parallel()
	p := newProvider(t, config(providertest.New(t)))
	r := httptest.NewRequest(http.MethodPost, callback+"?"+vonage.TokenParam+"="+cbToken, strings.NewReader("{"))
	r.Header.Set("Content-Type", "application/json")
	if _, err := p.ReadCallback(r, []byte("{"), callback); kalcifer.ErrorCode(err) != kalcifer.EINVALID {
		t.Errorf("ReadCallback = %v, want an invalid-request error", err)
	}
}
