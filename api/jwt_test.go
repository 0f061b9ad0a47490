package api_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/jwtauth"
)

const jwtSecret = "api-test-hs256-secret-of-32-bytes-or-more"

// jwksPath is where the test identity provider serves its keys.
const jwksPath = "/.well-known/jwks.json"

// jwtIDP is an identity provider for the API tests: freshly made RSA and
// P-256 keys, published as a JWKS by a real HTTP server.
type jwtIDP struct {
	rsa     *rsa.PrivateKey
	ec      *ecdsa.PrivateKey
	srv     *httptest.Server
	fetches atomic.Int64
	down    atomic.Bool
}

func newJWTIDP(t *testing.T) *jwtIDP {
	t.Helper()
	p := &jwtIDP{}
	var err error
	if p.rsa, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	if p.ec, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	point, err := p.ec.PublicKey.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := json.Marshal(map[string]any{"keys": []map[string]string{
		{"kty": "RSA", "kid": "rsa-1", "use": "sig", "n": enc(p.rsa.N.Bytes()), "e": enc(big.NewInt(int64(p.rsa.E)).Bytes())},
		{"kty": "EC", "kid": "ec-1", "crv": "P-256", "x": enc(point[1:33]), "y": enc(point[33:])},
	}})
	if err != nil {
		t.Fatal(err)
	}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Count only JWKS fetches: a parallel test's client may still call
		// a port this server has since been given.
		if r.Method != http.MethodGet || r.URL.Path != jwksPath {
			http.NotFound(w, r)
			return
		}
		p.fetches.Add(1)
		if p.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(doc)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// setupJWT serves the API accepting HS256 tokens and the idp's JWKS tokens
// for the audience "kalcifer" from the issuer "https://idp.example".
func setupJWT(t *testing.T) (*testBundle, *jwtIDP) {
	t.Helper()
	idp := newJWTIDP(t)
	v, err := jwtauth.New(jwtauth.Config{HS256Secret: []byte(jwtSecret), JWKSURL: idp.srv.URL + jwksPath,
		Issuer: "https://idp.example", Audience: "kalcifer", ClockSkew: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return setup(t, func(o *setupOptions) { o.jwt = v }), idp
}

// token signs claims for sub in tenant with role; edit changes them.
func token(t *testing.T, m jwt.SigningMethod, key any, kid, tenant, role string, edit ...func(jwt.MapClaims)) string {
	t.Helper()
	now := time.Now()
	c := jwt.MapClaims{"sub": "ada@example.com", "tenant": tenant, "role": role, "iss": "https://idp.example",
		"aud": "kalcifer", "iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix()}
	for _, f := range edit {
		f(c)
	}
	tok := jwt.NewWithClaims(m, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func hsToken(t *testing.T, tenant, role string, edit ...func(jwt.MapClaims)) string {
	t.Helper()
	return token(t, jwt.SigningMethodHS256, []byte(jwtSecret), "", tenant, role, edit...)
}

func TestJWTSignIn(t *testing.T) {
	t.Parallel()
	tb, idp := setupJWT(t)

	// An editor's token writes; the audit log names the token's subject.
	editor := hsToken(t, "default", "editor")
	var j kalcifer.Journey
	tb.do("POST", "/api/v1/journeys", editor, map[string]any{"name": "by token"}).want(t, http.StatusCreated).into(t, &j)
	var audit kalcifer.Page[kalcifer.AuditEntry]
	tb.do("GET", "/api/v1/audit?resource_type=journey&resource_id="+j.ID, tb.admin, nil).want(t, http.StatusOK).into(t, &audit)
	if len(audit.Data) != 1 || audit.Data[0].Actor != "jwt:ada@example.com" {
		t.Fatalf("audit = %+v", audit.Data)
	}

	// RS256 and ES256 tokens from the JWKS read; the JWKS is fetched once.
	for _, tok := range []string{
		token(t, jwt.SigningMethodRS256, idp.rsa, "rsa-1", "default", "viewer"),
		token(t, jwt.SigningMethodES256, idp.ec, "ec-1", "default", "viewer"),
	} {
		tb.do("GET", "/api/v1/journeys/"+j.ID, tok, nil).want(t, http.StatusOK)
	}
	if n := idp.fetches.Load(); n != 1 {
		t.Fatalf("JWKS fetched %d times", n)
	}

	// The role claim is respected: a viewer's token cannot write.
	viewer := token(t, jwt.SigningMethodRS256, idp.rsa, "rsa-1", "default", "viewer")
	e := tb.do("POST", "/api/v1/journeys", viewer, map[string]any{"name": "x"}).wantError(t, http.StatusForbidden, "forbidden")
	if !strings.Contains(e.Message, "this token is viewer") {
		t.Fatalf("forbidden message = %q", e.Message)
	}
	tb.do("GET", "/api/v1/audit", editor, nil).wantError(t, http.StatusForbidden, "forbidden")
	ingest := hsToken(t, "default", "ingest")
	tb.do("GET", "/api/v1/journeys", ingest, nil).wantError(t, http.StatusForbidden, "forbidden")

	// A token for another tenant sees nothing of this one's.
	acme := hsToken(t, "acme", "admin")
	tb.do("GET", "/api/v1/journeys/"+j.ID, acme, nil).wantError(t, http.StatusNotFound, "not_found")
	tb.do("PUT", "/api/v1/journeys/"+j.ID, acme, map[string]any{"name": "stolen"}).wantError(t, http.StatusNotFound, "not_found")
	var page kalcifer.Page[kalcifer.Journey]
	tb.do("GET", "/api/v1/journeys", acme, nil).want(t, http.StatusOK).into(t, &page)
	if len(page.Data) != 0 {
		t.Fatalf("acme's token lists default's journeys: %+v", page.Data)
	}

	// API keys work beside tokens.
	tb.do("GET", "/api/v1/journeys/"+j.ID, tb.viewer, nil).want(t, http.StatusOK)
}

func TestJWTRefused(t *testing.T) {
	t.Parallel()
	tb, idp := setupJWT(t)
	enc := base64.RawURLEncoding.EncodeToString
	payload := enc([]byte(`{"sub":"x","tenant":"default","role":"admin","aud":"kalcifer","iss":"https://idp.example","exp":9999999999}`))
	viewer := token(t, jwt.SigningMethodRS256, idp.rsa, "rsa-1", "default", "viewer")
	parts := strings.Split(viewer, ".")
	der, err := x509.MarshalPKIXPublicKey(&idp.rsa.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	publicPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	expired := time.Now().Add(-time.Hour).Truncate(time.Second)

	for _, c := range []struct{ name, token, want string }{
		{"alg none", enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + payload + ".", "alg none"},
		{"HS/RS confusion", token(t, jwt.SigningMethodHS256, publicPEM, "rsa-1", "default", "admin"), "does not match the HS256 shared secret"},
		{"tampered payload", parts[0] + "." + payload + "." + parts[2], "signature is invalid"},
		{"expired", hsToken(t, "default", "admin", func(c jwt.MapClaims) { c["exp"] = expired.Unix() }),
			"expired at " + expired.UTC().Format(time.RFC3339)},
		{"not yet valid", hsToken(t, "default", "admin", func(c jwt.MapClaims) { c["nbf"] = time.Now().Add(time.Hour).Unix() }), "not valid before"},
		{"wrong audience", hsToken(t, "default", "admin", func(c jwt.MapClaims) { c["aud"] = "other" }), `expects "kalcifer"`},
		{"wrong issuer", hsToken(t, "default", "admin", func(c jwt.MapClaims) { c["iss"] = "https://evil.example" }), `expects "https://idp.example"`},
		{"unknown kid", token(t, jwt.SigningMethodRS256, idp.rsa, "rsa-9", "default", "admin"), `kid "rsa-9" names no key`},
		{"no tenant", hsToken(t, "default", "admin", func(c jwt.MapClaims) { delete(c, "tenant") }), "no tenant claim"},
		{"no role", hsToken(t, "default", "admin", func(c jwt.MapClaims) { delete(c, "role") }), "no role claim"},
		{"bad role", hsToken(t, "default", "owner"), `role claim is "owner"`},
		{"unknown tenant", hsToken(t, "nope", "admin"), `the token's tenant "nope" does not exist`},
		{"malformed", "eyJhbGciOi.eyJzdWIi.c2ln", "malformed JWT"},
	} {
		e := tb.do("GET", "/api/v1/journeys", c.token, nil).wantError(t, http.StatusUnauthorized, "unauthorized")
		if !strings.Contains(e.Message, c.want) || strings.Contains(e.Message, jwtSecret) {
			t.Errorf("%s: message %q, want %q", c.name, e.Message, c.want)
		}
	}
	// The unknown kid refetched the JWKS once; more cost nothing.
	before := idp.fetches.Load()
	for range 20 {
		tb.do("GET", "/api/v1/journeys", token(t, jwt.SigningMethodRS256, idp.rsa, "rsa-9", "default", "admin"), nil).
			wantError(t, http.StatusUnauthorized, "unauthorized")
	}
	if n := idp.fetches.Load(); n != before || n > 2 {
		t.Fatalf("JWKS fetched %d times (%d before the unknown kids)", n, before)
	}
}

// Revoking a key stops it on the very next request, also when the admin
// revoking it signed in with a token.
func TestJWTAdminRevokesKey(t *testing.T) {
	t.Parallel()
	tb, _ := setupJWT(t)
	admin := hsToken(t, "default", "admin")
	var created struct {
		Key    kalcifer.APIKey `json:"key"`
		Secret string          `json:"secret"`
	}
	tb.do("POST", "/api/v1/api-keys", admin, map[string]any{"name": "ci", "role": "editor"}).want(t, http.StatusCreated).into(t, &created)
	tb.do("GET", "/api/v1/journeys", created.Secret, nil).want(t, http.StatusOK) // cached now
	tb.do("DELETE", "/api/v1/api-keys/"+created.Key.ID, admin, nil).want(t, http.StatusNoContent)
	tb.do("GET", "/api/v1/journeys", created.Secret, nil).wantError(t, http.StatusUnauthorized, "unauthorized")

	var audit kalcifer.Page[kalcifer.AuditEntry]
	tb.do("GET", "/api/v1/audit?resource_type=api_key&resource_id="+created.Key.ID, admin, nil).want(t, http.StatusOK).into(t, &audit)
	if len(audit.Data) != 2 || audit.Data[0].Action != "api_key.revoke" || audit.Data[0].Actor != "jwt:ada@example.com" {
		t.Fatalf("audit = %+v", audit.Data)
	}
}

// A server without JWT settings says so when it gets a token; one whose
// JWKS is down answers 503, not 401: the token may be fine.
func TestJWTOffAndKeysDown(t *testing.T) {
	t.Parallel()
	off := setup(t)
	e := off.do("GET", "/api/v1/journeys", hsToken(t, "default", "admin"), nil).wantError(t, http.StatusUnauthorized, "unauthorized")
	if !strings.Contains(e.Message, "does not accept JWTs") {
		t.Fatalf("message = %q", e.Message)
	}

	tb, idp := setupJWT(t)
	idp.down.Store(true)
	tb.do("GET", "/api/v1/journeys", token(t, jwt.SigningMethodRS256, idp.rsa, "rsa-1", "default", "admin"), nil).
		wantError(t, http.StatusServiceUnavailable, "unavailable")
	tb.do("GET", "/api/v1/journeys", hsToken(t, "default", "admin"), nil).want(t, http.StatusOK)
}
