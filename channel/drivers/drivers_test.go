package drivers_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/kalcifer/kalcifer/channel"
	"github.com/kalcifer/kalcifer/channel/drivers"
	"github.com/kalcifer/kalcifer/internal/netguard"
)

// Every credential field is known as secret, so the store seals it and the
// API never shows it.
func TestCatalogSecrets(t *testing.T) {
	t.Parallel()
	c := drivers.Catalog(netguard.Policy{}.Client(), nil)
	for kind, want := range map[string][]string{"smtp": {"password"}, "sendgrid": {"api_key"},
		"ses": {"secret_access_key", "session_token"}, "postmark": {"server_token", "webhook_password"}, "log": nil,
		"twilio": {"auth_token"}, "vonage": {"api_secret", "signature_secret", "callback_token"},
		"metawhatsapp": {"access_token", "app_secret", "verify_token"}, "fcm": {"private_key"}, "apns": {"private_key"}} {
		d, err := c.Driver(kind)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(d.Secrets, want) {
			t.Errorf("%s secrets = %v, want %v", kind, d.Secrets, want)
		}
	}
}

// Every field saying where requests (and credentials) go is declared, so an
// update that moves an account must carry its credentials again.
func TestCatalogEndpoints(t *testing.T) {
	t.Parallel()
	c := drivers.Catalog(netguard.Policy{}.Client(), nil)
	for kind, want := range map[string][]string{"smtp": {"host", "port", "tls"}, "sendgrid": {"base_url"},
		"ses": {"region", "base_url"}, "postmark": {"base_url"}, "twilio": {"base_url"}, "vonage": {"base_url"},
		"metawhatsapp": {"base_url"}, "fcm": {"token_uri", "base_url"}, "apns": {"environment", "base_url"}, "log": nil} {
		d, err := c.Driver(kind)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(d.Endpoints, want) {
			t.Errorf("%s endpoints = %v, want %v", kind, d.Endpoints, want)
		}
	}
}

// Prepare splits credentials from the rest, keeps stored ones an update
// leaves out, and refuses unknown fields and wrong types by name.
func TestCatalogPrepare(t *testing.T) {
	t.Parallel()
	c := drivers.Catalog(netguard.Policy{}.Client(), nil)
	public, secrets, err := c.Prepare("smtp", "email", json.RawMessage(`{"host":"mail.example.com","username":"u","password":"pw","tls":"starttls","from":"a@example.com"}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(public), "pw") || secrets["password"] != "pw" {
		t.Fatalf("public %s, secrets %v", public, secrets)
	}
	// An update without the password keeps it.
	_, kept, err := c.Prepare("smtp", "email", public, secrets)
	if err != nil || kept["password"] != "pw" {
		t.Fatalf("kept %v, %v", kept, err)
	}
	if _, err := c.Build("smtp", public, kept, ""); err != nil {
		t.Fatalf("build: %v", err)
	}
	for raw, field := range map[string]string{
		`{"host":"h","tls":"none","from":"a@example.com","pasword":"x"}`: "config.pasword",
		`{"host":"h","tls":"none","from":"a@example.com","port":"25"}`:   "config.port",
	} {
		_, _, err := c.Prepare("smtp", "email", json.RawMessage(raw), nil)
		var ce *channel.ConfigError
		if !errors.As(err, &ce) || ce.Field != field {
			t.Errorf("%s: %v, want a ConfigError naming %s", raw, err, field)
		}
	}
	if _, _, err := c.Prepare("log", "push", nil, nil); err != nil {
		t.Errorf("a log account on push: %v", err)
	}
}

// A Twilio account is told the account's callback URL as its status
// callback when its config names none, and keeps the one it names; only
// SMTP emails get Kalcifer's own tracking.
func TestCatalogBuildCallbackURL(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got []string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		mu.Lock()
		got = append(got, r.PostForm.Get("StatusCallback"))
		mu.Unlock()
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"sid":"SM1","status":"queued"}`))
	}))
	defer api.Close()
	c := drivers.Catalog(netguard.Policy{AllowPrivate: true}.Client(), nil)
	const own = "https://hooks.example.com/twilio"
	callback := channel.CallbackURL("https://kalcifer.example.com/", "prv_1")
	if callback != "https://kalcifer.example.com/api/v1/providers/prv_1/callbacks" || channel.CallbackURL("", "prv_1") != "" {
		t.Fatalf("CallbackURL = %q", callback)
	}
	for _, public := range []string{`{"account_sid":"AC` + strings.Repeat("0", 32) + `","from":"+15550001111","base_url":"` + api.URL + `"}`,
		`{"account_sid":"AC` + strings.Repeat("0", 32) + `","from":"+15550001111","base_url":"` + api.URL + `","status_callback_url":"` + own + `"}`} {
		p, err := c.Build("twilio", json.RawMessage(public), map[string]string{"auth_token": "tok"}, callback)
		if err != nil {
			t.Fatal(err)
		}
		m := channel.Message{Key: "k1", Channel: "sms", SMS: &channel.SMS{To: "+15550002222", Body: "Hi"}}
		if _, err := p.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	if want := []string{callback + "?kalcifer_key=k1", own + "?kalcifer_key=k1"}; !slices.Equal(got, want) {
		t.Fatalf("StatusCallback %q, want %q", got, want)
	}
	for kind, tracked := range map[string]bool{"smtp": true, "sendgrid": false, "ses": false, "postmark": false, "nosuch": false} {
		if c.Tracked(kind) != tracked {
			t.Errorf("Tracked(%s) = %v", kind, !tracked)
		}
	}
}

// An SMTP account dials through the catalog's guarded client: a host on the
// server's own networks is refused before any connection is made.
func TestSMTPIsGuarded(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var accepted atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Write([]byte("+OK internal-secret-banner\r\n"))
			c.Close()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	c := drivers.Catalog(netguard.Policy{}.Client(), nil)
	public, secrets, err := c.Prepare("smtp", "email", json.RawMessage(fmt.Sprintf(`{"host":"127.0.0.1","port":%d,"tls":"none","from":"a@example.com"}`, port)), nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Build("smtp", public, secrets, "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Send(context.Background(), channel.Message{Key: "k1", Channel: "email",
		Email: &channel.Email{To: "b@example.com", Subject: "Hi", Text: "Hello"}})
	if err == nil || !strings.Contains(err.Error(), "private network") || strings.Contains(err.Error(), "banner") {
		t.Fatalf("send to 127.0.0.1: %v; want the guard's refusal", err)
	}
	if n := accepted.Load(); n != 0 {
		t.Fatalf("the internal listener accepted %d connections", n)
	}
}
