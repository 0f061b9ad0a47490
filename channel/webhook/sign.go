package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
)

// Sign returns "sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + body)).
// Signing the timestamp with the body lets receivers reject replays.
func Sign(secret []byte, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	// A hash's Write never returns an error.
	mac.Write([]byte(timestamp))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify reports, in constant time, whether signature (the
// X-Kalcifer-Signature header) signs timestamp (X-Kalcifer-Timestamp) and
// body under secret. An empty secret verifies nothing. Receivers should also
// reject timestamps more than a few minutes old, to stop replays.
func Verify(secret []byte, timestamp, signature string, body []byte) bool {
	if len(secret) == 0 {
		return false
	}
	return hmac.Equal([]byte(Sign(secret, timestamp, body)), []byte(signature))
}
