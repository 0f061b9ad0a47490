package channel

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
)

// Checker is a driver's Config: it reports its first problem.
type Checker interface{ Check() error }

// Driver is one kind of provider account ("smtp", "sendgrid", "log"...):
// which channels it serves, how its config is read from stored JSON, which
// config fields are credentials, and how a provider is built from it.
type Driver struct {
	// Kind is the account type's name, as accounts and the API spell it.
	Kind string
	// Channels are the channels an account of this kind may serve; none
	// means any.
	Channels []string
	// Secrets are the JSON names of the config's credential fields (tagged
	// `secret:"true"`), which the store seals and the API never returns.
	Secrets []string
	// Endpoints are the JSON names of the fields that say where the
	// provider's requests — and so its credentials — go (tagged
	// `endpoint:"true"`: a base URL, a host, a token URI, a region). An
	// update that changes one must carry the credentials again.
	Endpoints []string

	// CallbackField is the JSON name of the config field that tells the
	// provider where to report delivery statuses (Twilio's
	// status_callback_url); when an account leaves it empty, Build fills
	// in the account's callback URL. Empty for drivers whose callbacks are
	// set up at the provider's side.
	CallbackField string
	// Tracked means no provider reports opens and clicks of emails sent
	// through this driver (SMTP), so Kalcifer adds its own tracking pixel
	// and links (package tracking) when it has a public URL.
	Tracked bool

	decode func(raw []byte) (Checker, error)
	build  func(c Checker, client *http.Client) (Provider, error)
}

// WithCallbackField returns d with CallbackField set to field.
func (d Driver) WithCallbackField(field string) Driver {
	d.CallbackField = field
	return d
}

// WithTracking returns d with Tracked set.
func (d Driver) WithTracking() Driver {
	d.Tracked = true
	return d
}

// CallbackURL is where a provider account's delivery statuses arrive,
// under the server's public URL: {publicURL}/api/v1/providers/{id}/callbacks.
// It is "" when no public URL is set.
func CallbackURL(publicURL, accountID string) string {
	if publicURL == "" {
		return ""
	}
	return strings.TrimRight(publicURL, "/") + "/api/v1/providers/" + url.PathEscape(accountID) + "/callbacks"
}

// NewDriver describes a driver whose config is C and whose provider New
// builds; the catalog hands New the SSRF-guarded client. It panics when a
// field tagged secret:"true" is not a string: a wiring mistake.
func NewDriver[C Checker, P Provider](kind string, channels []string, build func(C, *http.Client) (P, error)) Driver {
	return Driver{
		Kind: kind, Channels: channels, Secrets: secretFields(reflect.TypeFor[C]()), Endpoints: taggedFields(reflect.TypeFor[C](), "endpoint"),
		decode: func(raw []byte) (Checker, error) {
			var c C
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&c); err != nil {
				return nil, configError(kind, err)
			}
			return c, nil
		},
		build: func(c Checker, client *http.Client) (Provider, error) {
			p, err := build(c.(C), client)
			if err != nil {
				return nil, err
			}
			return p, nil
		},
	}
}

// secretFields lists the JSON names of t's fields tagged secret:"true".
func secretFields(t reflect.Type) []string {
	if t.Kind() != reflect.Struct {
		panic(fmt.Sprintf("channel: driver config %s is not a struct", t))
	}
	for f := range t.Fields() {
		if f.Tag.Get("secret") == "true" && f.Type.Kind() != reflect.String {
			panic(fmt.Sprintf("channel: secret field %s.%s is not a string", t, f.Name))
		}
	}
	return taggedFields(t, "secret")
}

// taggedFields lists the JSON names of t's fields tagged tag:"true".
func taggedFields(t reflect.Type, tag string) []string {
	var out []string
	for f := range t.Fields() {
		if f.Tag.Get(tag) != "true" {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			panic(fmt.Sprintf("channel: %s field %s.%s has no JSON name", tag, t, f.Name))
		}
		out = append(out, name)
	}
	return out
}

// ConfigError is a problem with an account's config, naming the field
// ("config.port") when one is to blame.
type ConfigError struct {
	Field   string
	Message string
}

func (e *ConfigError) Error() string { return e.Message }

// configError turns a strict decoding error into a ConfigError naming the
// field.
func configError(kind string, err error) error {
	var typ *json.UnmarshalTypeError
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &typ):
		return &ConfigError{Field: "config." + typ.Field,
			Message: fmt.Sprintf("%s: config field %q must be a %s, not a %s", kind, typ.Field, typ.Type, typ.Value)}
	case errors.As(err, &syn):
		return &ConfigError{Field: "config", Message: fmt.Sprintf("%s: config is not valid JSON", kind)}
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name = strings.Trim(name, `"`)
		return &ConfigError{Field: "config." + name, Message: fmt.Sprintf("%s: config has no field %q", kind, name)}
	}
	return &ConfigError{Field: "config", Message: fmt.Sprintf("%s: config: %v", kind, err)}
}

// Catalog is the set of drivers provider accounts may use. It is built once
// at start-up and never changes, so it is safe for concurrent use.
type Catalog struct {
	drivers map[string]Driver
	client  *http.Client
}

// NewCatalog returns a catalog of drivers whose providers speak HTTP
// through client (the SSRF-guarded client: account base URLs are a
// tenant's choice). It panics on two drivers of one kind.
func NewCatalog(client *http.Client, drivers ...Driver) *Catalog {
	c := &Catalog{drivers: map[string]Driver{}, client: client}
	for _, d := range drivers {
		if _, dup := c.drivers[d.Kind]; dup {
			panic(fmt.Sprintf("channel: two drivers of kind %q", d.Kind))
		}
		c.drivers[d.Kind] = d
	}
	return c
}

// Kinds lists the drivers' kinds, sorted.
func (c *Catalog) Kinds() []string { return slices.Sorted(maps.Keys(c.drivers)) }

// Driver returns the driver of kind, or a ConfigError listing the kinds.
func (c *Catalog) Driver(kind string) (Driver, error) {
	d, ok := c.drivers[kind]
	if !ok {
		return Driver{}, &ConfigError{Field: "type",
			Message: fmt.Sprintf("type %q is not a provider type (types: %s)", kind, strings.Join(c.Kinds(), ", "))}
	}
	return d, nil
}

// Prepare checks an account's config for kind on channel ch and splits it
// into what may be shown (public, JSON) and its credentials (secrets, the
// non-empty secret fields). Unknown fields are refused; credentials config
// leaves out are taken from keep (those stored before), so that an update
// need not repeat them.
func (c *Catalog) Prepare(kind, ch string, config json.RawMessage, keep map[string]string) (public json.RawMessage, secrets map[string]string, err error) {
	d, err := c.Driver(kind)
	if err != nil {
		return nil, nil, err
	}
	if len(d.Channels) > 0 && !slices.Contains(d.Channels, ch) {
		return nil, nil, &ConfigError{Field: "channel",
			Message: fmt.Sprintf("a %s account serves %s, not %q", kind, strings.Join(d.Channels, ", "), ch)}
	}
	fields := map[string]json.RawMessage{}
	if len(bytes.TrimSpace(config)) > 0 && string(bytes.TrimSpace(config)) != "null" {
		if err := json.Unmarshal(config, &fields); err != nil {
			return nil, nil, &ConfigError{Field: "config", Message: kind + ": config must be a JSON object"}
		}
	}
	for _, name := range d.Secrets {
		if _, given := fields[name]; !given && keep[name] != "" {
			fields[name], _ = json.Marshal(keep[name])
		}
	}
	cfg, err := d.config(fields)
	if err != nil {
		return nil, nil, err
	}
	if err := cfg.Check(); err != nil {
		return nil, nil, err
	}
	// The checked config, as its type writes it, split.
	raw, err := json.Marshal(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: encode config: %w", kind, err)
	}
	fields = map[string]json.RawMessage{}
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, nil, fmt.Errorf("%s: encode config: %w", kind, err)
	}
	secrets = map[string]string{}
	for _, name := range d.Secrets {
		var v string
		if raw, ok := fields[name]; ok {
			if err := json.Unmarshal(raw, &v); err != nil {
				return nil, nil, fmt.Errorf("%s: secret %s: %w", kind, name, err)
			}
		}
		delete(fields, name)
		if v != "" {
			secrets[name] = v
		}
	}
	public, err = json.Marshal(fields)
	return public, secrets, err
}

// config decodes fields (public and secret together) strictly.
func (d Driver) config(fields map[string]json.RawMessage) (Checker, error) {
	raw, err := json.Marshal(fields)
	if err != nil {
		return nil, &ConfigError{Field: "config", Message: d.Kind + ": config must be a JSON object"}
	}
	return d.decode(raw)
}

// Tracked reports whether Kalcifer tracks opens and clicks of emails sent
// through accounts of kind itself (see Driver.Tracked).
func (c *Catalog) Tracked(kind string) bool { return c.drivers[kind].Tracked }

// Build builds the provider of an account of kind from its stored config
// and credentials. callbackURL is the account's callback URL (see
// CallbackURL; "" when unknown): a driver with a CallbackField whose config
// leaves that field empty gets it.
func (c *Catalog) Build(kind string, public json.RawMessage, secrets map[string]string, callbackURL string) (Provider, error) {
	d, err := c.Driver(kind)
	if err != nil {
		return nil, err
	}
	fields := map[string]json.RawMessage{}
	if len(public) > 0 {
		if err := json.Unmarshal(public, &fields); err != nil {
			return nil, fmt.Errorf("%s: stored config: %w", kind, err)
		}
	}
	for name, v := range secrets {
		fields[name], _ = json.Marshal(v)
	}
	if f := d.CallbackField; f != "" && callbackURL != "" {
		var set string
		if raw, ok := fields[f]; ok {
			_ = json.Unmarshal(raw, &set) // not a string: decoding below says so
		}
		if set == "" {
			fields[f], _ = json.Marshal(callbackURL)
		}
	}
	cfg, err := d.config(fields)
	if err != nil {
		return nil, err
	}
	return d.build(cfg, c.client)
}
