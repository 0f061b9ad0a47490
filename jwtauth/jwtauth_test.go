package jwtauth_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/jwtauth"
)

// secret is the HS256 secret of the tests; no error message may show it.
const secret = "test-hs256-secret-of-at-least-32-bytes!"

var (
	keysOnce sync.Once
	rsaKey   *rsa.PrivateKey
	ecKey    *ecdsa.PrivateKey
)

// keys returns an RSA and a P-256 key made for this test run.
func keys(t *testing.T) (*rsa.PrivateKey, *ecdsa.PrivateKey) {
	t.Helper()
	keysOnce.Do(func() {
		var err error
		if rsaKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if ecKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			panic(err)
		}
	})
	return rsaKey, ecKey
}

// idp is an identity provider's JWKS endpoint: a real HTTP server whose
// key set the test changes, counting how often it is fetched.
type idp struct {
	srv          *httptest.Server
	fetches      atomic.Int64
	mu           sync.Mutex
	keys         map[string]any // kid → *rsa.PublicKey or *ecdsa.PublicKey
	cacheControl string
	status       int
}

func newIDP(t *testing.T) *idp {
	t.Helper()
	r, e := keys(t)
	p := &idp{keys: map[string]any{"rsa-1": &r.PublicKey, "ec-1": &e.PublicKey}, status: http.StatusOK}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		p.fetches.Add(1)
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.cacheControl != "" {
			w.Header().Set("Cache-Control", p.cacheControl)
		}
		w.WriteHeader(p.status)
		var doc struct {
			Keys []map[string]string `json:"keys"`
		}
		for kid, k := range p.keys {
			doc.Keys = append(doc.Keys, jwk(kid, k))
		}
		json.NewEncoder(w).Encode(doc)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *idp) set(f func(p *idp)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f(p)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func jwk(kid string, k any) map[string]string {
	switch k := k.(type) {
	case *rsa.PublicKey:
		return map[string]string{"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
			"n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())}
	case *ecdsa.PublicKey:
		raw, err := k.Bytes()
		if err != nil {
			panic(err)
		}
		return map[string]string{"kty": "EC", "kid": kid, "crv": "P-256", "x": b64(raw[1:33]), "y": b64(raw[33:])}
	}
	panic("unknown key type")
}

// clock is the verifier's time, moved by the test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type bundle struct {
	idp   *idp
	clock *clock
	v     *jwtauth.Verifier
}

// setup builds a verifier that accepts both HS256 (secret) and RS256/ES256
// (the idp's JWKS); adjust changes its configuration.
func setup(t *testing.T, adjust ...func(*jwtauth.Config)) *bundle {
	t.Helper()
	b := &bundle{idp: newIDP(t), clock: &clock{t: time.Now().Truncate(time.Second)}}
	c := jwtauth.Config{HS256Secret: []byte(secret), JWKSURL: b.idp.srv.URL, Issuer: "https://idp.example",
		Audience: "kalcifer", ClockSkew: time.Minute, Now: b.clock.Now}
	for _, f := range adjust {
		f(&c)
	}
	v, err := jwtauth.New(c)
	if err != nil {
		t.Fatalf("new verifier: %v", err)
	}
	b.v = v
	return b
}

// claims are a valid token's claims at now; edit changes them.
func claims(now time.Time, edit ...func(jwt.MapClaims)) jwt.MapClaims {
	c := jwt.MapClaims{"sub": "ada@example.com", "tenant": "default", "role": "editor", "iss": "https://idp.example",
		"aud": "kalcifer", "iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix()}
	for _, f := range edit {
		f(c)
	}
	return c
}

func sign(t *testing.T, m jwt.SigningMethod, key any, kid string, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return s
}

func TestValidTokens(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r, e := keys(t)
	now := b.clock.Now()
	for name, tok := range map[string]string{
		"HS256": sign(t, jwt.SigningMethodHS256, []byte(secret), "", claims(now)),
		"RS256": sign(t, jwt.SigningMethodRS256, r, "rsa-1", claims(now)),
		"ES256": sign(t, jwt.SigningMethodES256, e, "ec-1", claims(now)),
		// Within the clock skew of its expiry.
		"skew": sign(t, jwt.SigningMethodHS256, []byte(secret), "", claims(now, func(c jwt.MapClaims) {
			c["exp"] = now.Add(-30 * time.Second).Unix()
		})),
		// An audience list that includes ours.
		"aud list": sign(t, jwt.SigningMethodHS256, []byte(secret), "", claims(now, func(c jwt.MapClaims) {
			c["aud"] = []string{"other", "kalcifer"}
		})),
	} {
		p, err := b.v.Verify(tok)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want := kalcifer.Principal{TenantID: "default", Role: kalcifer.RoleEditor, Subject: "ada@example.com"}
		if p != want || p.Actor() != "jwt:ada@example.com" {
			t.Fatalf("%s: principal = %+v (actor %s)", name, p, p.Actor())
		}
	}
}

func TestRefusedTokens(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r, e := keys(t)
	now := b.clock.Now()
	hs := func(edit ...func(jwt.MapClaims)) string {
		return sign(t, jwt.SigningMethodHS256, []byte(secret), "", claims(now, edit...))
	}
	valid := sign(t, jwt.SigningMethodRS256, r, "rsa-1", claims(now))
	parts := strings.Split(valid, ".")
	payload, _ := json.Marshal(claims(now, func(c jwt.MapClaims) { c["role"] = "admin" }))
	tampered := parts[0] + "." + b64(payload) + "." + parts[2]
	unsigned := b64([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + b64(payload) + "."
	otherRSA, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct{ name, token, want string }{
		{"alg none", unsigned, "unsigned tokens (alg none) are never accepted; this server accepts HS256, RS256, ES256"},
		{"alg none by the library", sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "", claims(now)), "alg none"},
		{"HS384", sign(t, jwt.SigningMethodHS384, []byte(secret), "", claims(now)), "tokens signed with HS384 are not accepted"},
		{"tampered payload", tampered, `signature is invalid: it does not match the JWKS key "rsa-1"`},
		{"wrong secret", sign(t, jwt.SigningMethodHS256, []byte(strings.Repeat("x", 40)), "", claims(now)), "does not match the HS256 shared secret"},
		{"signed by a key the JWKS does not hold", sign(t, jwt.SigningMethodRS256, otherRSA, "rsa-1", claims(now)), "signature is invalid"},
		{"expired", hs(func(c jwt.MapClaims) { c["exp"] = now.Add(-2 * time.Minute).Unix() }),
			"the token expired at " + now.Add(-2*time.Minute).UTC().Format(time.RFC3339)},
		{"not yet valid", hs(func(c jwt.MapClaims) { c["nbf"] = now.Add(5 * time.Minute).Unix() }),
			"the token is not valid before " + now.Add(5*time.Minute).UTC().Format(time.RFC3339)},
		{"issued in the future", hs(func(c jwt.MapClaims) { c["iat"] = now.Add(5 * time.Minute).Unix() }), "issued in the future"},
		{"no exp", hs(func(c jwt.MapClaims) { delete(c, "exp") }), "the token has no exp claim"},
		{"wrong audience", hs(func(c jwt.MapClaims) { c["aud"] = "billing" }), `audience is ["billing"]; this server expects "kalcifer"`},
		{"no audience", hs(func(c jwt.MapClaims) { delete(c, "aud") }), `no aud claim; this server expects "kalcifer"`},
		{"no issuer", hs(func(c jwt.MapClaims) { delete(c, "iss") }), `no iss claim; this server expects "https://idp.example"`},
		{"wrong issuer", hs(func(c jwt.MapClaims) { c["iss"] = "https://evil.example" }),
			`issuer is "https://evil.example"; this server expects "https://idp.example"`},
		{"no sub", hs(func(c jwt.MapClaims) { delete(c, "sub") }), "no sub claim"},
		{"no tenant", hs(func(c jwt.MapClaims) { delete(c, "tenant") }), "no tenant claim"},
		{"tenant not a string", hs(func(c jwt.MapClaims) { c["tenant"] = 7 }), "no tenant claim"},
		{"no role", hs(func(c jwt.MapClaims) { delete(c, "role") }), "no role claim"},
		{"unknown role", hs(func(c jwt.MapClaims) { c["role"] = "root" }), `role claim is "root": use viewer, editor, admin or ingest`},
		{"no kid", sign(t, jwt.SigningMethodRS256, r, "", claims(now)), "no kid header"},
		{"RS256 header on the EC key", sign(t, jwt.SigningMethodRS256, r, "ec-1", claims(now)), `signed with RS256, but its key "ec-1" is a ES256 key`},
		{"ES256 header on the RSA key", sign(t, jwt.SigningMethodES256, e, "rsa-1", claims(now)), `signed with ES256, but its key "rsa-1" is a RS256 key`},
		{"malformed", "abc.def.ghi", "malformed JWT"},
	} {
		_, err := b.v.Verify(c.token)
		if kalcifer.ErrorCode(err) != kalcifer.EUNAUTHORIZED || !strings.Contains(kalcifer.ErrorMessage(err), c.want) {
			t.Errorf("%s: err = %v, want unauthorized with %q", c.name, err, c.want)
		}
		if strings.Contains(kalcifer.ErrorMessage(err), secret) {
			t.Errorf("%s: the message shows the secret: %v", c.name, err)
		}
	}
}

// An HS256 token whose HMAC key is the RSA public key's PEM — public, so
// anyone can make one — must never verify: the secret is the only HS256 key.
func TestAlgorithmConfusion(t *testing.T) {
	t.Parallel()
	r, _ := keys(t)
	der, err := x509.MarshalPKIXPublicKey(&r.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	publicPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	for name, adjust := range map[string]func(*jwtauth.Config){
		"secret and JWKS": func(*jwtauth.Config) {},
		"JWKS only":       func(c *jwtauth.Config) { c.HS256Secret = nil },
	} {
		b := setup(t, adjust)
		forged := sign(t, jwt.SigningMethodHS256, publicPEM, "rsa-1", claims(b.clock.Now(), func(c jwt.MapClaims) { c["role"] = "admin" }))
		// It is a real forgery: a verifier that took the public key as the
		// HMAC key would accept it.
		if _, err := jwt.Parse(forged, func(*jwt.Token) (any, error) { return publicPEM, nil }, jwt.WithAudience("kalcifer")); err != nil {
			t.Fatalf("the forged token does not verify with the PEM: %v", err)
		}
		p, err := b.v.Verify(forged)
		if err == nil {
			t.Fatalf("%s: the forged HS256 token was accepted: %+v", name, p)
		}
		if kalcifer.ErrorCode(err) != kalcifer.EUNAUTHORIZED {
			t.Fatalf("%s: err = %v", name, err)
		}
	}
}

// Each key source verifies only its own algorithms.
func TestSourcesArePinned(t *testing.T) {
	t.Parallel()
	r, _ := keys(t)
	secretOnly := setup(t, func(c *jwtauth.Config) { c.JWKSURL = "" })
	_, err := secretOnly.v.Verify(sign(t, jwt.SigningMethodRS256, r, "rsa-1", claims(secretOnly.clock.Now())))
	if !strings.Contains(kalcifer.ErrorMessage(err), "tokens signed with RS256 are not accepted; this server accepts HS256") {
		t.Fatalf("secret only, RS256: %v", err)
	}
	if n := secretOnly.idp.fetches.Load(); n != 0 {
		t.Fatalf("a secret-only verifier fetched a JWKS %d times", n)
	}
	jwksOnly := setup(t, func(c *jwtauth.Config) { c.HS256Secret = nil })
	_, err = jwksOnly.v.Verify(sign(t, jwt.SigningMethodHS256, []byte(secret), "", claims(jwksOnly.clock.Now())))
	if !strings.Contains(kalcifer.ErrorMessage(err), "tokens signed with HS256 are not accepted; this server accepts RS256, ES256") {
		t.Fatalf("JWKS only, HS256: %v", err)
	}
}

// The JWKS is fetched once and kept; an unknown kid refetches it at most
// once per JWKSMinInterval, so made-up kids cannot hammer the JWKS server.
func TestJWKSFetches(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r, _ := keys(t)
	rotated, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	verify := func(kid string, key *rsa.PrivateKey) error {
		_, err := b.v.Verify(sign(t, jwt.SigningMethodRS256, key, kid, claims(b.clock.Now())))
		return err
	}
	wantFetches := func(step string, n int64) {
		t.Helper()
		if got := b.idp.fetches.Load(); got != n {
			t.Fatalf("%s: %d fetches, want %d", step, got, n)
		}
	}

	// HS256 tokens never touch the JWKS.
	if _, err := b.v.Verify(sign(t, jwt.SigningMethodHS256, []byte(secret), "", claims(b.clock.Now()))); err != nil {
		t.Fatal(err)
	}
	wantFetches("HS256", 0)
	for range 5 {
		if err := verify("rsa-1", r); err != nil {
			t.Fatal(err)
		}
	}
	wantFetches("known kid", 1)

	// Past the minimum interval, an unknown kid refetches the document
	// once; more unknown kids then cost nothing.
	b.clock.advance(jwtauth.JWKSMinInterval + time.Second)
	for i := range 50 {
		err := verify("rotated", rotated)
		if !strings.Contains(kalcifer.ErrorMessage(err), `the token's kid "rotated" names no key of the JWKS`) {
			t.Fatalf("unknown kid %d: %v", i, err)
		}
	}
	wantFetches("unknown kid", 2)

	// The provider rotates; within the interval the new kid is still
	// unknown, after it the next token brings it in.
	b.idp.set(func(p *idp) { p.keys["rotated"] = &rotated.PublicKey })
	b.clock.advance(jwtauth.JWKSMinInterval / 2)
	if err := verify("rotated", rotated); err == nil {
		t.Fatal("the rotated key was fetched within the minimum interval")
	}
	wantFetches("rotated, too soon", 2)
	b.clock.advance(jwtauth.JWKSMinInterval / 2)
	if err := verify("rotated", rotated); err != nil {
		t.Fatalf("rotated: %v", err)
	}
	wantFetches("rotated", 3)
	if err := verify("rsa-1", r); err != nil {
		t.Fatal(err)
	}
	wantFetches("cached", 3)

	// Without Cache-Control the document is kept JWKSRefresh.
	b.clock.advance(jwtauth.JWKSRefresh - time.Second)
	if err := verify("rsa-1", r); err != nil {
		t.Fatal(err)
	}
	wantFetches("before refresh", 3)
	b.clock.advance(2 * time.Second)
	if err := verify("rsa-1", r); err != nil {
		t.Fatal(err)
	}
	wantFetches("after refresh", 4)
}

// A Cache-Control max-age sets how long the document is kept.
func TestJWKSCacheControl(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r, _ := keys(t)
	b.idp.set(func(p *idp) { p.cacheControl = "public, max-age=3600" })
	verify := func() {
		t.Helper()
		if _, err := b.v.Verify(sign(t, jwt.SigningMethodRS256, r, "rsa-1", claims(b.clock.Now()))); err != nil {
			t.Fatal(err)
		}
	}
	verify()
	b.clock.advance(59 * time.Minute)
	verify()
	if n := b.idp.fetches.Load(); n != 1 {
		t.Fatalf("%d fetches within max-age, want 1", n)
	}
	b.clock.advance(2 * time.Minute)
	verify()
	if n := b.idp.fetches.Load(); n != 2 {
		t.Fatalf("%d fetches after max-age, want 2", n)
	}
}

// A JWKS server that fails is asked again at most once per interval, its
// keys are missed only until it recovers, and a cached document outlives
// a failed refresh.
func TestJWKSUnavailable(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r, _ := keys(t)
	verify := func() error {
		_, err := b.v.Verify(sign(t, jwt.SigningMethodRS256, r, "rsa-1", claims(b.clock.Now())))
		return err
	}
	b.idp.set(func(p *idp) { p.status = http.StatusInternalServerError })
	for range 10 {
		if err := verify(); !errors.Is(err, jwtauth.ErrKeysUnavailable) || kalcifer.ErrorCode(err) != kalcifer.EINTERNAL {
			t.Fatalf("err = %v", err)
		}
	}
	if n := b.idp.fetches.Load(); n != 1 {
		t.Fatalf("%d fetches of a failing JWKS, want 1", n)
	}
	b.idp.set(func(p *idp) { p.status = http.StatusOK })
	b.clock.advance(jwtauth.JWKSMinInterval)
	if err := verify(); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
	// The server fails again when the document is due: the old keys serve.
	b.idp.set(func(p *idp) { p.status = http.StatusBadGateway })
	b.clock.advance(jwtauth.JWKSRefresh + time.Second)
	if err := verify(); err != nil {
		t.Fatalf("stale keys after a failed refresh: %v", err)
	}
	if n := b.idp.fetches.Load(); n != 3 {
		t.Fatalf("%d fetches, want 3", n)
	}
}

// A document over MaxJWKSBytes is refused, not read into memory.
func TestJWKSTooLarge(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte(`{"keys":[],"pad":"`))
		w.Write([]byte(strings.Repeat("x", jwtauth.MaxJWKSBytes)))
		w.Write([]byte(`"}`))
	}))
	t.Cleanup(srv.Close)
	b := setup(t, func(c *jwtauth.Config) { c.JWKSURL = srv.URL })
	r, _ := keys(t)
	_, err := b.v.Verify(sign(t, jwt.SigningMethodRS256, r, "rsa-1", claims(b.clock.Now())))
	if !errors.Is(err, jwtauth.ErrKeysUnavailable) || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("err = %v", err)
	}
}

func TestNewRefuses(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]jwtauth.Config{
		"no source":    {Audience: "kalcifer"},
		"no audience":  {HS256Secret: []byte(secret)},
		"short secret": {HS256Secret: []byte("short"), Audience: "kalcifer"},
		"bad URL":      {JWKSURL: "ftp://idp.example/jwks", Audience: "kalcifer"},
	} {
		if _, err := jwtauth.New(c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestLooksLikeJWT(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{
		"eyJh.eyJz.sig":       true,
		"eyJh.eyJz.":          true, // unsigned: refused by name later
		"kal_ABCDEF":          false,
		"a.b":                 false,
		"a.b.c.d":             false,
		".b.c":                false,
		"a.b.c d":             false,
		"a+b.c.d":             false,
		"test-admin-key-1234": false,
	} {
		if got := jwtauth.LooksLikeJWT(s); got != want {
			t.Errorf("LooksLikeJWT(%q) = %v", s, got)
		}
	}
}

// Concurrent first tokens share one fetch.
func TestJWKSConcurrentFirstUse(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r, _ := keys(t)
	tok := sign(t, jwt.SigningMethodRS256, r, "rsa-1", claims(b.clock.Now()))
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for range 32 {
		wg.Go(func() {
			_, err := b.v.Verify(tok)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := b.idp.fetches.Load(); n != 1 {
		t.Fatalf("%d fetches for 32 concurrent first tokens, want 1", n)
	}
}
