package main

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer"
)

// countingServer is a real HTTP server on 127.0.0.1 that counts requests
// and answers with h.
func countingServer(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// A call_webhook to the server's own network, through the real server with
// its default settings, fails for good: the send's detail and the
// instance's reason name the address, and the receiver is never called.
func TestWebhookToInternalAddressFails(t *testing.T) {
	rcv, calls := countingServer(t, func(w http.ResponseWriter, _ *http.Request) {})
	_, port, _ := net.SplitHostPort(rcv.Listener.Addr().String())
	m := start(t, map[string]string{"KALCIFER_DATA_DIR": t.TempDir(), "KALCIFER_ADMIN_API_KEY": adminKey}, io.Discard)
	defer m.Close()
	c := client{t, "http://" + m.Addr().String()}

	graph := `{"nodes":[
		{"id":"entry","type":"event_entry","position":{"x":0,"y":0},"config":{"event_type":"signed_up"}},
		{"id":"hook","type":"call_webhook","position":{"x":0,"y":100},"config":{"url":"http://localhost:` + port + `/hook"}}],
		"edges":[{"id":"e1","source":"entry","target":"hook"}]}`
	var j kalcifer.Journey
	c.do("POST", "/api/v1/journeys", adminKey, `{"name":"Internal hook","graph":`+graph+`}`, 201, &j)
	c.do("POST", "/api/v1/journeys/"+j.ID+"/activate", adminKey, "", 200, nil)
	c.do("POST", "/api/v1/events", adminKey, `{"customer_id":"mallory","event_type":"signed_up"}`, 202, nil)

	var in instanceDetail
	for deadline := time.Now().Add(20 * time.Second); ; {
		var list kalcifer.Page[kalcifer.Instance]
		c.do("GET", "/api/v1/journeys/"+j.ID+"/instances", adminKey, "", 200, &list)
		if len(list.Data) == 1 && list.Data[0].EndedAt != nil {
			c.do("GET", "/api/v1/instances/"+list.Data[0].ID, adminKey, "", 200, &in)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the instance did not end: %+v", list.Data)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(in.Sends) != 1 || in.Sends[0].Status != kalcifer.SendFailed || in.Sends[0].Attempts != 1 {
		t.Fatalf("sends = %+v, want one failed after one attempt", in.Sends)
	}
	for what, text := range map[string]string{"send detail": in.Sends[0].Detail, "instance reason": in.Reason} {
		if !strings.Contains(text, "localhost") || !strings.Contains(text, "is on a private network (loopback)") ||
			!strings.Contains(text, "KALCIFER_ALLOW_PRIVATE_NETWORKS=true") {
			t.Errorf("%s %q should name the host, its address and the setting", what, text)
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("the receiver got %d calls, want 0", n)
	}
}

// instanceDetail is GET /instances/{id}'s answer, as far as these tests read it.
type instanceDetail struct {
	kalcifer.Instance
	Steps []kalcifer.Step `json:"steps"`
	Sends []kalcifer.Send `json:"sends"`
}

// A tenant's AI base URL is guarded too: a literal internal address is
// refused when the settings are saved, a name resolving to one when it is
// called; once the address is allowed, the 502 of a failing server quotes
// neither its body nor anything that tells a closed port from an open one.
func TestAISettingsGuard(t *testing.T) {
	leaky, calls := countingServer(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, "<html>internal admin console: secret-token-42</html>")
	})
	_, port, _ := net.SplitHostPort(leaky.Listener.Addr().String())
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()
	settings := func(baseURL string) string {
		return `{"provider":"openai","model":"m","base_url":"` + baseURL + `"}`
	}
	design := func(c client) string {
		t.Helper()
		var res struct {
			Error struct{ Code, Message string }
		}
		c.do("POST", "/api/v1/ai/conversations", adminKey, `{"message":"`+us1+`"}`, http.StatusBadGateway, &res)
		return res.Error.Message
	}

	m := start(t, map[string]string{"KALCIFER_DATA_DIR": t.TempDir(), "KALCIFER_ADMIN_API_KEY": adminKey}, io.Discard)
	defer m.Close()
	c := client{t, "http://" + m.Addr().String()}
	var refused struct{ Error struct{ Message string } }
	c.do("PUT", "/api/v1/ai/settings", adminKey, settings(leaky.URL+"/v1"), http.StatusUnprocessableEntity, &refused)
	if !strings.Contains(refused.Error.Message, "127.0.0.1 is on a private network") {
		t.Errorf("saving a loopback base URL: %q", refused.Error.Message)
	}
	c.do("PUT", "/api/v1/ai/settings", adminKey, settings("http://localhost:"+port+"/v1"), http.StatusOK, nil)
	if msg := design(c); !strings.Contains(msg, "is on a private network (loopback)") || strings.Contains(msg, "secret") {
		t.Errorf("designing through a name resolving to loopback: %q", msg)
	}
	if n := calls.Load(); n != 0 {
		t.Fatalf("the internal server got %d calls, want 0", n)
	}

	m2 := start(t, map[string]string{"KALCIFER_DATA_DIR": t.TempDir(), "KALCIFER_ADMIN_API_KEY": adminKey,
		"KALCIFER_ALLOWED_PRIVATE_ADDRESSES": "127.0.0.1"}, io.Discard)
	defer m2.Close()
	c = client{t, "http://" + m2.Addr().String()}
	c.do("PUT", "/api/v1/ai/settings", adminKey, settings(leaky.URL+"/v1"), http.StatusOK, nil)
	if msg := design(c); !strings.Contains(msg, "HTTP 500") || strings.Contains(msg, "secret") || strings.Contains(msg, "console") {
		t.Errorf("a failing allowed server: %q should give the status and not quote the body", msg)
	}
	if calls.Load() == 0 {
		t.Fatal("the allowed server was never called")
	}
	c.do("PUT", "/api/v1/ai/settings", adminKey, settings(closedURL+"/v1"), http.StatusOK, nil)
	closedPort := design(c)
	c.do("PUT", "/api/v1/ai/settings", adminKey, settings(strings.Replace(leaky.URL, "http:", "https:", 1)+"/v1"), http.StatusOK, nil)
	if openPort := design(c); closedPort != openPort || strings.Contains(closedPort, "refused") {
		t.Errorf("a closed port and an open non-TLS port read differently:\n%s\n%s", closedPort, openPort)
	}
}

func TestOutboundSettings(t *testing.T) {
	c, err := LoadConfig(envOf(map[string]string{"KALCIFER_ALLOWED_PRIVATE_ADDRESSES": "10.1.2.3, 192.168.0.0/24"}), nil)
	if err != nil || c.Outbound.AllowPrivate || len(c.Outbound.Allowed) != 2 || c.Outbound.Allowed[1].String() != "192.168.0.0/24" {
		t.Fatalf("allow list: %+v, %v", c.Outbound, err)
	}
	c, err = LoadConfig(envOf(map[string]string{}), []string{"--allow-private-networks=true"})
	if err != nil || !c.Outbound.AllowPrivate {
		t.Fatalf("--allow-private-networks: %+v, %v", c.Outbound, err)
	}
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"KALCIFER_ALLOW_PRIVATE_NETWORKS": "sometimes"}, "KALCIFER_ALLOW_PRIVATE_NETWORKS must be true or false"},
		{map[string]string{"KALCIFER_ALLOWED_PRIVATE_ADDRESSES": "8.8.8.8"}, "public addresses are allowed anyway"},
		{map[string]string{"KALCIFER_ALLOWED_PRIVATE_ADDRESSES": "10.0.0.0/33"}, "KALCIFER_ALLOWED_PRIVATE_ADDRESSES: \"10.0.0.0/33\" is not"},
		{map[string]string{"KALCIFER_ALLOW_PRIVATE_NETWORKS": "true", "KALCIFER_ALLOWED_PRIVATE_ADDRESSES": "10.0.0.1"}, "does nothing"},
		{map[string]string{"KALCIFER_AI_PROVIDER": "ollama", "KALCIFER_AI_MODEL": "llama3.1:8b", "KALCIFER_AI_BASE_URL": "http://127.0.0.1:11434"},
			"KALCIFER_AI_*: base URL http://127.0.0.1:11434: the address 127.0.0.1 is on a private network"},
	} {
		if _, err := LoadConfig(envOf(tc.env), nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v; want an error saying %q", tc.env, err, tc.want)
		}
	}
	// The operator allows the address of a local model server.
	if _, err := LoadConfig(envOf(map[string]string{"KALCIFER_AI_PROVIDER": "ollama", "KALCIFER_AI_MODEL": "llama3.1:8b",
		"KALCIFER_AI_BASE_URL": "http://127.0.0.1:11434", "KALCIFER_ALLOWED_PRIVATE_ADDRESSES": "127.0.0.1"}), nil); err != nil {
		t.Errorf("an allowed local model server: %v", err)
	}
}
