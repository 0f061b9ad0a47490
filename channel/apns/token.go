package apns

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// APNs provider tokens: a JWT signed with the team's .p8 key (ES256), sent
// as "authorization: bearer". APNs refuses a token older than an hour
// (ExpiredProviderToken) and one replaced more often than every 20 minutes
// (TooManyProviderTokenUpdates), so the provider keeps one token and
// replaces it after 50 minutes.
const (
	tokenRefresh    = 50 * time.Minute
	minTokenRefresh = 20 * time.Minute
)

// parseKey reads an APNs auth key (.p8: PKCS#8 PEM of a P-256 key).
func parseKey(s string) (*ecdsa.PrivateKey, error) {
	pemText := strings.ReplaceAll(strings.TrimSpace(s), `\n`, "\n")
	key, err := jwt.ParseECPrivateKeyFromPEM([]byte(pemText))
	if err != nil {
		return nil, fmt.Errorf("not a PEM-encoded EC private key (the contents of the AuthKey_<key id>.p8 file): %v", err)
	}
	if key.Curve != elliptic.P256() {
		return nil, fmt.Errorf("the key is on %s; APNs signs with ES256, a P-256 key", key.Curve.Params().Name)
	}
	return key, nil
}

// tokenCache holds the provider token that a provider's sends share.
type tokenCache struct {
	key    *ecdsa.PrivateKey
	teamID string
	keyID  string
	now    func() time.Time

	mu     sync.Mutex
	token  string
	issued time.Time
}

// get returns the current token, made anew when there is none, when it is
// older than tokenRefresh, or when it is stale (the token APNs just called
// expired; "" for none). A stale token younger than minTokenRefresh is not
// replaced — APNs would refuse the update — and get says how long until
// it may be.
func (c *tokenCache) get(stale string) (token string, wait time.Duration, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	age := now.Sub(c.issued)
	switch {
	case c.token != "" && c.token != stale && age < tokenRefresh:
		return c.token, 0, nil
	case c.token != "" && c.token == stale && age < minTokenRefresh:
		return "", minTokenRefresh - age, nil
	}
	t := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{"iss": c.teamID, "iat": now.Unix()})
	t.Header["kid"] = c.keyID
	signed, err := t.SignedString(c.key)
	if err != nil {
		return "", 0, fmt.Errorf("sign the provider token: %w", err)
	}
	c.token, c.issued = signed, now
	return signed, 0, nil
}
