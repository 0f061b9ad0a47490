package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/internal/fuzzcheck"
)

// decodeTargets are the request bodies FuzzDecode decodes into, with the
// checks their handlers run next on the raw parts (graph, event).
var decodeTargets = []struct {
	name  string
	new   func() any
	after func(any) error
}{
	{"journey", func() any { return new(createJourneyRequest) }, func(v any) error {
		if g := v.(*createJourneyRequest).Graph; len(g) > 0 && !isNull(g) {
			_, err := parseGraph(g)
			return err
		}
		return nil
	}},
	{"event", func() any { return new(json.RawMessage) }, func(v any) error {
		_, err := parseEvent("", *v.(*json.RawMessage), "t1")
		return err
	}},
	{"batch", func() any { return new(batchRequest) }, func(v any) error {
		for _, raw := range v.(*batchRequest).Events {
			if _, err := parseEvent("events[0]", raw, "t1"); err != nil {
				return err
			}
		}
		return nil
	}},
	{"webhook", func() any { return new(webhookRequest) }, func(v any) error {
		_, err := objectField("data", v.(*webhookRequest).Data)
		return err
	}},
	{"trigger", func() any { return new(triggerRequest) }, nil},
	{"api key", func() any { return new(createAPIKeyRequest) }, nil},
	{"profile", func() any { return new(patchCustomerRequest) }, nil},
}

// fuzzBodyLimit is the body limit FuzzDecode reads under, small enough for
// the fuzzer to reach the 413 path.
const fuzzBodyLimit = 16 << 10

// FuzzDecode feeds arbitrary bodies and Content-Types to the API's decoder,
// into the request types of the routes that take JSON and through the
// parsing their handlers do next. Properties: no panic, and each decode
// returns within fuzzcheck.Bound; every refusal is a *kalcifer.Error with a
// message and one of the codes a malformed body may get (400, 413, 415,
// 422); an accepted body round-trips: encoding what was decoded and
// decoding that again gives the same value. Seeds are the repository's
// example journeys and the bodies of the API's bad-input tests.
func FuzzDecode(f *testing.F) {
	for _, path := range []string{"../examples/welcome-journey.json", "../graph/testdata/seed_example.json"} {
		g, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(0), "application/json", []byte(`{"name":"seed","description":"d","graph":`+string(g)+`,"settings":{"allow_reentry":true}}`))
	}
	for i, body := range []string{
		`{"name":"a","settings":{"allow_rentry":true}}`,
		`{"name":"a","graph":{"nodes":[{"id":"n","type":"journey_exit"},{"id":"m","type":"journey_exit","colour":"red"}],"edges":[]}}`,
		`{"id":"e1","customer_id":"c1","event_type":"signed_up","data":{"plan":"pro"},"timestamp":"2026-05-01T12:00:00Z"}`,
		`{"events":[{"customer_id":"c1","event_type":"a"},{"customer_id":"c2","event_type":"$b","timestamp":"x"}]}`,
		`{"customer_id":"c1","data":{"n":1e400}}`,
		`{"customer_ids":["c1","c2"]}`,
		`{"name":"ci","role":"ingest"}`,
		`{"attributes":{"plan":null,"n":12345678901234567890},"add_tags":["vip"],"remove_tags":null}`,
		"{\"name\":\"\\u0000\"}", `[[[[[[[[]]]]]]]]`, `{"name":"a"} {"name":"b"}`, "{\"Name\":\"\xff\"}",
	} {
		f.Add(uint8(i), "application/json; charset=utf-8", []byte(body))
	}
	f.Add(uint8(0), "text/plain", []byte(`{"name":"a"}`))
	f.Fuzz(func(t *testing.T, which uint8, contentType string, body []byte) {
		target := decodeTargets[int(which)%len(decodeTargets)]
		dst := target.new()
		var err error
		fuzzcheck.Within(t, "decode "+target.name, func() {
			err = fuzzDecode(contentType, body, dst)
			if err == nil && target.after != nil {
				err = target.after(dst)
			}
		})
		if err != nil {
			var e *kalcifer.Error
			if !errors.As(err, &e) {
				t.Fatalf("%s: error %q is a %T, not a *kalcifer.Error", target.name, err, err)
			}
			switch e.Code {
			case kalcifer.EINVALID, kalcifer.ETOOLARGE, codeUnsupportedMediaType, kalcifer.EUNPROCESSABLE:
			default:
				t.Fatalf("%s: a bad body answered with code %q: %v", target.name, e.Code, e)
			}
			if e.Message == "" {
				t.Fatalf("%s: an error without a message: %+v", target.name, e)
			}
			return
		}
		encoded, err := json.Marshal(dst)
		if err != nil {
			t.Fatalf("%s: the decoded value does not encode: %v", target.name, err)
		}
		again := target.new()
		if err := fuzzDecode("application/json", encoded, again); err != nil {
			t.Fatalf("%s: accepted %q but refused its own encoding %s: %v", target.name, body, encoded, err)
		}
		reencoded, err := json.Marshal(again)
		if err != nil || !bytes.Equal(encoded, reencoded) {
			t.Fatalf("%s: %q does not round-trip: %s, then %s (%v)", target.name, body, encoded, reencoded, err)
		}
	})
}

// fuzzDecode decodes body as a POST with contentType would be, under
// fuzzBodyLimit.
func fuzzDecode(contentType string, body []byte, dst any) error {
	r := httptest.NewRequest(http.MethodPost, "/api/v1/x", bytes.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	r.Body = http.MaxBytesReader(nil, r.Body, fuzzBodyLimit)
	return decodeRequired(r, dst)
}
