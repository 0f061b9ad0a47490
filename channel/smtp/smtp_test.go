package smtp_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/channel"
	"github.com/kalcifer/kalcifer/channel/internal/providertest"
	"github.com/kalcifer/kalcifer/channel/smtp"
)

const (
	user     = "kalcifer"
	password = "s3cret"
)

// server is a real SMTP server (emersion/go-smtp) that records what it
// accepts and can be told to refuse or drop a step.
type server struct {
	port  int
	roots *x509.CertPool

	mu       sync.Mutex
	accepted [][]byte // message data, as received
	auths    []string // mechanisms used
	mailErr  error    // MAIL FROM reply
	rcptErr  error    // RCPT TO reply
	dataErr  error    // reply after the data
	dropRcpt bool     // close the connection at RCPT TO
	dropData bool     // close the connection after reading the data
}

// newServer starts a server speaking tls ("starttls", "tls" or "none").
func newServer(t *testing.T, mode string) *server {
	t.Helper()
	cert, roots := certificate(t)
	s := &server{roots: roots}
	srv := gosmtp.NewServer(gosmtp.BackendFunc(func(c *gosmtp.Conn) (gosmtp.Session, error) {
		return &session{s: s, conn: c}, nil
	}))
	srv.Domain = "mx.test"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	tlsConfig := &tls.Config{Certificates: []tls.Certificate{cert}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	switch mode {
	case smtp.TLSStartTLS:
		srv.TLSConfig = tlsConfig
	case smtp.TLSImplicit:
		l = tls.NewListener(l, tlsConfig)
	}
	s.port = l.Addr().(*net.TCPAddr).Port
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

func (s *server) set(f func(*server)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

func (s *server) messages() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.accepted...)
}

type session struct {
	s    *server
	conn *gosmtp.Conn
}

func (x *session) AuthMechanisms() []string { return []string{sasl.Plain, sasl.Login} }

func (x *session) Auth(mech string) (sasl.Server, error) {
	x.s.set(func(s *server) { s.auths = append(s.auths, mech) })
	check := func(u, p string) error {
		if u != user || p != password {
			return &gosmtp.SMTPError{Code: 535, EnhancedCode: gosmtp.EnhancedCode{5, 7, 8}, Message: "Authentication credentials invalid"}
		}
		return nil
	}
	if mech == sasl.Login {
		return &loginServer{check: check}, nil
	}
	return sasl.NewPlainServer(func(_, u, p string) error { return check(u, p) }), nil
}

func (x *session) Mail(string, *gosmtp.MailOptions) error {
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	return x.s.mailErr
}

func (x *session) Rcpt(string, *gosmtp.RcptOptions) error {
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	if x.s.dropRcpt {
		_ = x.conn.Conn().Close()
	}
	return x.s.rcptErr
}

func (x *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	if x.s.dropData { // the message is in; the reply never leaves
		x.s.accepted = append(x.s.accepted, data)
		_ = x.conn.Conn().Close()
		return nil
	}
	if x.s.dataErr != nil {
		return x.s.dataErr
	}
	x.s.accepted = append(x.s.accepted, data)
	return nil
}

func (x *session) Reset()        {}
func (x *session) Logout() error { return nil }

// loginServer is the server side of AUTH LOGIN, which go-sasl lacks.
type loginServer struct {
	step  int
	user  string
	check func(user, password string) error
}

func (l *loginServer) Next(response []byte) ([]byte, bool, error) {
	l.step++
	switch {
	case l.step == 1 && response == nil:
		return []byte("Username:"), false, nil
	case l.step <= 2 && l.user == "":
		l.user = string(response)
		return []byte("Password:"), false, nil
	}
	return nil, true, l.check(l.user, string(response))
}

// certificate is a self-signed certificate for 127.0.0.1 and a pool that
// trusts it.
func certificate(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mx.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(parsed)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

func provider(t *testing.T, s *server, mode, auth string) *smtp.Provider {
	t.Helper()
	cfg := smtp.Config{Host: "127.0.0.1", Port: s.port, TLS: mode, Auth: auth, From: "news@example.com", FromName: "Example News", RootCAs: s.roots}
	if mode != smtp.TLSNone {
		cfg.Username, cfg.Password = user, password
	}
	p, err := smtp.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

// TestSendMIME sends over STARTTLS with AUTH PLAIN and over implicit TLS
// with AUTH LOGIN, and parses what the server received.
func TestSendMIME(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ mode, auth, mech string }{
		{smtp.TLSStartTLS, "plain", sasl.Plain},
		{smtp.TLSImplicit, "login", sasl.Login},
	} {
		t.Run(c.mode, func(t *testing.T) {
			t.Parallel()
			s := newServer(t, c.mode)
			res, err := provider(t, s, c.mode, c.auth).Send(t.Context(), providertest.Message())
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			if !strings.HasPrefix(res.Detail, "smtp accepted") {
				t.Errorf("Detail = %q", res.Detail)
			}
			s.mu.Lock()
			auths := s.auths
			s.mu.Unlock()
			if len(auths) != 1 || auths[0] != c.mech {
				t.Errorf("auth mechanisms used = %v, want [%s]", auths, c.mech)
			}
			msgs := s.messages()
			if len(msgs) != 1 {
				t.Fatalf("server accepted %d messages, want 1", len(msgs))
			}
			checkMIME(t, msgs[0])
		})
	}
}

func checkMIME(t *testing.T, data []byte) {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(string(data)))
	if err != nil {
		t.Fatalf("parse message: %v", err)
	}
	h := msg.Header
	subject, _ := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
	for name, want := range map[string]string{
		"Subject":               "Welcome, Ada",
		"From":                  `"Example News" <news@example.com>`,
		"To":                    "<ada@example.com>",
		"Reply-To":              "<help@example.com>",
		"List-Unsubscribe":      "<https://kalcifer.example/u/abc>",
		"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		"Message-Id":            "<" + smtp.MessageID("ins_01:welcome:1", "news@example.com") + ">",
	} {
		got := h.Get(name)
		if name == "Subject" {
			got = subject
		}
		if got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if _, err := h.Date(); err != nil {
		t.Errorf("Date: %v", err)
	}
	mediaType, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || mediaType != "multipart/alternative" {
		t.Fatalf("Content-Type = %q, want multipart/alternative", h.Get("Content-Type"))
	}
	parts := map[string]string{}
	var order []string
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("next part: %v", err)
		}
		body, _ := io.ReadAll(p)
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		parts[ct] = strings.ReplaceAll(string(body), "\r\n", "\n")
		order = append(order, ct)
	}
	if strings.Join(order, ",") != "text/plain,text/html" {
		t.Errorf("parts = %v, want text/plain then text/html (the preferred last)", order)
	}
	e := providertest.Email()
	if parts["text/plain"] != e.Text || parts["text/html"] != e.HTML {
		t.Errorf("bodies = %q", parts)
	}
}

// TestOutcomes plays the server's refusals and a dropped connection.
func TestOutcomes(t *testing.T) {
	t.Parallel()
	smtpErr := func(code int, msg string) error {
		return &gosmtp.SMTPError{Code: code, EnhancedCode: gosmtp.EnhancedCode{code / 100, 0, 0}, Message: msg}
	}
	for _, c := range []struct {
		name string
		set  func(*server)
		want channel.Outcome
		kept int // messages the server kept
	}{
		{"451 at MAIL", func(s *server) { s.mailErr = smtpErr(451, "greylisted, try later") }, channel.OutcomeRetry, 0},
		{"550 at RCPT", func(s *server) { s.rcptErr = smtpErr(550, "no such user") }, channel.OutcomeFailed, 0},
		{"452 at RCPT", func(s *server) { s.rcptErr = smtpErr(452, "mailbox full") }, channel.OutcomeRetry, 0},
		{"554 after DATA", func(s *server) { s.dataErr = smtpErr(554, "message rejected as spam") }, channel.OutcomeFailed, 0},
		{"451 after DATA", func(s *server) { s.dataErr = smtpErr(451, "local error") }, channel.OutcomeRetry, 0},
		{"dropped at RCPT", func(s *server) { s.dropRcpt = true }, channel.OutcomeRetry, 0},
		{"dropped after DATA", func(s *server) { s.dropData = true }, channel.OutcomeAmbiguous, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := newServer(t, smtp.TLSNone)
			s.set(c.set)
			_, err := provider(t, s, smtp.TLSNone, "").Send(t.Context(), providertest.Message())
			if got, _ := channel.Classify(err); got != c.want {
				t.Errorf("outcome = %v (%v), want %v", got, err, c.want)
			}
			if n := len(s.messages()); n != c.kept {
				t.Errorf("server kept %d messages, want %d", n, c.kept)
			}
		})
	}
}

// TestLoginFailures: wrong credentials are permanent; an unreachable
// server and a certificate nobody vouches for are told apart.
func TestLoginFailures(t *testing.T) {
	t.Parallel()
	s := newServer(t, smtp.TLSStartTLS)
	p, _ := smtp.New(smtp.Config{Host: "127.0.0.1", Port: s.port, TLS: smtp.TLSStartTLS, Username: user, Password: "wrong", From: "news@example.com", RootCAs: s.roots})
	_, err := p.Send(t.Context(), providertest.Message())
	providertest.Expect(t, err, channel.OutcomeFailed, 0, 0)
	if !strings.Contains(err.Error(), "535") {
		t.Errorf("error %q does not carry the 535", err)
	}

	untrusted, _ := smtp.New(smtp.Config{Host: "127.0.0.1", Port: s.port, TLS: smtp.TLSStartTLS, Username: user, Password: password, From: "news@example.com"})
	_, err = untrusted.Send(t.Context(), providertest.Message())
	providertest.Expect(t, err, channel.OutcomeFailed, 0, 0)

	l, _ := net.Listen("tcp", "127.0.0.1:0")
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	closed, _ := smtp.New(smtp.Config{Host: "127.0.0.1", Port: port, TLS: smtp.TLSNone, From: "news@example.com"})
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	_, err = closed.Send(ctx, providertest.Message())
	providertest.Expect(t, err, channel.OutcomeRetry, time.Second, 2*time.Second)
}

func TestConfigCheck(t *testing.T) {
	t.Parallel()
	good := smtp.Config{Host: "smtp.example.com", TLS: smtp.TLSStartTLS, Username: "u", Password: "p", From: "news@example.com"}
	if err := good.Check(); err != nil {
		t.Fatalf("good config: %v", err)
	}
	for _, c := range []struct {
		name string
		edit func(*smtp.Config)
		want string
	}{
		{"no host", func(c *smtp.Config) { c.Host = "" }, "host"},
		{"host with port", func(c *smtp.Config) { c.Host = "smtp.example.com:587" }, "without a port"},
		{"bad port", func(c *smtp.Config) { c.Port = 70000 }, "port"},
		{"bad tls", func(c *smtp.Config) { c.TLS = "ssl" }, `"starttls", "tls" or "none"`},
		{"no tls given", func(c *smtp.Config) { c.TLS = "" }, `"starttls", "tls" or "none"`},
		{"password alone", func(c *smtp.Config) { c.Username = "" }, "set both or neither"},
		{"bad auth", func(c *smtp.Config) { c.Auth = "cram-md5" }, `"plain" or "login"`},
		{"password in clear", func(c *smtp.Config) { c.TLS = smtp.TLSNone }, "in clear"},
		{"no from", func(c *smtp.Config) { c.From = "" }, "from is required"},
	} {
		cfg := good
		c.edit(&cfg)
		err := cfg.Check()
		if kalcifer.ErrorCode(err) != kalcifer.EUNPROCESSABLE || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Check = %v, want an unprocessable error naming %q", c.name, err, c.want)
		}
	}
}
