package api_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/kalcifer/kalcifer/api"
)

// Every route has a body limit, and a body one byte over it is answered 413
// with a message naming the limit, whether its length is declared or found
// while reading; a body of exactly the limit is not refused for its size.
func TestBodyLimits(t *testing.T) {
	t.Parallel()
	tb := setup(t, withRuntime)
	limits := api.BodyLimits(tb.handler)
	served := tb.servedRoutes()
	if len(served) < 50 {
		t.Fatalf("walked %d routes", len(served))
	}
	fill := strings.NewReplacer("{id}", "x", "{v}", "1", "{v2}", "1", "{journey_id}", "x", "{token_id}", "x")
	for _, r := range served {
		limit, ok := limits[r]
		if !ok {
			t.Errorf("%s has no body limit", r)
			continue
		}
		method, route, _ := strings.Cut(r, " ")
		path := fill.Replace(route)
		for _, chunked := range []bool{false, true} {
			status, body := tb.raw(method, path, filler(route, limit+1), chunked)
			want := fmt.Sprintf("the limit of %s", r)
			if limit == 0 {
				want = r + " takes no request body"
			}
			if status != http.StatusRequestEntityTooLarge || !strings.Contains(body, want) || !strings.Contains(body, "too_large") {
				t.Errorf("%s with %d bytes (chunked %v): %d %s, want 413 saying %q", r, limit+1, chunked, status, body, want)
			}
		}
		if status, body := tb.raw(method, path, filler(route, limit), false); status == http.StatusRequestEntityTooLarge {
			t.Errorf("%s with %d bytes, its limit: %d %s", r, limit, status, body)
		}
	}
	// The classes, as documented.
	for r, want := range map[string]int64{
		"GET /api/v1/journeys":                            0,
		"DELETE /api/v1/api-keys/{id}":                    0,
		"POST /api/v1/api-keys":                           16 << 10,
		"POST /api/v1/journeys/{id}/webhook-tokens":       16 << 10,
		"POST /api/v1/instances/{id}/pause":               16 << 10,
		"POST /api/v1/journeys":                           api.DefaultMaxBodyBytes,
		"POST /api/v1/webhooks/{journey_id}":              api.DefaultMaxBodyBytes,
		"POST /api/v1/events/batch":                       8 << 20,
		"POST /api/v1/ai/upload":                          11 << 20,
		"POST /api/v1/journeys/{id}/versions/{v}/publish": api.DefaultMaxBodyBytes,
		"POST /v1/track":                                  32 << 10, // Segment's limits
		"POST /api/v1/segment/identify":                   32 << 10,
		"POST /v1/batch":                                  500 << 10,
		"POST /api/v1/segment/batch":                      500 << 10,
	} {
		if limits[r] != want {
			t.Errorf("%s: limit %d, want %d", r, limits[r], want)
		}
	}
}

// A route added without a body limit stops the router from being built.
func TestRouteWithoutBodyLimitRefused(t *testing.T) {
	r := chi.NewRouter()
	r.Get("/forgotten", func(http.ResponseWriter, *http.Request) {})
	err := api.CheckBodyLimits(r)
	if err == nil || !strings.Contains(err.Error(), "GET /forgotten has no body limit") {
		t.Fatalf("err = %v", err)
	}
}

// filler is a body of n bytes that route reads to the end unless stopped:
// whitespace, or for the upload a file part.
func filler(route string, n int64) []byte {
	var b []byte
	if strings.HasSuffix(route, "/ai/upload") {
		b = []byte("--plan\r\nContent-Disposition: form-data; name=\"file\"; filename=\"plan.csv\"\r\n\r\n")
	}
	return append(b, bytes.Repeat([]byte(" "), int(n)-len(b))...)
}

// raw sends a request with the admin key over its own connection, the body
// with a Content-Length or chunked, written while the answer is read: a
// server that refuses a body early may close the connection before taking
// all of it, which would fail a client that insists on writing it first.
func (tb *testBundle) raw(method, path string, body []byte, chunked bool) (int, string) {
	tb.t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(tb.srv.URL, "http://"))
	if err != nil {
		tb.t.Fatal(err)
	}
	defer conn.Close()
	contentType := "application/json"
	if strings.HasSuffix(path, "/ai/upload") {
		contentType = "multipart/form-data; boundary=plan"
	}
	if strings.HasSuffix(path, "/customers/import") {
		contentType = "application/x-ndjson" // blank lines, read to the limit
	}
	head := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: kalcifer\r\nAuthorization: Bearer %s\r\nContent-Type: %s\r\nConnection: close\r\n",
		method, path, tb.admin, contentType)
	if chunked {
		head += "Transfer-Encoding: chunked\r\n\r\n"
	} else {
		head += fmt.Sprintf("Content-Length: %d\r\n\r\n", len(body))
	}
	go func() {
		w := bufio.NewWriterSize(conn, 64<<10)
		_, _ = w.WriteString(head)
		if !chunked {
			_, _ = w.Write(body)
		} else {
			for rest := body; len(rest) > 0; {
				n := min(len(rest), 32<<10)
				_, _ = fmt.Fprintf(w, "%x\r\n%s\r\n", n, rest[:n])
				rest = rest[n:]
			}
			_, _ = w.WriteString("0\r\n\r\n")
		}
		_ = w.Flush() // errors are the server closing early, which is its right
	}()
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		tb.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		tb.t.Fatalf("%s %s: read: %v", method, path, err)
	}
	return res.StatusCode, string(b)
}
