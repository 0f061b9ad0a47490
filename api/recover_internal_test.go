package api

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/kalcifer/kalcifer/internal/logctx"
)

// A panicking handler answers a JSON 500, is logged with its request id, and
// leaves the server serving.
func TestRecoverer(t *testing.T) {
	t.Parallel()
	logs := &lockedBuffer{}
	s := &server{logger: logctx.Wrap(slog.New(slog.NewJSONHandler(logs, nil))), maxBody: DefaultMaxBodyBytes}
	h := s.withRequestID(s.accessLog(s.recoverer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("boom")
	}))))
	srv := httptest.NewServer(h)
	defer srv.Close()

	for range 2 { // the second request proves the server survived the first
		res, err := srv.Client().Get(srv.URL + "/x")
		if err != nil {
			t.Fatal(err)
		}
		var body errorBody
		err = json.NewDecoder(res.Body).Decode(&body)
		if cerr := res.Body.Close(); cerr != nil {
			t.Fatal(cerr)
		}
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != http.StatusInternalServerError || body.Error.Code != "internal" || body.Error.Message != "internal error" {
			t.Fatalf("status %d, body %+v", res.StatusCode, body)
		}
	}
	if !strings.Contains(logs.String(), `"msg":"panic in handler"`) || !strings.Contains(logs.String(), `"panic":"boom"`) ||
		!strings.Contains(logs.String(), `"request_id":"req_`) {
		t.Fatalf("panic not logged:\n%s", logs.String())
	}
}

func TestStatusOf(t *testing.T) {
	t.Parallel()
	for code, status := range map[string]int{
		"invalid": 400, "unauthorized": 401, "forbidden": 403, "not_found": 404, "method_not_allowed": 405,
		"conflict": 409, "too_large": 413, "unsupported_media_type": 415, "invalid_graph": 422,
		"unprocessable": 422, "rate_limited": 429, "internal": 500, "something_new": 500,
	} {
		if got := statusOf(code); got != status {
			t.Errorf("statusOf(%q) = %d, want %d", code, got, status)
		}
	}
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
