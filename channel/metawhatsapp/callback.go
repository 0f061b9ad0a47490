package metawhatsapp

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/channel"
)

// challengeToken is what a verification challenge may be.
var challengeToken = regexp.MustCompile(`^[0-9A-Za-z_-]{1,128}$`)

// SignatureHeader carries Meta's signature of a webhook body.
const SignatureHeader = "X-Hub-Signature-256"

// The message statuses that become delivery statuses; "sent" (handed to
// WhatsApp) and others are left out.
var statuses = map[string]string{
	"delivered": channel.StatusDelivered,
	"read":      channel.StatusRead,
	"failed":    channel.StatusFailed,
}

// webhook is the part of a WhatsApp Business Account webhook that carries
// message statuses.
type webhook struct {
	Object string `json:"object"`
	Entry  []struct {
		Changes []struct {
			Field string `json:"field"`
			Value struct {
				Metadata struct {
					PhoneNumberID string `json:"phone_number_id"`
				} `json:"metadata"`
				Statuses []struct {
					ID           string `json:"id"`
					Status       string `json:"status"`
					Timestamp    string `json:"timestamp"`
					CallbackData string `json:"biz_opaque_callback_data"`
					Errors       []struct {
						Code    int    `json:"code"`
						Title   string `json:"title"`
						Message string `json:"message"`
					} `json:"errors"`
				} `json:"statuses"`
			} `json:"value"`
		} `json:"changes"`
	} `json:"entry"`
}

// ReadCallback reads one webhook POST, verified by X-Hub-Signature-256
// (HMAC-SHA256 of the raw body, keyed by the app secret). It returns the
// statuses of this provider's phone number: an app's webhook carries every
// number of the business account. Incoming messages and other fields are
// left out.
func (p *Provider) ReadCallback(r *http.Request, body []byte, _ string) ([]channel.Status, error) {
	if p.cfg.AppSecret == "" {
		return nil, kalcifer.Errorf(kalcifer.EUNAUTHORIZED, "metawhatsapp callback: the account has no app_secret to verify webhooks with")
	}
	sig := r.Header.Get(SignatureHeader)
	if sig == "" {
		return nil, kalcifer.Errorf(kalcifer.EUNAUTHORIZED, "metawhatsapp callback: no %s header", SignatureHeader)
	}
	if !ValidSignature(p.cfg.AppSecret, body, sig) {
		return nil, kalcifer.Errorf(kalcifer.EUNAUTHORIZED, "metawhatsapp callback: the %s does not match the app secret", SignatureHeader)
	}
	var w webhook
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, kalcifer.Errorf(kalcifer.EINVALID, "metawhatsapp callback: the body is not a webhook's JSON: %v", err)
	}
	if w.Object != "whatsapp_business_account" {
		return nil, nil
	}
	var out []channel.Status
	for _, e := range w.Entry {
		for _, c := range e.Changes {
			if c.Field != "messages" || c.Value.Metadata.PhoneNumberID != p.cfg.PhoneNumberID {
				continue
			}
			for _, s := range c.Value.Statuses {
				event, ok := statuses[s.Status]
				if !ok || s.ID == "" {
					continue
				}
				st := channel.Status{Key: s.CallbackData, MessageID: s.ID, Event: event}
				if secs, err := strconv.ParseInt(s.Timestamp, 10, 64); err == nil {
					st.At = time.Unix(secs, 0).UTC()
				}
				if len(s.Errors) > 0 {
					st.Detail = "whatsapp error " + strconv.Itoa(s.Errors[0].Code) + " " + s.Errors[0].Title
				}
				out = append(out, st)
			}
		}
	}
	return out, nil
}

// Signature is the X-Hub-Signature-256 value of body: "sha256=" and the
// hex HMAC-SHA256 of the raw body keyed by the app secret.
func Signature(appSecret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// ValidSignature reports whether sig is the signature of body.
func ValidSignature(appSecret string, body []byte, sig string) bool {
	hexSig, ok := strings.CutPrefix(sig, "sha256=")
	if !ok {
		return false
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return false
	}
	want, _ := hex.DecodeString(strings.TrimPrefix(Signature(appSecret, body), "sha256="))
	return hmac.Equal(got, want)
}

// VerifySubscription answers Meta's webhook verification request (GET
// with hub.mode=subscribe, hub.verify_token and hub.challenge): the
// challenge to echo as the response body, and whether the token matches
// the account's verify_token. Anything else is refused, and so is a
// challenge that is not a short token of letters and digits (Meta sends a
// number), so the echo can never carry markup.
func (p *Provider) VerifySubscription(query url.Values) (challenge string, ok bool) {
	if p.cfg.VerifyToken == "" || query.Get("hub.mode") != "subscribe" || !challengeToken.MatchString(query.Get("hub.challenge")) {
		return "", false
	}
	if subtle.ConstantTimeCompare([]byte(query.Get("hub.verify_token")), []byte(p.cfg.VerifyToken)) != 1 {
		return "", false
	}
	return query.Get("hub.challenge"), true
}
