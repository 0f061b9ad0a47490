package vonage

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"hash"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/channel"
)

// TokenParam is the receipt URL's query parameter that carries the
// callback token.
const TokenParam = "kalcifer_token"

// hashes are the signature methods: md5hash appends the secret to the
// signed string and hashes it; the others are HMACs keyed by the secret.
var hashes = map[string]func() hash.Hash{
	"md5hash": md5.New,
	"md5":     md5.New,
	"sha1":    sha1.New,
	"sha256":  sha256.New,
	"sha512":  sha512.New,
}

// The receipt statuses that become delivery statuses; accepted, buffered
// and unknown are left out.
var statuses = map[string]string{
	"delivered": channel.StatusDelivered,
	"expired":   channel.StatusFailed,
	"failed":    channel.StatusFailed,
	"rejected":  channel.StatusFailed,
}

// ReadCallback reads one delivery receipt. Vonage sends receipts as a GET
// with query parameters or as a POST, form-encoded or JSON, as the
// dashboard says. A receipt is authentic when its sig verifies against the
// signature secret (signed webhooks) or, for an account without them, when
// the URL carries the callback token; an account with neither cannot
// accept receipts.
func (p *Provider) ReadCallback(r *http.Request, body []byte, _ string) ([]channel.Status, error) {
	params, err := receiptParams(r, body)
	if err != nil {
		return nil, kalcifer.Errorf(kalcifer.EINVALID, "vonage callback: %v", err)
	}
	switch {
	case p.cfg.SignatureSecret != "":
		sig := params["sig"]
		if sig == "" {
			return nil, kalcifer.Errorf(kalcifer.EUNAUTHORIZED, "vonage callback: the receipt has no sig")
		}
		delete(params, "sig")
		want := Signature(p.cfg.SignatureSecret, p.cfg.SignatureMethod, params)
		if subtle.ConstantTimeCompare([]byte(strings.ToLower(sig)), []byte(want)) != 1 {
			return nil, kalcifer.Errorf(kalcifer.EUNAUTHORIZED, "vonage callback: the sig does not match the signature secret")
		}
	case p.cfg.CallbackToken != "":
		got := r.URL.Query().Get(TokenParam)
		if subtle.ConstantTimeCompare([]byte(got), []byte(p.cfg.CallbackToken)) != 1 {
			return nil, kalcifer.Errorf(kalcifer.EUNAUTHORIZED, "vonage callback: the URL does not carry the account's callback token")
		}
	default:
		return nil, kalcifer.Errorf(kalcifer.EUNAUTHORIZED, "vonage callback: the account has neither signature_secret nor callback_token, so receipts cannot be verified")
	}
	event, ok := statuses[params["status"]]
	if !ok {
		return nil, nil
	}
	st := channel.Status{Key: params["client-ref"], MessageID: params["messageId"], Event: event}
	if t, err := time.Parse("2006-01-02 15:04:05", params["message-timestamp"]); err == nil {
		st.At = t.UTC()
	}
	if code := params["err-code"]; code != "" && code != "0" {
		st.Detail = "vonage err-code " + code
	}
	return []channel.Status{st}, nil
}

// receiptParams are a receipt's parameters: the query of a GET (without
// the callback token), the form or JSON body of a POST.
func receiptParams(r *http.Request, body []byte) (map[string]string, error) {
	out := map[string]string{}
	if r.Method == http.MethodGet {
		for k, v := range r.URL.Query() {
			if k != TokenParam && len(v) > 0 {
				out[k] = v[0]
			}
		}
		return out, nil
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "application/json" {
		var raw map[string]any
		if err := json.Unmarshal(body, &raw); err != nil {
			return nil, err
		}
		for k, v := range raw {
			switch v := v.(type) {
			case string:
				out[k] = v
			case nil:
			default:
				b, _ := json.Marshal(v)
				out[k] = string(b)
			}
		}
		return out, nil
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, err
	}
	for k, v := range form {
		out[k] = v[0]
	}
	return out, nil
}

// Signature is Vonage's signature of params (without sig), lower-case hex:
// each parameter as "&name=value" sorted by name, with '&' and '=' in
// values replaced by '_'; then for md5hash (the default method) the MD5 of
// that string followed by the secret, for the others its HMAC keyed by the
// secret.
func Signature(secret, method string, params map[string]string) string {
	if method == "" {
		method = "md5hash"
	}
	names := make([]string, 0, len(params))
	for n := range params {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		b.WriteString("&" + n + "=" + strings.NewReplacer("&", "_", "=", "_").Replace(params[n]))
	}
	var h hash.Hash
	if method == "md5hash" {
		h = md5.New()
		b.WriteString(secret)
	} else {
		h = hmac.New(hashes[method], []byte(secret))
	}
	h.Write([]byte(b.String()))
	return hex.EncodeToString(h.Sum(nil))
}
