package netguard_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/kalcifer/kalcifer/internal/netguard"
)

// receiver is a real HTTP server on addr ("127.0.0.1:0" when empty) that
// counts the requests reaching it.
type receiver struct {
	*httptest.Server
	hits atomic.Int32
}

func newReceiver(t *testing.T, addr string, h http.HandlerFunc) *receiver {
	t.Helper()
	r := &receiver{}
	r.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.hits.Add(1)
		if h != nil {
			h(w, req)
		}
	}))
	if addr != "" {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Skipf("cannot listen on %s: %v", addr, err)
		}
		r.Listener.Close()
		r.Listener = l
	}
	r.Start()
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) port() string {
	_, port, _ := net.SplitHostPort(r.Listener.Addr().String())
	return port
}

func get(c *http.Client, url string) (int, error) {
	resp, err := c.Get(url)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// The SSRF matrix: every internal address class, written as a literal URL,
// is refused by the guard before any packet leaves; the ones a test can
// listen on are reached once private networks are allowed, so the guard is
// what stopped them.
func TestGuardRefusesInternalTargets(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, "", nil)
	port := rcv.port()
	tests := []struct {
		host      string // as written in the URL
		blocked   string // the address the error names
		reachable bool   // the receiver answers on it when allowed
	}{
		{"127.0.0.1", "127.0.0.1", true},
		{"localhost", "", true}, // a name resolving to loopback (127.0.0.1 or ::1)
		{"[::ffff:127.0.0.1]", "127.0.0.1", true},
		{"0.0.0.0", "0.0.0.0", true},
		{"127.1.2.3", "127.1.2.3", false},
		{"[::1]", "::1", false},
		{"[::]", "::", false},
		{"10.0.0.1", "10.0.0.1", false},
		{"172.16.5.4", "172.16.5.4", false},
		{"192.168.1.1", "192.168.1.1", false},
		{"169.254.169.254", "169.254.169.254", false}, // cloud metadata
		{"100.64.0.1", "100.64.0.1", false},
		{"224.0.0.1", "224.0.0.1", false},
		{"255.255.255.255", "255.255.255.255", false},
		{"[fe80::1]", "fe80::1", false},
		{"[fc00::1]", "fc00::1", false},
		{"[fd12:3456::1]", "fd12:3456::1", false},
		{"[ff02::1]", "ff02::1", false},
		{"[::ffff:10.0.0.1]", "10.0.0.1", false},
		{"[::ffff:169.254.169.254]", "169.254.169.254", false},
		{"[::127.0.0.1]", "::7f00:1", false},            // IPv4-compatible
		{"[64:ff9b::7f00:1]", "64:ff9b::7f00:1", false}, // NAT64 of 127.0.0.1
		{"[64:ff9b::a9fe:a9fe]", "64:ff9b::a9fe:a9fe", false},
		{"[2002:7f00:1::1]", "2002:7f00:1::1", false}, // 6to4 of 127.0.0.1
	}
	guarded := netguard.Policy{}.Client()
	open := netguard.Policy{AllowPrivate: true}.Client()
	for _, tt := range tests {
		url := "http://" + tt.host + ":" + port + "/"
		_, err := get(guarded, url)
		b, ok := netguard.IsBlocked(err)
		if !ok {
			t.Errorf("GET %s = %v; want it refused as internal", url, err)
			continue
		}
		if tt.blocked != "" && b.Addr.String() != tt.blocked {
			t.Errorf("GET %s refused %s, want %s", url, b.Addr, tt.blocked)
		}
		if msg := err.Error(); !strings.Contains(msg, "KALCIFER_ALLOW_PRIVATE_NETWORKS=true") {
			t.Errorf("GET %s: message %q does not say how to allow it", url, msg)
		}
		if msg := b.Error(); strings.Contains(msg, port) {
			t.Errorf("GET %s: message %q names the port", url, msg)
		}
		if tt.reachable {
			if code, err := get(open, url); err != nil || code != http.StatusOK {
				t.Errorf("GET %s with private networks allowed = %d, %v; want 200", url, code, err)
			}
		}
	}
	if n := rcv.hits.Load(); n != 4 {
		t.Errorf("receiver got %d requests, want 4 (the allowed ones only)", n)
	}
}

// The allow list lets exactly the listed addresses through; a redirect
// from an allowed target to one that is not is refused, because every
// connection is checked, not only the first.
func TestAllowListAndRedirects(t *testing.T) {
	t.Parallel()
	other := newReceiver(t, "127.0.0.2:0", nil)
	first := newReceiver(t, "127.0.0.1:0", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, other.URL+"/secret", http.StatusFound)
		}
	})
	only := netguard.Policy{Allowed: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}.Client()

	if code, err := get(only, first.URL); err != nil || code != http.StatusOK {
		t.Fatalf("GET the listed address = %d, %v; want 200", code, err)
	}
	_, err := get(only, other.URL)
	if b, ok := netguard.IsBlocked(err); !ok || b.Addr.String() != "127.0.0.2" {
		t.Errorf("GET an unlisted loopback address = %v; want it refused", err)
	}
	_, err = get(only, first.URL+"/redirect")
	if b, ok := netguard.IsBlocked(err); !ok || b.Addr.String() != "127.0.0.2" {
		t.Errorf("a redirect to an unlisted address = %v; want it refused", err)
	}
	if n := other.hits.Load(); n != 0 {
		t.Errorf("the unlisted receiver got %d requests, want 0", n)
	}

	both := netguard.Policy{Allowed: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"),
		netip.MustParsePrefix("127.0.0.2/32")}}.Client()
	if code, err := get(both, first.URL+"/redirect"); err != nil || code != http.StatusOK || other.hits.Load() != 1 {
		t.Errorf("the redirect with both listed = %d, %v, %d hits; want 200 and 1", code, err, other.hits.Load())
	}
}

func TestClassOfPublicAddresses(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "2606:4700::1111",
		"::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1"} {
		if c := netguard.Class(netip.MustParseAddr(s)); c != "" {
			t.Errorf("Class(%s) = %q, want public", s, c)
		}
	}
}

func TestGuardedTransportUsesNoProxy(t *testing.T) {
	t.Parallel()
	if (netguard.Policy{}).Transport().Proxy != nil {
		t.Error("a guarded transport uses a proxy: the proxy's address would be checked instead of the target's")
	}
}

func TestParseAllowed(t *testing.T) {
	t.Parallel()
	got, err := netguard.ParseAllowed(" 10.1.2.3, 192.168.0.0/24,,fd00::/8,::ffff:10.9.0.0/112,::1")
	want := []string{"10.1.2.3/32", "192.168.0.0/24", "fd00::/8", "10.9.0.0/16", "::1/128"}
	if err != nil || len(got) != len(want) {
		t.Fatalf("ParseAllowed = %v, %v; want %v", got, err, want)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("entry %d = %s, want %s", i, got[i], want[i])
		}
	}
	for bad, msg := range map[string]string{
		"10.1.2":          "not an IP address",
		"10.0.0.0/33":     "not an IP address",
		"192.168.0.1/24":  "192.168.0.0/24",
		"8.8.8.8":         "public addresses are allowed anyway",
		"0.0.0.0/0":       "public addresses are allowed anyway",
		"172.0.0.0/8":     "public addresses are allowed anyway",
		"fe80::1%eth0":    "not an IP address",
		"10.0.0.1,banana": `"banana"`,
	} {
		if _, err := netguard.ParseAllowed(bad); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("ParseAllowed(%q) = %v; want an error saying %q", bad, err, msg)
		}
	}
}

func TestCheckHost(t *testing.T) {
	t.Parallel()
	p := netguard.Policy{}
	for host, blocked := range map[string]bool{"127.0.0.1": true, "::ffff:10.0.0.1": true, "fe80::1%eth0": true,
		"localhost": false, "api.openai.com": false, "8.8.8.8": false} {
		if _, got := netguard.IsBlocked(p.CheckHost(host)); got != blocked {
			t.Errorf("CheckHost(%q) blocked = %v, want %v", host, got, blocked)
		}
	}
}
