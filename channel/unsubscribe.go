package channel

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
)

// Unsubscribe is what an unsubscribe link stands for: one customer of one
// tenant leaving one channel.
type Unsubscribe struct {
	TenantID   string `json:"t"`
	CustomerID string `json:"c"`
	Channel    string `json:"ch"`
}

// unsubscribeContext separates these MACs from any other use of the key.
const unsubscribeContext = "unsubscribe\x00"

// UnsubscribeToken signs u with key (HMAC-SHA256): the token is the payload
// and its MAC, both base64url, so it fits a URL path segment as it is.
func UnsubscribeToken(key []byte, u Unsubscribe) string {
	payload, _ := json.Marshal(u) // three strings: cannot fail
	p := base64.RawURLEncoding.EncodeToString(payload)
	return p + "." + base64.RawURLEncoding.EncodeToString(unsubscribeMAC(key, p))
}

// ErrBadToken is returned for an unsubscribe token that was not made with
// the key, or was changed.
var ErrBadToken = errors.New("the unsubscribe link is invalid or was changed")

// ParseUnsubscribeToken checks a token's MAC (in constant time) and returns
// what it stands for.
func ParseUnsubscribeToken(key []byte, token string) (Unsubscribe, error) {
	var u Unsubscribe
	p, sig, ok := strings.Cut(token, ".")
	if !ok {
		return u, ErrBadToken
	}
	mac, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(mac, unsubscribeMAC(key, p)) {
		return u, ErrBadToken
	}
	payload, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil || json.Unmarshal(payload, &u) != nil || u.TenantID == "" || u.CustomerID == "" || u.Channel == "" {
		return Unsubscribe{}, ErrBadToken
	}
	return u, nil
}

func unsubscribeMAC(key []byte, payload string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(unsubscribeContext + payload))
	return h.Sum(nil)
}

// UnsubscribedAttribute is the profile attribute that, when true, marks a
// customer as unsubscribed from a channel: "unsubscribed_email",
// "unsubscribed_sms"… Sends on that channel are skipped.
func UnsubscribedAttribute(channel string) string { return "unsubscribed_" + channel }
