package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/kalcifer/kalcifer/channel/internal/httpapi"
)

// A driver built without the catalog's client gets one that refuses the
// server's own networks: it never fails open.
func TestNilClientIsGuarded(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { calls.Add(1) }))
	defer srv.Close()
	resp, err := httpapi.Client(nil).Get(srv.URL)
	if err == nil {
		resp.Body.Close()
	}
	if err == nil || !strings.Contains(err.Error(), "private network") {
		t.Fatalf("GET %s with the default client: %v; want the guard's refusal", srv.URL, err)
	}
	if n := calls.Load(); n != 0 {
		t.Fatalf("the server on 127.0.0.1 got %d requests", n)
	}
}
