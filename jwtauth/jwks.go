package jwtauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kalcifer/kalcifer"
)

// How the JWKS document is fetched and kept.
const (
	// JWKSRefresh is how long a fetched document is used when its answer
	// carries no Cache-Control max-age.
	JWKSRefresh = 5 * time.Minute
	// JWKSMinInterval is the least time between two fetches, whatever
	// asks for them (an expired document, a token naming an unknown kid, a
	// failed fetch): a stream of tokens with made-up kids costs the JWKS
	// server one request per interval, not one per token.
	JWKSMinInterval = 30 * time.Second
	// JWKSMaxAge bounds a Cache-Control max-age, so a rotated key is seen
	// within a day whatever the server says.
	JWKSMaxAge = 24 * time.Hour
	// MaxJWKSBytes caps the document; a larger answer is refused.
	MaxJWKSBytes = 1 << 20
	// JWKSTimeout bounds one fetch.
	JWKSTimeout = 10 * time.Second
)

// ErrKeysUnavailable is returned (wrapped) when a token needs keys from the
// JWKS and none could be fetched: the server's trouble, not the caller's.
var ErrKeysUnavailable = errors.New("the JWKS signing keys are unavailable")

// jwksKey is one usable key of the document and the one algorithm it may
// verify.
type jwksKey struct {
	alg string // "RS256" or "ES256"
	key any    // *rsa.PublicKey or *ecdsa.PublicKey
}

// jwks is the cached key set of one JWKS URL.
type jwks struct {
	url    string
	client *http.Client
	now    func() time.Time

	fetchMu sync.Mutex // one fetch at a time; others wait for its result

	mu       sync.Mutex
	keys     map[string]jwksKey
	skipped  map[string]string // kid → why the key cannot be used
	expires  time.Time         // when the document should be fetched again
	attempt  time.Time         // the last fetch began (successful or not)
	fetchErr error             // the last fetch's error, nil after a success
}

// key returns the key named kid for a token signed with alg, fetching the
// document when it is stale or does not know kid (at most once per
// JWKSMinInterval).
func (c *jwks) key(kid, alg string) (any, error) {
	k, ok, fresh := c.lookup(kid)
	if !ok || !fresh {
		c.fetchMu.Lock()
		// Another request may have fetched while this one waited.
		if k, ok, fresh = c.lookup(kid); !ok || !fresh {
			c.refresh()
			k, ok, _ = c.lookup(kid)
		}
		c.fetchMu.Unlock()
	}
	if !ok {
		c.mu.Lock()
		why, skipped := c.skipped[kid]
		fetchErr, loaded := c.fetchErr, c.keys != nil
		c.mu.Unlock()
		switch {
		case !loaded:
			return nil, fmt.Errorf("%w: %w", ErrKeysUnavailable, fetchErr)
		case skipped:
			return nil, unauthorized("the token's kid %q names a JWKS key this server cannot use: %s", kid, why)
		}
		return nil, unauthorized("the token's kid %q names no key of the JWKS", kid)
	}
	// The pin: a key verifies only the algorithm its type is for, so an
	// HS256 (or ES256) header can never make an RSA key do.
	if k.alg != alg {
		return nil, unauthorized("the token is signed with %s, but its key %q is a %s key", alg, kid, k.alg)
	}
	return k.key, nil
}

// lookup reports the cached key for kid, and whether the document is fresh.
func (c *jwks) lookup(kid string) (k jwksKey, ok, fresh bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k, ok = c.keys[kid]
	return k, ok, c.now().Before(c.expires)
}

// refresh fetches the document unless the last fetch began less than
// JWKSMinInterval ago. A failed fetch keeps the keys there were.
func (c *jwks) refresh() {
	now := c.now()
	c.mu.Lock()
	tooSoon := !c.attempt.IsZero() && now.Sub(c.attempt) < JWKSMinInterval
	if !tooSoon {
		c.attempt = now
	}
	c.mu.Unlock()
	if tooSoon {
		return
	}
	keys, skipped, ttl, err := c.fetch()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fetchErr = err
	if err != nil {
		return
	}
	c.keys, c.skipped, c.expires = keys, skipped, now.Add(ttl)
}

// fetch reads and parses the document. It does not use the request's
// context: a client that hangs up must not cut off a fetch other requests
// wait for; JWKSTimeout bounds it instead.
func (c *jwks) fetch() (map[string]jwksKey, map[string]string, time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), JWKSTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url, nil)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("fetch JWKS %s: %w", c.url, err)
	}
	req.Header.Set("Accept", "application/json")
	res, err := c.client.Do(req)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("fetch JWKS: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, nil, 0, fmt.Errorf("fetch JWKS %s: status %s", c.url, res.Status)
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, MaxJWKSBytes+1))
	if err != nil {
		return nil, nil, 0, fmt.Errorf("fetch JWKS %s: %w", c.url, err)
	}
	if len(body) > MaxJWKSBytes {
		return nil, nil, 0, fmt.Errorf("fetch JWKS %s: the document is larger than %d bytes", c.url, MaxJWKSBytes)
	}
	keys, skipped, err := parseJWKS(body)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("JWKS %s: %w", c.url, err)
	}
	return keys, skipped, cacheTTL(res.Header.Get("Cache-Control")), nil
}

// cacheTTL is the document's max-age, between JWKSMinInterval and
// JWKSMaxAge, or JWKSRefresh when the header does not give one simply.
func cacheTTL(cacheControl string) time.Duration {
	for d := range strings.SplitSeq(cacheControl, ",") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), "=")
		if !strings.EqualFold(name, "max-age") {
			continue
		}
		secs, err := strconv.ParseInt(strings.Trim(value, `"`), 10, 64)
		if err != nil || secs < 0 {
			return JWKSRefresh
		}
		secs = min(secs, int64(JWKSMaxAge/time.Second))
		return max(time.Duration(secs)*time.Second, JWKSMinInterval)
	}
	return JWKSRefresh
}

// jwk is the part of a JSON Web Key (RFC 7517, 7518) that Kalcifer reads.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	N   string `json:"n"`
	E   string `json:"e"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

// parseJWKS returns the document's signing keys by kid, RSA keys for RS256
// and P-256 keys for ES256, and why each other named key was left out.
func parseJWKS(body []byte) (map[string]jwksKey, map[string]string, error) {
	var doc struct {
		Keys []jwk `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, nil, fmt.Errorf("not a JWKS document: %w", err)
	}
	keys, skipped := map[string]jwksKey{}, map[string]string{}
	for _, j := range doc.Keys {
		if j.Kid == "" {
			continue // tokens name their key by kid; a key without one cannot be named
		}
		k, err := j.parse()
		if err != nil {
			skipped[j.Kid] = err.Error()
			continue
		}
		keys[j.Kid] = k
	}
	return keys, skipped, nil
}

func (j jwk) parse() (jwksKey, error) {
	if j.Use != "" && j.Use != "sig" {
		return jwksKey{}, fmt.Errorf("its use is %q, not sig", j.Use)
	}
	switch j.Kty {
	case "RSA":
		if j.Alg != "" && j.Alg != "RS256" {
			return jwksKey{}, fmt.Errorf("its alg is %s; RSA keys are accepted for RS256 only", j.Alg)
		}
		n, err1 := base64.RawURLEncoding.DecodeString(j.N)
		e, err2 := base64.RawURLEncoding.DecodeString(j.E)
		if err1 != nil || err2 != nil || len(e) == 0 || len(e) > 4 {
			return jwksKey{}, errors.New("its n or e is not base64url")
		}
		key := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		if key.N.BitLen() < 2048 || key.E < 3 || key.E%2 == 0 {
			return jwksKey{}, fmt.Errorf("an RSA key of %d bits with exponent %d is too weak (at least 2048 bits)", key.N.BitLen(), key.E)
		}
		return jwksKey{alg: "RS256", key: key}, nil
	case "EC":
		if j.Crv != "P-256" || (j.Alg != "" && j.Alg != "ES256") {
			return jwksKey{}, fmt.Errorf("an EC key on %s with alg %q; only P-256 keys for ES256 are accepted", j.Crv, j.Alg)
		}
		x, err1 := base64.RawURLEncoding.DecodeString(j.X)
		y, err2 := base64.RawURLEncoding.DecodeString(j.Y)
		if err1 != nil || err2 != nil || len(x) != 32 || len(y) != 32 {
			return jwksKey{}, errors.New("its x or y is not 32 bytes of base64url")
		}
		key, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
		if err != nil {
			return jwksKey{}, errors.New("its point is not on the P-256 curve")
		}
		return jwksKey{alg: "ES256", key: key}, nil
	}
	return jwksKey{}, fmt.Errorf("its kty is %q; RSA (RS256) and EC (ES256) keys are accepted", j.Kty)
}

func unauthorized(format string, args ...any) *kalcifer.Error {
	return kalcifer.Errorf(kalcifer.EUNAUTHORIZED, format, args...)
}
