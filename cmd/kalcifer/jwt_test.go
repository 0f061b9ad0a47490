package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const e2eJWTSecret = "e2e-jwt-secret-0123456789abcdefghij"

func TestJWTConfig(t *testing.T) {
	t.Parallel()
	c, err := LoadConfig(envOf(map[string]string{}), nil)
	if err != nil || c.JWT.Enabled() {
		t.Fatalf("JWT on by default: %+v, %v", c.JWT, err)
	}
	c, err = LoadConfig(envOf(map[string]string{"KALCIFER_JWT_JWKS_URL": "https://idp.example/jwks.json"}),
		[]string{"-jwt-audience", "kalcifer", "-jwt-clock-skew", "5s", "-jwt-tenant-claim", "https://kalcifer/tenant"})
	if err != nil || !c.JWT.Enabled() || c.JWT.Audience != "kalcifer" || c.JWT.ClockSkew != 5*time.Second ||
		c.JWT.TenantClaim != "https://kalcifer/tenant" || c.JWT.RoleClaim != "role" {
		t.Fatalf("JWKS config: %+v, %v", c.JWT, err)
	}
	on := map[string]string{"KALCIFER_JWT_HS256_SECRET": e2eJWTSecret, "KALCIFER_JWT_AUDIENCE": "kalcifer"}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range on {
			m[a] = b
		}
		m[k] = v
		return m
	}
	for name, c := range map[string]struct {
		env  map[string]string
		want string
	}{
		"no audience":       {map[string]string{"KALCIFER_JWT_HS256_SECRET": e2eJWTSecret}, "KALCIFER_JWT_AUDIENCE is required when JWT sign-in is on"},
		"JWKS, no audience": {map[string]string{"KALCIFER_JWT_JWKS_URL": "https://idp.example/jwks"}, "KALCIFER_JWT_AUDIENCE is required"},
		"short secret":      {with("KALCIFER_JWT_HS256_SECRET", "too-short"), "KALCIFER_JWT_HS256_SECRET must be at least 32 bytes"},
		"PEM secret":        {with("KALCIFER_JWT_HS256_SECRET", "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n"), "looks like a PEM key"},
		"bad JWKS URL":      {with("KALCIFER_JWT_JWKS_URL", "idp.example/jwks"), "KALCIFER_JWT_JWKS_URL must be an http(s) URL"},
		"bad skew":          {with("KALCIFER_JWT_CLOCK_SKEW", "1h"), "KALCIFER_JWT_CLOCK_SKEW must be a duration from 0s to 10m"},
		"same claims":       {with("KALCIFER_JWT_ROLE_CLAIM", "tenant"), "must name different claims"},
		"audience, JWT off": {map[string]string{"KALCIFER_JWT_AUDIENCE": "kalcifer"}, "KALCIFER_JWT_AUDIENCE is set, but JWT sign-in is off"},
		"issuer, JWT off":   {map[string]string{"KALCIFER_JWT_ISSUER": "https://idp.example"}, "KALCIFER_JWT_ISSUER is set, but JWT sign-in is off"},
		"role claim, off":   {map[string]string{"KALCIFER_JWT_ROLE_CLAIM": "roles"}, "KALCIFER_JWT_ROLE_CLAIM is set, but JWT sign-in is off"},
	} {
		_, err := LoadConfig(envOf(c.env), nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), e2eJWTSecret) {
			t.Errorf("%s: the error shows the secret: %v", name, err)
		}
	}
}

// The real server, configured through its settings, accepts a token user.
func TestJWTServer(t *testing.T) {
	t.Parallel()
	m := start(t, map[string]string{"KALCIFER_DATA_DIR": t.TempDir(), "KALCIFER_ADMIN_API_KEY": adminKey,
		"KALCIFER_JWT_HS256_SECRET": e2eJWTSecret, "KALCIFER_JWT_AUDIENCE": "kalcifer", "KALCIFER_JWT_ISSUER": "https://idp.example",
		"KALCIFER_JWT_TENANT_CLAIM": "org", "KALCIFER_JWT_ROLE_CLAIM": "kalcifer_role"}, &strings.Builder{})
	t.Cleanup(func() { m.Close() })
	c := client{t: t, base: "http://" + m.Addr().String()}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "grace", "org": "default", "kalcifer_role": "editor",
		"iss": "https://idp.example", "aud": "kalcifer", "exp": time.Now().Add(time.Hour).Unix()}).SignedString([]byte(e2eJWTSecret))
	if err != nil {
		t.Fatal(err)
	}
	var j struct{ ID string }
	c.do("POST", "/api/v1/journeys", tok, `{"name":"by grace"}`, http.StatusCreated, &j)
	var audit struct{ Data []struct{ Actor string } }
	c.do("GET", "/api/v1/audit?resource_id="+j.ID, adminKey, "", http.StatusOK, &audit)
	if len(audit.Data) != 1 || audit.Data[0].Actor != "jwt:grace" {
		t.Fatalf("audit = %+v", audit.Data)
	}
	c.do("GET", "/api/v1/audit", tok, "", http.StatusForbidden, nil)
}
