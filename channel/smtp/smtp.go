// Package smtp sends email to an SMTP server (a relay such as Postfix, or
// a provider's SMTP endpoint) with wneessen/go-mail: STARTTLS, implicit TLS
// or, for local relays, none; AUTH PLAIN or LOGIN; multipart/alternative
// when the email has both bodies.
//
// The Message-ID is derived from the send's key
// (<kalcifer.KEYTOKEN@sender-domain>, see channel.KeyToken), so a repeat of
// a send is recognisable downstream and bounces can be matched to it. SMTP
// servers do not drop repeats, so the provider is not a
// channel.Deduplicator.
//
// Outcomes, by the step that failed and the server's reply code:
//
//   - sent: the server accepted the data (250 after the final ".");
//     errors of the RSET or QUIT that follow change nothing.
//   - retry: a 4xx reply at any step; a connection, TLS or network failure
//     before the final "." was written — the server discards a message
//     whose data did not end, so nothing can have been delivered.
//   - failed: a 5xx reply at any step (unknown recipient, rejected
//     content, bad credentials), a server that cannot do what the config
//     asks (no STARTTLS, no AUTH), a certificate that does not verify, a
//     config or email that cannot be sent.
//   - ambiguous: the connection was lost or timed out after the data's
//     final "." was written and before the server's reply: the server may
//     have queued the message.
package smtp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"strings"
	"time"

	mail "github.com/wneessen/go-mail"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/channel"
)

var _ channel.Provider = (*Provider)(nil)

// Name is the provider type's name.
const Name = "smtp"

// Timeout bounds each step of a conversation (dial, each command, the data).
const Timeout = 30 * time.Second

// The values of Config.TLS.
const (
	TLSNone     = "none"
	TLSStartTLS = "starttls"
	TLSImplicit = "tls"
)

// Config is an SMTP server account.
type Config struct {
	Host string `json:"host" endpoint:"true"`
	// Port defaults by TLS mode: 587 for starttls, 465 for tls, 25 for none.
	Port int `json:"port,omitempty" endpoint:"true"`
	// Username and Password log in with Auth; both or neither.
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty" secret:"true"`
	// TLS is "starttls", "tls" (implicit TLS) or "none" (local relays only:
	// it refuses a username, since the password would travel in clear).
	TLS string `json:"tls" endpoint:"true"`
	// Auth is "plain" (the default) or "login".
	Auth string `json:"auth,omitempty"`
	// From and FromName are the default sender; an email's own From wins.
	From     string `json:"from"`
	FromName string `json:"from_name,omitempty"`
	// RootCAs, when set, replaces the system's roots for verifying the
	// server's certificate (a private CA; the tests' server).
	RootCAs *x509.CertPool `json:"-"`
	// Dial, when set, makes the connection to the server: the provider
	// catalog sets the SSRF guard's dialer (internal/netguard), so a
	// tenant's account cannot reach the server's own networks. Nil dials
	// directly (tests, and only them).
	Dial func(ctx context.Context, network, address string) (net.Conn, error) `json:"-"`
}

// Check reports the first problem with c as an EUNPROCESSABLE error.
func (c Config) Check() error {
	fail := func(format string, args ...any) error {
		return kalcifer.Errorf(kalcifer.EUNPROCESSABLE, "smtp: "+format, args...)
	}
	switch {
	case c.Host == "" || strings.ContainsAny(c.Host, " \t\r\n/:"):
		return fail("host %q must be a host name or address without a port", c.Host)
	case c.Port < 0 || c.Port > 65535:
		return fail("port %d must be between 1 and 65535 (0 picks the TLS mode's default)", c.Port)
	case c.TLS != TLSNone && c.TLS != TLSStartTLS && c.TLS != TLSImplicit:
		return fail(`tls %q must be "starttls", "tls" or "none"`, c.TLS)
	case (c.Username == "") != (c.Password == ""):
		return fail("username and password go together: set both or neither")
	case c.Auth != "" && c.Auth != "plain" && c.Auth != "login":
		return fail(`auth %q must be "plain" or "login"`, c.Auth)
	case c.Auth != "" && c.Username == "":
		return fail("auth %q needs a username and password", c.Auth)
	case c.TLS == TLSNone && c.Username != "":
		return fail(`tls "none" would send the password in clear: use "starttls" or "tls"`)
	case strings.ContainsAny(c.Username+c.Password, "\r\n"):
		return fail("username and password must not contain line breaks")
	}
	if err := channel.CheckSender(c.From, c.FromName); err != nil {
		return fail("%v", err)
	}
	return nil
}

// port is the configured port or the TLS mode's default.
func (c Config) port() int {
	switch {
	case c.Port != 0:
		return c.Port
	case c.TLS == TLSImplicit:
		return 465
	case c.TLS == TLSStartTLS:
		return 587
	}
	return 25
}

// Provider sends through one SMTP server, one connection per message. It
// is safe for concurrent use.
type Provider struct {
	cfg Config
}

// New returns a provider for cfg, or cfg's problem.
func New(cfg Config) (*Provider, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	return &Provider{cfg: cfg}, nil
}

// Name returns "smtp".
func (p *Provider) Name() string { return Name }

// client builds a go-mail client for the config.
func (p *Provider) client() (*mail.Client, error) {
	c := p.cfg
	opts := []mail.Option{
		mail.WithPort(c.port()), mail.WithTimeout(Timeout),
		mail.WithTLSConfig(&tls.Config{ServerName: c.Host, RootCAs: c.RootCAs, MinVersion: tls.VersionTLS12}),
	}
	if c.Dial != nil {
		opts = append(opts, mail.WithDialContextFunc(c.Dial))
	}
	switch c.TLS {
	case TLSImplicit:
		opts = append(opts, mail.WithSSL(), mail.WithTLSPolicy(mail.NoTLS))
	case TLSStartTLS:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	}
	if c.Username != "" {
		auth := mail.SMTPAuthPlain
		if c.Auth == "login" {
			auth = mail.SMTPAuthLogin
		}
		opts = append(opts, mail.WithSMTPAuth(auth), mail.WithUsername(c.Username), mail.WithPassword(c.Password))
	}
	return mail.NewClient(c.Host, opts...)
}

// message builds the MIME message of m.
func (p *Provider) message(m channel.Message) (*mail.Msg, error) {
	e := m.Email
	from, name := e.Sender(p.cfg.From, p.cfg.FromName)
	msg := mail.NewMsg(mail.WithNoDefaultUserAgent())
	if err := msg.FromFormat(name, from); err != nil {
		return nil, fmt.Errorf("from: %w", err)
	}
	if err := msg.To(e.To); err != nil {
		return nil, fmt.Errorf("to: %w", err)
	}
	if e.ReplyTo != "" {
		if err := msg.ReplyTo(e.ReplyTo); err != nil {
			return nil, fmt.Errorf("reply-to: %w", err)
		}
	}
	msg.Subject(e.Subject)
	msg.SetDate()
	msg.SetMessageIDWithValue(MessageID(m.Key, from))
	for name, value := range e.Headers {
		msg.SetGenHeader(mail.Header(name), value)
	}
	switch {
	case e.Text != "" && e.HTML != "":
		msg.SetBodyString(mail.TypeTextPlain, e.Text)
		msg.AddAlternativeString(mail.TypeTextHTML, e.HTML)
	case e.HTML != "":
		msg.SetBodyString(mail.TypeTextHTML, e.HTML)
	default:
		msg.SetBodyString(mail.TypeTextPlain, e.Text)
	}
	return msg, nil
}

// MessageID is the Message-ID (without angle brackets) of the send with
// key from sender: the same for every attempt of a send.
func MessageID(key, sender string) string {
	domain := "kalcifer.invalid"
	if i := strings.LastIndexByte(sender, '@'); i >= 0 && i < len(sender)-1 {
		domain = sender[i+1:]
	}
	return "kalcifer." + channel.KeyToken(key) + "@" + domain
}

// Send delivers m's email in one SMTP conversation.
func (p *Provider) Send(ctx context.Context, m channel.Message) (channel.Result, error) {
	if err := m.Email.Check(); err != nil {
		return channel.Result{}, channel.Permanent(fmt.Errorf("smtp: %w", err))
	}
	msg, err := p.message(m)
	if err != nil {
		return channel.Result{}, channel.Permanent(fmt.Errorf("smtp: %w", err))
	}
	client, err := p.client()
	if err != nil {
		return channel.Result{}, channel.Permanent(fmt.Errorf("smtp: %w", err))
	}
	conn, err := client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return channel.Result{}, dialError(err, m.Attempt)
	}
	// A cancelled send (the engine stopping) closes the connection; a step
	// under way then fails like a dropped connection.
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	err = client.SendWithSMTPClient(conn, msg)
	_ = client.CloseWithSMTPClient(conn) // QUIT: its outcome changes nothing
	if msg.IsDelivered() {
		detail := "smtp accepted"
		if r := strings.TrimSpace(msg.ServerResponse()); r != "" {
			detail += ": " + truncate(r)
		}
		return channel.Result{Detail: detail}, nil
	}
	return channel.Result{}, sendError(err, m.Attempt)
}

// dialError classifies a failure to connect, greet, STARTTLS or log in.
// No message data was sent, so only the server's verdict can make it final.
func dialError(err error, attempt int) error {
	err = fmt.Errorf("smtp: connect: %w", err)
	if code, ok := replyCode(err); ok {
		return byCode(err, code, attempt)
	}
	var unknownAuthority x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	if errors.As(err, &unknownAuthority) || errors.As(err, &hostname) || errors.As(err, &invalid) || errors.As(err, &verify) {
		return channel.Permanent(fmt.Errorf("%w (the server's certificate does not verify)", err))
	}
	var netErr net.Error
	if errors.As(err, &netErr) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return channel.Retry(err, channel.Backoff(attempt))
	}
	// What is left is the server lacking what the config asks for
	// (STARTTLS, AUTH, the chosen mechanism): trying again will not help.
	return channel.Permanent(err)
}

// sendError classifies a failure after the connection was set up.
func sendError(err error, attempt int) error {
	if err == nil {
		return channel.Ambiguous(errors.New("smtp: the server did not confirm the message"))
	}
	err = fmt.Errorf("smtp: %w", err)
	if code, ok := replyCode(err); ok {
		return byCode(err, code, attempt)
	}
	var se *mail.SendError
	if errors.As(err, &se) {
		switch se.Reason {
		case mail.ErrSMTPDataClose:
			// The final "." was written (or was being written) and no reply
			// came: the server may have queued the message.
			return channel.Ambiguous(fmt.Errorf("%w (connection lost after the message data; outcome unknown, not resent)", err))
		case mail.ErrGetSender, mail.ErrGetRcpts, mail.ErrNoUnencoded:
			return channel.Permanent(err)
		}
	}
	// MAIL, RCPT, DATA or the data itself failed without a reply code: the
	// data never ended, so the server cannot have accepted the message.
	return channel.Retry(err, channel.Backoff(attempt))
}

// replyCode finds the server's SMTP reply code in err's chain: a
// textproto error, or a go-mail SendError (which keeps the code of the
// reply it wraps, not the reply itself).
func replyCode(err error) (int, bool) {
	code := 0
	var te *textproto.Error
	var se *mail.SendError
	switch {
	case errors.As(err, &te):
		code = te.Code
	case errors.As(err, &se):
		code = se.ErrorCode()
	}
	return code, code >= 400 && code <= 599
}

// byCode maps a reply code: 4xx transient, 5xx permanent.
func byCode(err error, code, attempt int) error {
	if code < 500 {
		return channel.Retry(fmt.Errorf("%w (SMTP %d, transient)", err, code), channel.Backoff(attempt))
	}
	return channel.Permanent(fmt.Errorf("%w (SMTP %d)", err, code))
}

func truncate(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
