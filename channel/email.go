package channel

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/mail"
	"net/textproto"
	"strings"
)

// Email is a rendered email, as an email provider sends it. The engine
// fills Message.Email from the node's template; providers send it as it is
// and add the send's key where their callbacks will carry it back.
type Email struct {
	// From is the sender's address ("news@example.com"); empty means the
	// provider account's default sender.
	From string
	// FromName is the sender's display name; empty means the account's.
	FromName string
	// To is the recipient's address, without a display name.
	To string
	// ReplyTo is an optional reply address.
	ReplyTo string
	// Subject is the subject line, on one line.
	Subject string
	// HTML and Text are the two bodies; at least one is required. With
	// both, the message is multipart/alternative.
	HTML string
	Text string
	// Headers are extra headers, such as List-Unsubscribe and
	// List-Unsubscribe-Post (see UnsubscribeHeaders). Headers the providers
	// write themselves (From, To, Subject, Message-ID, Content-Type...)
	// are refused by Check.
	Headers map[string]string
}

// reservedHeaders are written by the providers from the Email's fields or
// by the MIME encoding; Email.Headers may not set them.
var reservedHeaders = map[string]bool{
	"From": true, "To": true, "Cc": true, "Bcc": true, "Reply-To": true, "Sender": true,
	"Subject": true, "Date": true, "Message-Id": true, "Return-Path": true,
	"Mime-Version": true, "Content-Type": true, "Content-Transfer-Encoding": true,
}

// Check reports the first problem that would keep e from being sent.
// Providers call it before sending and fail the send permanently on error.
func (e *Email) Check() error {
	if e == nil {
		return errors.New("the message has no rendered email")
	}
	if err := checkAddress("to", e.To, true); err != nil {
		return err
	}
	if err := checkAddress("from", e.From, false); err != nil {
		return err
	}
	if err := checkAddress("reply-to", e.ReplyTo, false); err != nil {
		return err
	}
	if strings.ContainsAny(e.FromName, "\r\n\x00") {
		return errors.New("email from name has a line break or NUL")
	}
	if strings.TrimSpace(e.Subject) == "" {
		return errors.New("email subject is empty")
	}
	if strings.ContainsAny(e.Subject, "\r\n\x00") {
		return errors.New("email subject has a line break or NUL")
	}
	if e.HTML == "" && e.Text == "" {
		return errors.New("email has neither an HTML nor a text body")
	}
	for name, value := range e.Headers {
		if !validHeaderName(name) {
			return fmt.Errorf("email header name %q is invalid", name)
		}
		if reservedHeaders[textproto.CanonicalMIMEHeaderKey(name)] {
			return fmt.Errorf("email header %q is set by the provider, not by Headers", name)
		}
		if strings.ContainsAny(value, "\r\n\x00") {
			return fmt.Errorf("email header %q has a line break or NUL in its value", name)
		}
	}
	return nil
}

// checkAddress accepts a bare address ("ada@example.com"), not one with a
// display name.
func checkAddress(field, s string, required bool) error {
	if s == "" {
		if required {
			return fmt.Errorf("email %s address is empty", field)
		}
		return nil
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return fmt.Errorf("email %s address %q is not a plain address like ada@example.com", field, s)
	}
	return nil
}

// validHeaderName reports whether name is an RFC 5322 field name: printable
// ASCII except the colon.
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 33 || c > 126 || c == ':' {
			return false
		}
	}
	return true
}

// CheckSender checks a provider account's default sender: a plain address
// and an optional display name on one line. Providers' config checks use it.
func CheckSender(from, fromName string) error {
	if from == "" {
		return errors.New("from is required: the default sender address, e.g. news@example.com")
	}
	if err := checkAddress("from", from, true); err != nil {
		return err
	}
	if strings.ContainsAny(fromName, "\r\n\x00") {
		return errors.New("from_name has a line break or NUL")
	}
	return nil
}

// Sender is the message's sender: the Email's From and FromName, each
// falling back to the account's default.
func (e *Email) Sender(defFrom, defName string) (from, name string) {
	from, name = e.From, e.FromName
	if from == "" {
		from = defFrom
	}
	if name == "" {
		name = defName
	}
	return from, name
}

// UnsubscribeHeaders are the headers of a one-click unsubscribe link (RFC
// 2369 List-Unsubscribe, RFC 8058 List-Unsubscribe-Post), for
// Email.Headers; url is the same https link the body shows.
func UnsubscribeHeaders(url string) map[string]string {
	return map[string]string{
		"List-Unsubscribe":      "<" + url + ">",
		"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
	}
}

// KeyToken is a send key written with letters, digits, '-' and '_' only
// (unpadded base64url), for fields that allow nothing else: SES message
// tags, the local part of a Message-ID.
func KeyToken(key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(key))
}
