package fcm

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/kalcifer/kalcifer/channel"
	"github.com/kalcifer/kalcifer/channel/internal/httpapi"
)

// The OAuth2 flow for service accounts ("two-legged OAuth", RFC 7523): a
// JWT signed with the account's key is exchanged at the token endpoint for
// an access token that lasts about an hour.

// grantType is the JWT bearer grant.
const grantType = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// assertionLifetime is how long an assertion is valid; Google allows at
// most an hour.
const assertionLifetime = time.Hour

// maxRenewMargin is how long before an access token expires it is
// replaced, so that no request carries a token that expires on the way.
const maxRenewMargin = 5 * time.Minute

// assertionSigner signs the JWTs a service account presents to the token
// endpoint.
type assertionSigner struct {
	key      *rsa.PrivateKey
	keyID    string
	email    string
	audience string
}

func newAssertionSigner(c Config) (*assertionSigner, error) {
	pemText := strings.ReplaceAll(strings.TrimSpace(c.PrivateKey), `\n`, "\n")
	key, err := jwt.ParseRSAPrivateKeyFromPEM([]byte(pemText))
	if err != nil {
		return nil, fmt.Errorf("not a PEM-encoded RSA private key (the service account key file's private_key): %v", err)
	}
	aud := c.TokenURI
	if aud == "" {
		aud = DefaultTokenURI
	}
	return &assertionSigner{key: key, keyID: c.PrivateKeyID, email: c.ClientEmail, audience: aud}, nil
}

// sign returns an assertion issued at now.
func (a *assertionSigner) sign(now time.Time) (string, error) {
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"iss":   a.email,
		"scope": Scope,
		"aud":   a.audience,
		"iat":   now.Unix(),
		"exp":   now.Add(assertionLifetime).Unix(),
	})
	if a.keyID != "" {
		t.Header["kid"] = a.keyID
	}
	return t.SignedString(a.key)
}

// tokenSource holds the access token the provider's sends share. At most
// one of them asks the token endpoint at a time; the others wait for its
// token.
type tokenSource struct {
	uri    string
	signer *assertionSigner
	client *http.Client
	now    func() time.Time
	// refresh is held by the send that is asking for a token.
	refresh chan struct{}

	mu      sync.Mutex
	token   string
	renewAt time.Time
}

func newTokenSource(uri string, signer *assertionSigner, client *http.Client) *tokenSource {
	return &tokenSource{uri: uri, signer: signer, client: client, now: time.Now, refresh: make(chan struct{}, 1)}
}

// get returns a valid access token other than stale (the token FCM just
// refused; "" for none), fetching one when the cached token is missing,
// due for renewal or stale. Its errors are channel errors: the message has
// not been sent, so they are never ambiguous.
func (s *tokenSource) get(ctx context.Context, stale string, attempt int) (string, error) {
	if t, ok := s.cached(stale); ok {
		return t, nil
	}
	select {
	case s.refresh <- struct{}{}:
	case <-ctx.Done():
		return "", channel.Retry(fmt.Errorf("fcm: not sent, gave up waiting for an access token: %w", ctx.Err()), channel.Backoff(attempt))
	}
	defer func() { <-s.refresh }()
	// Another send may have fetched one while this one waited.
	if t, ok := s.cached(stale); ok {
		return t, nil
	}
	t, life, err := s.fetch(ctx, attempt)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	s.token, s.renewAt = t, s.now().Add(life-min(maxRenewMargin, life/2))
	s.mu.Unlock()
	return t, nil
}

func (s *tokenSource) cached(stale string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token == "" || s.token == stale || !s.now().Before(s.renewAt) {
		return "", false
	}
	return s.token, true
}

// fetch exchanges a fresh assertion for an access token and its lifetime.
func (s *tokenSource) fetch(ctx context.Context, attempt int) (string, time.Duration, error) {
	assertion, err := s.signer.sign(s.now())
	if err != nil {
		return "", 0, channel.Permanent(fmt.Errorf("fcm: sign the token request: %w", err))
	}
	form := url.Values{"grant_type": {grantType}, "assertion": {assertion}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.uri, strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, channel.Permanent(fmt.Errorf("fcm: build the token request: %w", err))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "Kalcifer")
	resp, err := httpapi.Do(s.client, req, "fcm token endpoint", attempt)
	if err != nil {
		// Whatever became of the token request, the message was not sent.
		return "", 0, channel.Retry(fmt.Errorf("fcm: not sent, no access token: %w", err), channel.Backoff(attempt))
	}
	code := resp.Status
	if code == http.StatusOK {
		var tok struct {
			AccessToken string `json:"access_token"`
			ExpiresIn   int64  `json:"expires_in"`
		}
		if json.Unmarshal(resp.Body, &tok) != nil || tok.AccessToken == "" || tok.ExpiresIn <= 0 {
			return "", 0, channel.Retry(fmt.Errorf("fcm: not sent, the token endpoint answered 200 without an access_token and expires_in"), channel.Backoff(attempt))
		}
		return tok.AccessToken, time.Duration(tok.ExpiresIn) * time.Second, nil
	}
	err = fmt.Errorf("fcm: not sent, the token endpoint answered HTTP %d%s", code, oauthError(resp.Body))
	switch {
	case code == http.StatusTooManyRequests:
		return "", 0, channel.Retry(err, httpapi.RetryAfter(resp.Header.Get("Retry-After"), s.now(), channel.Backoff(attempt)))
	case code >= 500:
		// Nothing was sent, so even a gateway timeout is safe to retry.
		return "", 0, channel.Retry(err, channel.Backoff(attempt))
	}
	// 400 invalid_grant (a deleted or disabled key, a wrong client_email),
	// 401 invalid_client...: the credentials will not work next time either.
	return "", 0, channel.Permanent(fmt.Errorf("%w; check the service account's client_email and private_key", err))
}

// oauthError is ": error: error_description" from an OAuth2 error JSON,
// or "" for any other body.
func oauthError(b []byte) string {
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(b, &e) != nil || e.Error == "" {
		return ""
	}
	if e.Description == "" {
		return ": " + httpapi.Truncate(e.Error)
	}
	return ": " + httpapi.Truncate(e.Error+": "+e.Description)
}
