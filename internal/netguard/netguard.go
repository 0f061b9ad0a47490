// Package netguard keeps the outbound requests whose target a tenant
// chooses — call_webhook URLs, AI provider base URLs — away from the
// server's own networks (server-side request forgery).
//
// The check is made on the address each connection is about to connect to,
// after DNS resolution (net.Dialer.Control), so a name that resolves to an
// internal address, a name that changes its answer between a check and the
// connection (DNS rebinding) and a redirect to an internal host are all
// refused the same way as a literal internal address. Guarded transports
// never use a proxy from the environment: the proxy's address would be the
// one checked, and every target would pass.
//
// It imports the standard library only.
package netguard

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// Policy says which internal addresses guarded connections may reach. The
// zero Policy refuses every one.
type Policy struct {
	// AllowPrivate lets every address through: the guard is off.
	AllowPrivate bool
	// Allowed are internal addresses (single addresses or networks) let
	// through while the rest stay refused.
	Allowed []netip.Prefix
}

// BlockedError is a connection the policy refused. Its message names the
// address and why it is internal, never the port.
type BlockedError struct {
	// Addr is the address the connection would have gone to, as resolved
	// (e.g. ::ffff:127.0.0.1 for an IPv4-mapped form).
	Addr netip.Addr
	// Class says why it is internal, e.g. "loopback" or "link-local".
	Class string
}

func (e *BlockedError) Error() string {
	return fmt.Sprintf("the address %s is on a private network (%s); Kalcifer refuses such targets unless "+
		"KALCIFER_ALLOW_PRIVATE_NETWORKS=true or KALCIFER_ALLOWED_PRIVATE_ADDRESSES lists the address", e.Addr, e.Class)
}

// IsBlocked reports whether err (or an error it wraps) is a *BlockedError,
// and returns it.
func IsBlocked(err error) (*BlockedError, bool) {
	var b *BlockedError
	ok := errors.As(err, &b)
	return b, ok
}

// internal lists the address ranges a tenant's request may not reach,
// most specific first: Class reports the first that matches.
var internal = func() []struct {
	prefix netip.Prefix
	class  string
} {
	rows := []struct{ prefix, class string }{
		{"0.0.0.0/32", "unspecified"},
		{"0.0.0.0/8", "this network"},
		{"127.0.0.0/8", "loopback"},
		{"10.0.0.0/8", "private"},
		{"172.16.0.0/12", "private"},
		{"192.168.0.0/16", "private"},
		{"169.254.0.0/16", "link-local, where cloud metadata services live"},
		{"100.64.0.0/10", "carrier-grade NAT shared space"},
		{"192.0.0.0/24", "IETF protocol assignments"},
		{"224.0.0.0/4", "multicast"},
		{"255.255.255.255/32", "broadcast"},
		{"240.0.0.0/4", "reserved"},
		{"::/128", "unspecified"},
		{"::1/128", "loopback"},
		{"fe80::/10", "link-local"},
		{"fec0::/10", "site-local"},
		{"fc00::/7", "unique local"},
		{"ff00::/8", "multicast"},
		{"64:ff9b:1::/48", "local-use NAT64"},
	}
	out := make([]struct {
		prefix netip.Prefix
		class  string
	}, len(rows))
	for i, r := range rows {
		out[i].prefix, out[i].class = netip.MustParsePrefix(r.prefix), r.class
	}
	return out
}()

// IPv6 forms that carry an IPv4 address in their last 32 bits (or, for
// 6to4, in bits 16-47), which the network may deliver to that IPv4 address.
var (
	compatible = netip.MustParsePrefix("::/96")        // IPv4-compatible (deprecated)
	nat64      = netip.MustParsePrefix("64:ff9b::/96") // NAT64 well-known prefix
	sixToFour  = netip.MustParsePrefix("2002::/16")    // 6to4
)

// embedded returns the IPv4 address an IPv6 address carries, if any.
func embedded(ip netip.Addr) (netip.Addr, bool) {
	if !ip.Is6() {
		return netip.Addr{}, false
	}
	b := ip.As16()
	switch {
	case ip.Is4In6():
		return ip.Unmap(), true
	case compatible.Contains(ip), nat64.Contains(ip):
		return netip.AddrFrom4([4]byte(b[12:16])), true
	case sixToFour.Contains(ip):
		return netip.AddrFrom4([4]byte(b[2:6])), true
	}
	return netip.Addr{}, false
}

// Class says why ip is internal ("loopback", "private", ...), or "" when it
// is a public address. IPv6 forms embedding an IPv4 address (mapped,
// compatible, NAT64, 6to4) are judged by that address.
func Class(ip netip.Addr) string {
	ip = ip.WithZone("")
	for _, r := range internal {
		if r.prefix.Contains(ip) {
			return r.class
		}
	}
	if v4, ok := embedded(ip); ok {
		if c := Class(v4); c != "" {
			return c + ", as an IPv4 address embedded in IPv6"
		}
	}
	return ""
}

// Check returns a *BlockedError when the policy refuses ip, else nil.
func (p Policy) Check(ip netip.Addr) error {
	ip = ip.WithZone("")
	if p.AllowPrivate {
		return nil
	}
	class := Class(ip)
	if class == "" {
		return nil
	}
	v4, hasV4 := embedded(ip)
	for _, a := range p.Allowed {
		if a.Contains(ip) || (hasV4 && a.Contains(v4)) {
			return nil
		}
	}
	return &BlockedError{Addr: ip, Class: class}
}

// CheckHost checks a URL's host (url.URL.Hostname) when it is an IP
// address, so a literal internal address can be refused as soon as it is
// configured. A name passes: what it resolves to is checked when
// connecting.
func (p Policy) CheckHost(host string) error {
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return nil
	}
	return p.Check(ip)
}

// control is the net.Dialer hook: it sees the resolved address of every
// connection just before it is made.
func (p Policy) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("netguard: cannot check the address to connect to: %w", err)
	}
	return p.Check(ap.Addr())
}

// Dialer returns a net.Dialer that refuses the connections p refuses.
func (p Policy) Dialer() *net.Dialer {
	return &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second, Control: p.control}
}

// Transport returns http.DefaultTransport's settings with p's dialer and no
// proxy, keeping enough idle connections per host for the engine's calls in
// flight (a target may hold 64 send slots): the default keeps 2, so most
// calls to a busy receiver or provider dialled anew, which is slow and
// widens the time between a send being marked in flight and its request
// leaving.
func (p Policy) Transport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil
	t.DialContext = p.Dialer().DialContext
	t.MaxIdleConns, t.MaxIdleConnsPerHost = 512, 128
	return t
}

// Client returns an *http.Client over p.Transport(). It follows redirects
// as http.Client does; each one's connection is checked like the first.
func (p Policy) Client() *http.Client {
	return &http.Client{Transport: p.Transport()}
}

// ParseAllowed reads a comma-separated list of internal addresses and
// networks ("10.1.2.3,192.168.0.0/24,fd00::/8"). Each entry must be inside
// the internal ranges: a public address is allowed anyway, so listing one
// would do nothing.
func ParseAllowed(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for entry := range strings.SplitSeq(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		p, err := parseEntry(entry)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func parseEntry(entry string) (netip.Prefix, error) {
	var p netip.Prefix
	if strings.Contains(entry, "/") {
		var err error
		if p, err = netip.ParsePrefix(entry); err != nil {
			return p, fmt.Errorf("%q is not an IP address or a network such as 192.168.0.0/24", entry)
		}
		if p != p.Masked() {
			return p, fmt.Errorf("%q has bits set past its /%d; the network is %s", entry, p.Bits(), p.Masked())
		}
	} else {
		ip, err := netip.ParseAddr(entry)
		if err != nil || ip.Zone() != "" {
			return p, fmt.Errorf("%q is not an IP address or a network such as 192.168.0.0/24", entry)
		}
		p = netip.PrefixFrom(ip, ip.BitLen())
	}
	if p.Addr().Is4In6() && p.Bits() >= 96 { // ::ffff:10.0.0.0/104 is 10.0.0.0/8
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	if !insideInternal(p) {
		return p, fmt.Errorf("%q is not (wholly) a private, loopback or link-local range; public addresses are allowed anyway, so list only internal ones", entry)
	}
	return p, nil
}

// insideInternal reports whether every address of p is internal: p is a
// single internal address, or lies within one internal range.
func insideInternal(p netip.Prefix) bool {
	if p.IsSingleIP() {
		return Class(p.Addr()) != ""
	}
	for _, r := range internal {
		if r.prefix.Bits() <= p.Bits() && r.prefix.Contains(p.Addr()) {
			return true
		}
	}
	return false
}
