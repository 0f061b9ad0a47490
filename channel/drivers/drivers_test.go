package drivers_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/kalcifer/kalcifer/channel"
	"github.com/kalcifer/kalcifer/channel/drivers"
)

// Every credential field is known as secret, so the store seals it and the
// API never shows it.
func TestCatalogSecrets(t *testing.T) {
	t.Parallel()
	c := drivers.Catalog(nil, nil)
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

// Prepare splits credentials from the rest, keeps stored ones an update
// leaves out, and refuses unknown fields and wrong types by name.
func TestCatalogPrepare(t *testing.T) {
	t.Parallel()
	c := drivers.Catalog(nil, nil)
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
