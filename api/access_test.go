package api_test

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/jwtauth"
	"github.com/kalcifer/kalcifer/segment"
	"github.com/kalcifer/kalcifer/store"
)

// documentedRoles reads the roles every operation of openapi.json admits
// (x-kalcifer-roles), keyed "METHOD /path/{param}" as the router spells its
// routes. Public operations (security: []) map to nil.
func documentedRoles(t *testing.T) map[string][]kalcifer.Role {
	t.Helper()
	raw, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	roles := map[string][]kalcifer.Role{}
	for path, ops := range doc.Paths {
		for method, rawOp := range ops {
			if method == "parameters" {
				continue
			}
			var op struct {
				Security *[]any          `json:"security"`
				Roles    []kalcifer.Role `json:"x-kalcifer-roles"`
			}
			if err := json.Unmarshal(rawOp, &op); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			key := strings.ToUpper(method) + " " + path
			public := op.Security != nil && len(*op.Security) == 0
			switch {
			case public && op.Roles != nil:
				t.Errorf("%s is public but names roles %v", key, op.Roles)
			case public:
				roles[key] = nil
			case len(op.Roles) == 0:
				t.Errorf("%s names no x-kalcifer-roles: say which roles may call it", key)
			default:
				for _, r := range op.Roles {
					if !r.Valid() {
						t.Errorf("%s: unknown role %q", key, r)
					}
				}
				roles[key] = op.Roles
			}
		}
	}
	return roles
}

// fixtures makes one of each resource a route can name, in the tenant of
// key (an admin key), and returns the value of every path parameter.
func (tb *testBundle) fixtures(key, customer string) map[string]string {
	tb.t.Helper()
	t := tb.t
	var j kalcifer.Journey
	tb.do("POST", "/api/v1/journeys", key, map[string]any{"name": "fixture", "graph": json.RawMessage(waitingGraph)}).
		want(t, http.StatusCreated).into(t, &j)
	tb.do("POST", "/api/v1/journeys/"+j.ID+"/activate", key, nil).want(t, http.StatusOK)
	tb.do("POST", "/api/v1/journeys/"+j.ID+"/trigger", key, `{"customer_ids":["`+customer+`"]}`).
		want(t, http.StatusAccepted)
	var inst kalcifer.Instance
	tb.eventually("the fixture customer enters", func() bool {
		var page kalcifer.Page[kalcifer.Instance]
		tb.do("GET", "/api/v1/journeys/"+j.ID+"/instances", key, nil).want(t, http.StatusOK).into(t, &page)
		if len(page.Data) == 0 {
			return false
		}
		inst = page.Data[0]
		return true
	})
	tb.do("PATCH", "/api/v1/customers/"+customer+"/profile", key, map[string]any{"attributes": map[string]any{"plan": "gold"}}).
		want(t, http.StatusOK)

	var v kalcifer.Version
	tb.do("POST", "/api/v1/journeys/"+j.ID+"/versions", key, map[string]any{"graph": json.RawMessage(waitingGraph)}).
		want(t, http.StatusCreated).into(t, &v)
	var plan kalcifer.PublishPlan
	tb.do("POST", fmt.Sprintf("/api/v1/journeys/%s/versions/%d/publish", j.ID, v.Version), key,
		map[string]any{"migration_strategy": "migrate_all"}).want(t, http.StatusCreated).into(t, &plan)
	tb.eventually("the fixture migration settles", func() bool {
		var m kalcifer.Migration
		tb.do("GET", "/api/v1/migrations/"+plan.Migration.ID, key, nil).want(t, http.StatusOK).into(t, &m)
		return m.Status != kalcifer.MigrationRunning && m.Status != kalcifer.MigrationAborting
	})

	var conv struct {
		ConversationID string `json:"conversation_id"`
	}
	tb.do("POST", "/api/v1/ai/conversations", key, map[string]any{"message": "Send a welcome email when someone signs up."}).
		want(t, http.StatusOK).into(t, &conv)

	var created struct {
		Key kalcifer.APIKey `json:"key"`
	}
	tb.do("POST", "/api/v1/api-keys", key, map[string]any{"name": "fixture", "role": "viewer"}).
		want(t, http.StatusCreated).into(t, &created)

	var tpl kalcifer.Template
	tb.do("POST", "/api/v1/templates", key, map[string]any{"name": "fixture", "channel": "sms", "body": "Hi {{ customer.id }}"}).
		want(t, http.StatusCreated).into(t, &tpl)

	var seg segment.Segment
	tb.do("POST", "/api/v1/segments", key, map[string]any{"name": "fixture", "rule_text": `plan = "pro"`}).
		want(t, http.StatusCreated).into(t, &seg)

	var prv kalcifer.ProviderAccount
	tb.do("POST", "/api/v1/providers", key, map[string]any{"name": "fixture", "channel": "email", "type": "log"}).
		want(t, http.StatusCreated).into(t, &prv)

	// Two webhook tokens: one for the routes naming a token (which may
	// revoke it), one to call with.
	var hook, caller struct {
		Token  kalcifer.WebhookToken `json:"token"`
		Secret string                `json:"secret"`
	}
	tb.do("POST", "/api/v1/journeys/"+j.ID+"/webhook-tokens", key, map[string]any{"name": "fixture"}).
		want(t, http.StatusCreated).into(t, &hook)
	tb.do("POST", "/api/v1/journeys/"+j.ID+"/webhook-tokens", key, map[string]any{"name": "caller"}).
		want(t, http.StatusCreated).into(t, &caller)
	tb.webhookTokens = append(tb.webhookTokens, caller.Secret)

	var sub struct{ ID string }
	tb.do("POST", "/api/v1/webhook-subscriptions", key, map[string]any{"url": "https://hooks.example.com/in", "events": []string{"customer.entered"}}).
		want(t, http.StatusCreated).into(t, &sub)
	tenant := kalcifer.DefaultTenantID
	if key != tb.admin {
		tenant = "acme"
	}
	if err := tb.store.WithEngineTx(context.Background(), func(tx *store.EngineTx) error {
		return tx.EnqueueHooks([]kalcifer.HookEvent{{Type: kalcifer.HookCustomerEntered, TenantID: tenant, JourneyID: j.ID, CustomerID: customer}})
	}); err != nil {
		t.Fatal(err)
	}
	var deliveries kalcifer.Page[kalcifer.HookDelivery]
	tb.do("GET", "/api/v1/webhook-subscriptions/"+sub.ID+"/deliveries", key, nil).want(t, http.StatusOK).into(t, &deliveries)
	if len(deliveries.Data) != 1 {
		t.Fatalf("fixture deliveries: %+v", deliveries)
	}
	var rule struct{ ID string }
	tb.do("POST", "/api/v1/alert-rules", key, map[string]any{"name": "fixture", "kind": "stuck", "journey_id": j.ID, "stuck_for": "1h"}).
		want(t, http.StatusCreated).into(t, &rule)

	return map[string]string{
		"webhook-subscriptions/{id}": sub.ID,
		"deliveries/{did}":           deliveries.Data[0].ID,
		"alert-rules/{id}":           rule.ID,
		"providers/{id}":             prv.ID,
		"webhook-tokens/{token_id}":  hook.Token.ID,
		"templates/{id}":             tpl.ID,
		"segments/{id}":              seg.ID,
		"journeys/{id}":              j.ID,
		"webhooks/{journey_id}":      j.ID,
		"{v}":                        "1",
		"{v2}":                       fmt.Sprint(v.Version),
		"migrations/{id}":            plan.Migration.ID,
		"instances/{id}":             inst.ID,
		"nodes/{nid}":                "wait",
		"customers/{id}":             customer,
		"conversations/{id}":         conv.ConversationID,
		"api-keys/{id}":              created.Key.ID,
	}
}

// accessBodies are well-formed bodies for the routes that need one, so that
// a request from another tenant gets as far as looking the resource up.
var accessBodies = map[string]any{
	"PUT /api/v1/journeys/{id}":                        map[string]any{"name": "stolen"},
	"POST /api/v1/journeys/{id}/trigger":               map[string]any{"customer_ids": []string{"intruder"}},
	"POST /api/v1/journeys/{id}/versions":              map[string]any{"graph": json.RawMessage(validGraph)},
	"POST /api/v1/journeys/{id}/versions/{v}/publish":  map[string]any{"migration_strategy": "migrate_all"},
	"POST /api/v1/journeys/{id}/versions/{v}/rollback": map[string]any{"migration_strategy": "migrate_all"},
	"POST /api/v1/migrations/{id}/rollout":             map[string]any{"rollout_percent": 100},
	"POST /api/v1/webhooks/{journey_id}":               map[string]any{"customer_id": "intruder"},
	"POST /api/v1/ai/conversations/{id}/message":       map[string]any{"message": "add a wait of 2 days"},
	"PATCH /api/v1/customers/{id}/profile":             map[string]any{"attributes": map[string]any{"plan": "stolen"}},
	"POST /api/v1/customers":                           map[string]any{"id": "intruder"},
	"POST /api/v1/customers/{id}/alias":                map[string]any{"previous_id": "intruder"},
	"PUT /api/v1/templates/{id}":                       map[string]any{"body": "stolen"},
	"POST /api/v1/templates/{id}/preview":              map[string]any{"sample": map[string]any{}},
	"PUT /api/v1/providers/{id}":                       map[string]any{"name": "stolen"},
	"PATCH /api/v1/segments/{id}":                      map[string]any{"name": "stolen"},
	"POST /api/v1/segments/estimate":                   map[string]any{"rule_text": `tag "x"`},
	"POST /api/v1/expressions/check":                   map[string]any{"expression": "true"},
	"POST /api/v1/providers/{id}/test":                 map[string]any{"to": "intruder@example.com"},
	"PATCH /api/v1/webhook-subscriptions/{id}":         map[string]any{"url": "https://stolen.example.com/"},
	"PUT /api/v1/alert-rules/{id}":                     map[string]any{"name": "stolen", "kind": "stuck", "journey_id": "j", "stuck_for": "1h"},
}

var pathParam = regexp.MustCompile(`[a-z-]*/?\{[a-z_0-9]+\}`)

// fill puts the fixtures' ids into pattern; ok is false when a parameter
// has no fixture (a new kind of resource: add it to fixtures).
func fill(pattern string, ids map[string]string) (path string, ok bool) {
	ok = true
	path = pathParam.ReplaceAllStringFunc(pattern, func(seg string) string {
		if id, found := ids[seg]; found {
			prefix, _, _ := strings.Cut(seg, "{")
			return prefix + id
		}
		_, param, _ := strings.Cut(seg, "{")
		if id, found := ids["{"+param]; found {
			return strings.TrimSuffix(seg, "{"+param) + id
		}
		ok = false
		return seg
	})
	return path, ok
}

// TestAccessMatrix tries, on every route the router serves, no key, bad
// keys and forged or stale JWTs, and an API key, an HS256 and an RS256 token
// of every role, against the roles
// the route's OpenAPI operation documents: a role it names must get past
// authorization (any status but 401 and 403), every other role must get 403.
// Then every route naming a resource is tried by the other tenant's admin
// (its key, and a token) with this tenant's real ids, both ways round: 404,
// and nothing changed.
// The routes come from the router and the roles from openapi.json, so a new
// route is covered — and must say who may call it — without editing this test.
func TestAccessMatrix(t *testing.T) {
	t.Parallel()
	idp := newJWTIDP(t)
	verifier, err := jwtauth.New(jwtauth.Config{HS256Secret: []byte(jwtSecret), JWKSURL: idp.srv.URL + jwksPath,
		Issuer: "https://idp.example", Audience: "kalcifer", ClockSkew: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	tb := setup(t, withRuntime, func(o *setupOptions) { o.jwt = verifier })
	roles := documentedRoles(t)
	// Each role signs in three ways: an API key, an HS256 and an RS256 token.
	credentials := map[kalcifer.Role][]string{
		kalcifer.RoleViewer: {tb.viewer}, kalcifer.RoleEditor: {tb.editor}, kalcifer.RoleAdmin: {tb.admin},
		kalcifer.RoleIngest: {tb.newKey("default", kalcifer.RoleIngest)},
	}
	for role := range credentials {
		credentials[role] = append(credentials[role], hsToken(t, "default", string(role)),
			token(t, jwt.SigningMethodRS256, idp.rsa, "rsa-1", "default", string(role)))
	}
	past := func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Hour).Unix() }
	unauthorized := map[string]string{
		"no key":          "",
		"malformed":       "Bearer",
		"unknown key":     "Bearer kal_nosuchkeynosuchkeynosuchkeynosuchkey12",
		"not bearer":      "Basic " + tb.admin,
		"expired token":   "Bearer " + hsToken(t, "default", "admin", past),
		"alg none":        "Bearer " + noneToken(t, "default", "admin"),
		"wrong audience":  "Bearer " + hsToken(t, "default", "admin", func(c jwt.MapClaims) { c["aud"] = "elsewhere" }),
		"unknown kid":     "Bearer " + token(t, jwt.SigningMethodRS256, idp.rsa, "rsa-9", "default", "admin"),
		"unknown tenant":  "Bearer " + hsToken(t, "nosuchtenant", "admin"),
		"HS/RS confusion": "Bearer " + token(t, jwt.SigningMethodHS256, publicKeyPEM(t, &idp.rsa.PublicKey), "rsa-1", "default", "admin"),
	}
	mine := tb.fixtures(tb.admin, "mine")
	theirs := tb.fixtures(tb.otherAdmin, "theirs")
	served := tb.servedRoutes()

	t.Run("tenants", func(t *testing.T) {
		owners := map[string]map[string]string{tb.admin: mine, tb.otherAdmin: theirs}
		before := map[string]string{}
		for owner, ids := range owners {
			before[owner] = tb.snapshot(owner, ids)
		}
		// Customers are named by the caller: a PATCH of the owner's customer
		// id makes the intruder a customer of its own. So those go last,
		// after every read of the owner's customer; the snapshots show the
		// owner's is untouched.
		type patch struct{ path, intruder string }
		var patches []patch
		for _, pair := range []struct {
			name     string
			intruder string // the other tenant's admin key or token
			ids      map[string]string
		}{
			{"acme on default's ids", tb.otherAdmin, mine},
			{"default on acme's ids", tb.admin, theirs},
			{"an acme token on default's ids", token(t, jwt.SigningMethodRS256, idp.rsa, "rsa-1", "acme", "admin"), mine},
		} {
			probed := 0
			for _, route := range served {
				method, pattern, _ := strings.Cut(route, " ")
				if !strings.Contains(pattern, "{") || roles[route] == nil {
					continue
				}
				path, ok := fill(pattern, pair.ids)
				if !ok {
					t.Errorf("%s: no fixture for its parameters; add one to fixtures", route)
					continue
				}
				if route == "PATCH /api/v1/customers/{id}/profile" {
					patches = append(patches, patch{path, pair.intruder})
					continue
				}
				res := tb.do(method, path, pair.intruder, accessBodies[route])
				switch {
				case (route == "GET /api/v1/customers/{id}/journeys" || route == "GET /api/v1/customers/{id}/events") && res.status == http.StatusOK:
					var list struct {
						Data []kalcifer.Instance `json:"data"`
					}
					res.into(t, &list)
					if len(list.Data) != 0 {
						t.Errorf("%s: %s sees %d items of the other tenant", pair.name, route, len(list.Data))
					}
				case res.status != http.StatusNotFound:
					t.Errorf("%s: %s %s answered %d, want 404: %.200s", pair.name, method, path, res.status, res.body)
				}
				probed++
			}
			if probed < 30 {
				t.Fatalf("%s: only %d routes with ids probed", pair.name, probed)
			}
		}
		if len(patches) != 3 {
			t.Fatalf("%d customer patches, want one per pair", len(patches))
		}
		for _, p := range patches {
			tb.do("PATCH", p.path, p.intruder, accessBodies["PATCH /api/v1/customers/{id}/profile"]).want(t, http.StatusOK)
		}
		for owner, ids := range owners {
			if after := tb.snapshot(owner, ids); after != before[owner] {
				t.Errorf("the owner's resources changed:\nbefore %s\nafter  %s", before[owner], after)
			}
		}
	})

	t.Run("roles", func(t *testing.T) {
		checked := 0
		for _, route := range served {
			method, pattern, _ := strings.Cut(route, " ")
			allowed, documented := roles[route]
			if !documented {
				t.Errorf("%s is served but not in openapi.json", route)
				continue
			}
			if allowed == nil {
				continue // public
			}
			path, ok := fill(pattern, mine)
			if !ok {
				t.Errorf("%s: no fixture for its parameters; add one to fixtures", route)
				continue
			}
			for name, header := range unauthorized {
				h := http.Header{}
				if header != "" {
					h.Set("Authorization", header)
				}
				if res := tb.doWith(method, path, "", nil, h); res.status != http.StatusUnauthorized {
					t.Errorf("%s with %s: %d, want 401", route, name, res.status)
				}
			}
			// Lowest role first, so that an editor's DELETE is tried before
			// the admin's removes what it names.
			for _, role := range []kalcifer.Role{kalcifer.RoleIngest, kalcifer.RoleViewer, kalcifer.RoleEditor, kalcifer.RoleAdmin} {
				for i, cred := range credentials[role] {
					res := tb.do(method, path, cred, nil)
					refused := res.status == http.StatusUnauthorized || res.status == http.StatusForbidden
					as := fmt.Sprintf("%s (%s)", role, []string{"API key", "HS256 token", "RS256 token"}[i])
					switch want := slices.Contains(allowed, role); {
					case want && refused:
						t.Errorf("%s as %s: %d, but the document admits %v: %.200s", route, as, res.status, allowed, res.body)
					case !want && res.status != http.StatusForbidden:
						t.Errorf("%s as %s: %d, want 403 (the document admits %v): %.200s", route, as, res.status, allowed, res.body)
					}
				}
			}
			// A journey's webhook token opens its webhook route and no other.
			res := tb.do(method, path, tb.webhookTokens[0], nil)
			switch {
			case route == "POST /api/v1/webhooks/{journey_id}":
				if res.status == http.StatusUnauthorized || res.status == http.StatusForbidden {
					t.Errorf("%s with the journey's webhook token: %d: %.200s", route, res.status, res.body)
				}
				other, _ := fill(pattern, theirs)
				if res := tb.do(method, other, tb.webhookTokens[0], accessBodies[route]); res.status != http.StatusForbidden {
					t.Errorf("%s with another journey's webhook token: %d, want 403: %.200s", route, res.status, res.body)
				}
			case res.status != http.StatusUnauthorized:
				t.Errorf("%s with a webhook token: %d, want 401: %.200s", route, res.status, res.body)
			}
			checked++
		}
		if checked < 50 {
			t.Fatalf("only %d routes checked", checked)
		}
	})
}

// snapshot is what the owner sees of its fixtures (settled: nothing moves
// them on its own), to compare before and after another tenant's attempts.
func (tb *testBundle) snapshot(key string, ids map[string]string) string {
	tb.t.Helper()
	var b strings.Builder
	for _, path := range []string{
		"/api/v1/journeys/" + ids["journeys/{id}"],
		"/api/v1/journeys/" + ids["journeys/{id}"] + "/versions",
		"/api/v1/instances/" + ids["instances/{id}"],
		"/api/v1/migrations/" + ids["migrations/{id}"],
		"/api/v1/customers/" + ids["customers/{id}"] + "/profile",
		"/api/v1/ai/conversations/" + ids["conversations/{id}"],
		"/api/v1/api-keys",
		"/api/v1/templates/" + ids["templates/{id}"],
		"/api/v1/templates/" + ids["templates/{id}"] + "/versions",
		"/api/v1/providers/" + ids["providers/{id}"],
		"/api/v1/segments/" + ids["segments/{id}"],
		"/api/v1/webhook-subscriptions/" + ids["webhook-subscriptions/{id}"],
		"/api/v1/webhook-subscriptions/" + ids["webhook-subscriptions/{id}"] + "/deliveries",
		"/api/v1/alert-rules/" + ids["alert-rules/{id}"],
	} {
		res := tb.do("GET", path, key, nil).want(tb.t, http.StatusOK)
		fmt.Fprintf(&b, "%s %s\n", path, res.body)
	}
	return b.String()
}

// noneToken is an unsigned token ("alg": "none") claiming role in tenant.
func noneToken(t *testing.T, tenant, role string) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"sub": "mallory", "tenant": tenant, "role": role,
		"iss": "https://idp.example", "aud": "kalcifer", "exp": time.Now().Add(time.Hour).Unix()})
	s, err := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// publicKeyPEM is the PEM of a public key: the HMAC secret of an HS/RS
// confusion attack, which signs an HS256 token with the public key.
func publicKeyPEM(t *testing.T, pub *rsa.PublicKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}
