package jwtauth

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/kalcifer/kalcifer"
)

// MinSecretBytes is the shortest HS256 secret accepted (RFC 7518 §3.2: a
// key at least as long as the hash).
const MinSecretBytes = 32

// maxSubject bounds the sub claim, which the audit log keeps.
const maxSubject = 255

// Config says which tokens a Verifier accepts. At least one key source,
// HS256Secret or JWKSURL, and the Audience are required.
type Config struct {
	// HS256Secret verifies HS256 tokens, and only those.
	HS256Secret []byte
	// JWKSURL is where RS256 and ES256 keys are fetched, by kid.
	JWKSURL string
	// Issuer, when set, must equal the token's iss.
	Issuer string
	// Audience must be among the token's aud.
	Audience string
	// ClockSkew is the leeway on exp, nbf and iat.
	ClockSkew time.Duration
	// TenantClaim and RoleClaim name the claims holding the tenant's ID
	// (which is its name) and the role; "tenant" and "role" when empty.
	TenantClaim, RoleClaim string
	// HTTPClient fetches the JWKS; nil is a plain client with JWKSTimeout.
	HTTPClient *http.Client
	// Now is the time tokens are checked against; nil is time.Now.
	Now func() time.Time
}

// Enabled reports whether a key source is configured, which is what turns
// token sign-in on.
func (c Config) Enabled() bool { return len(c.HS256Secret) > 0 || c.JWKSURL != "" }

// Verifier checks bearer JWTs and names who they are for.
type Verifier struct {
	secret      []byte
	jwks        *jwks
	algs        []string // the accepted algorithms, from the configured sources
	parser      *jwt.Parser
	issuer      string
	audience    string
	tenantClaim string
	roleClaim   string
}

// New returns a verifier for c.
func New(c Config) (*Verifier, error) {
	if !c.Enabled() {
		return nil, errors.New("jwtauth: neither an HS256 secret nor a JWKS URL is configured")
	}
	if c.Audience == "" {
		return nil, errors.New("jwtauth: an audience is required")
	}
	if c.HS256Secret != nil && len(c.HS256Secret) < MinSecretBytes {
		return nil, fmt.Errorf("jwtauth: the HS256 secret must be at least %d bytes", MinSecretBytes)
	}
	if c.ClockSkew < 0 {
		return nil, errors.New("jwtauth: the clock skew cannot be negative")
	}
	v := &Verifier{issuer: c.Issuer, audience: c.Audience, tenantClaim: c.TenantClaim, roleClaim: c.RoleClaim}
	if v.tenantClaim == "" {
		v.tenantClaim = "tenant"
	}
	if v.roleClaim == "" {
		v.roleClaim = "role"
	}
	now := c.Now
	if now == nil {
		now = time.Now
	}
	if len(c.HS256Secret) > 0 {
		v.secret = c.HS256Secret
		v.algs = append(v.algs, jwt.SigningMethodHS256.Alg())
	}
	if c.JWKSURL != "" {
		if u, err := url.Parse(c.JWKSURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("jwtauth: the JWKS URL %q is not an http(s) URL", c.JWKSURL)
		}
		client := c.HTTPClient
		if client == nil {
			client = &http.Client{Timeout: JWKSTimeout}
		}
		v.jwks = &jwks{url: c.JWKSURL, client: client, now: now}
		v.algs = append(v.algs, jwt.SigningMethodRS256.Alg(), jwt.SigningMethodES256.Alg())
	}
	opts := []jwt.ParserOption{jwt.WithValidMethods(v.algs), jwt.WithLeeway(c.ClockSkew), jwt.WithTimeFunc(now),
		jwt.WithIssuedAt(), jwt.WithExpirationRequired(), jwt.WithAudience(c.Audience)}
	if c.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(c.Issuer))
	}
	v.parser = jwt.NewParser(opts...)
	return v, nil
}

// LooksLikeJWT reports whether a bearer credential has a JWT's shape: three
// dot-separated base64url parts (the last, the signature, may be empty, as
// in an unsigned token, so that one is refused by name).
func LooksLikeJWT(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		return false
	}
	for _, p := range parts {
		for _, c := range []byte(p) {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// Verify checks the token's signature and claims and returns who it is
// for: its tenant (which the caller must check exists), role and subject.
// What is wrong with a token is an EUNAUTHORIZED *kalcifer.Error; an error
// wrapping ErrKeysUnavailable means the JWKS could not be fetched.
func (v *Verifier) Verify(raw string) (kalcifer.Principal, error) {
	claims := jwt.MapClaims{}
	tok, err := v.parser.ParseWithClaims(raw, claims, v.keyFor)
	if err != nil {
		return kalcifer.Principal{}, v.explain(tok, claims, err)
	}
	sub, _ := claims["sub"].(string)
	if sub == "" || len(sub) > maxSubject {
		return kalcifer.Principal{}, unauthorized("the token has no sub claim of 1 to %d bytes: it names the user in the audit log", maxSubject)
	}
	tenant, err := v.stringClaim(claims, v.tenantClaim, "the tenant's name")
	if err != nil {
		return kalcifer.Principal{}, err
	}
	role, err := v.stringClaim(claims, v.roleClaim, "viewer, editor, admin or ingest")
	if err != nil {
		return kalcifer.Principal{}, err
	}
	if !kalcifer.Role(role).Valid() {
		return kalcifer.Principal{}, unauthorized("the token's %s claim is %q: use viewer, editor, admin or ingest", v.roleClaim, role)
	}
	return kalcifer.Principal{TenantID: tenant, Role: kalcifer.Role(role), Subject: sub}, nil
}

func (v *Verifier) stringClaim(claims jwt.MapClaims, name, want string) (string, error) {
	s, ok := claims[name].(string)
	if !ok || s == "" {
		return "", unauthorized("the token has no %s claim (a string: %s)", name, want)
	}
	return s, nil
}

// keyFor is the algorithm pin: HS256 is verified with the shared secret
// and nothing else; RS256 and ES256 with the JWKS key the token's kid
// names, which must be of that algorithm's type. No header can make a key
// of one source verify an algorithm of the other.
func (v *Verifier) keyFor(t *jwt.Token) (any, error) {
	switch alg := t.Method.Alg(); alg {
	case jwt.SigningMethodHS256.Alg():
		if v.secret != nil {
			return v.secret, nil
		}
	case jwt.SigningMethodRS256.Alg(), jwt.SigningMethodES256.Alg():
		if v.jwks != nil {
			kid, _ := t.Header["kid"].(string)
			if kid == "" {
				return nil, unauthorized("the token has no kid header: %s tokens must name their key in the JWKS", alg)
			}
			return v.jwks.key(kid, alg)
		}
	}
	return nil, v.algRefused(t.Method.Alg())
}

func (v *Verifier) algRefused(alg string) *kalcifer.Error {
	if alg == "none" || alg == "" {
		return unauthorized("unsigned tokens (alg none) are never accepted; this server accepts %s", strings.Join(v.algs, ", "))
	}
	return unauthorized("tokens signed with %s are not accepted; this server accepts %s", alg, strings.Join(v.algs, ", "))
}

// explain turns a parse failure into a message that says what is wrong
// without showing any key material.
func (v *Verifier) explain(tok *jwt.Token, claims jwt.MapClaims, err error) error {
	var ke *kalcifer.Error
	switch {
	case errors.As(err, &ke):
		return ke
	case errors.Is(err, ErrKeysUnavailable):
		return err
	case errors.Is(err, jwt.ErrTokenMalformed) || tok == nil:
		return unauthorized("malformed JWT: %v", err)
	}
	if alg, _ := tok.Header["alg"].(string); !slices.Contains(v.algs, alg) {
		return v.algRefused(alg)
	}
	at := func(t *jwt.NumericDate, _ error) string {
		if t == nil {
			return "an unreadable time"
		}
		return t.UTC().Format(time.RFC3339)
	}
	switch {
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		if tok.Method.Alg() == jwt.SigningMethodHS256.Alg() {
			return unauthorized("the token's signature is invalid: it does not match the HS256 shared secret")
		}
		return unauthorized("the token's signature is invalid: it does not match the JWKS key %q", tok.Header["kid"])
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing) && claims["exp"] == nil:
		return unauthorized("the token has no exp claim: tokens must expire")
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing) && claims["aud"] == nil:
		return unauthorized("the token has no aud claim; this server expects %q", v.audience)
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing) && claims["iss"] == nil:
		return unauthorized("the token has no iss claim; this server expects %q", v.issuer)
	case errors.Is(err, jwt.ErrTokenExpired):
		return unauthorized("the token expired at %s", at(claims.GetExpirationTime()))
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return unauthorized("the token is not valid before %s", at(claims.GetNotBefore()))
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return unauthorized("the token is issued in the future, at %s", at(claims.GetIssuedAt()))
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		aud, _ := claims.GetAudience()
		return unauthorized("the token's audience is %q; this server expects %q", []string(aud), v.audience)
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		iss, _ := claims.GetIssuer()
		return unauthorized("the token's issuer is %q; this server expects %q", iss, v.issuer)
	}
	return unauthorized("invalid token: %v", err)
}
