package webhook

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"
)

// config is a call_webhook node's config, checked.
type config struct {
	url     *url.URL
	method  string
	headers map[string]string
	extra   map[string]any // the "body" fields
	timeout time.Duration
}

// parseConfig checks a node's config. The journey validator checks it
// against the node's JSON Schema at publish time; this guards the send.
func parseConfig(raw map[string]any, defTimeout time.Duration) (config, error) {
	c := config{method: http.MethodPost, timeout: defTimeout}
	var err error
	if c.url, err = parseURL(raw["url"]); err != nil {
		return config{}, err
	}
	if c.method, err = optString(raw, "method", c.method); err != nil {
		return config{}, err
	}
	if !httpguts.ValidHeaderFieldName(c.method) { // a method is a token too
		return config{}, fmt.Errorf("config method %q is not an HTTP method", c.method)
	}
	if c.headers, err = parseHeaders(raw["headers"]); err != nil {
		return config{}, err
	}
	if c.extra, err = parseBody(raw["body"]); err != nil {
		return config{}, err
	}
	if c.timeout, err = parseTimeout(raw, defTimeout); err != nil {
		return config{}, err
	}
	return c, nil
}

func parseURL(v any) (*url.URL, error) {
	s, ok := v.(string)
	if !ok || s == "" {
		return nil, errors.New(`config "url" is required and must be a string`)
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("config url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("config url %q: the scheme must be http or https", u.Redacted())
	}
	if u.Host == "" {
		return nil, fmt.Errorf("config url %q has no host", u.Redacted())
	}
	return u, nil
}

func optString(raw map[string]any, key, def string) (string, error) {
	v, ok := raw[key]
	if !ok || v == nil || v == "" {
		return def, nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("config %s must be a string, got %T", key, v)
	}
	return s, nil
}

// parseHeaders accepts a JSON object of strings (map[string]any once
// decoded) or a map[string]string.
func parseHeaders(v any) (map[string]string, error) {
	var h map[string]string
	switch v := v.(type) {
	case nil:
		return nil, nil
	case map[string]string:
		h = v
	case map[string]any:
		h = make(map[string]string, len(v))
		for name, value := range v {
			s, ok := value.(string)
			if !ok {
				return nil, fmt.Errorf("config header %q must be a string, got %T", name, value)
			}
			h[name] = s
		}
	default:
		return nil, fmt.Errorf("config headers must be an object of strings, got %T", v)
	}
	for name, value := range h {
		if !httpguts.ValidHeaderFieldName(name) {
			return nil, fmt.Errorf("config header name %q is invalid", name)
		}
		if strings.ContainsAny(value, "\r\n\x00") {
			return nil, fmt.Errorf("config header %q has a line break or NUL in its value", name)
		}
	}
	return h, nil
}

func parseBody(v any) (map[string]any, error) {
	if v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("config body must be a JSON object, got %T", v)
	}
	return m, nil
}

func parseTimeout(raw map[string]any, def time.Duration) (time.Duration, error) {
	s, err := optString(raw, "timeout", "")
	if err != nil || s == "" {
		return def, err
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("config timeout %q is not a positive duration such as 10s", s)
	}
	return min(d, MaxTimeout), nil
}
