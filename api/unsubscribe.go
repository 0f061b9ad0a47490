package api

import (
	"errors"
	"html/template"
	"io"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/channel"
	"github.com/kalcifer/kalcifer/store"
)

// The public unsubscribe route, /u/{token}: the link every email carries
// (in its body as {{ unsubscribe_url }} and in List-Unsubscribe). The token
// is signed (channel.UnsubscribeToken), so it needs no key. GET only shows
// a page with a button — mail scanners follow links, and must not
// unsubscribe anyone — and POST, the button or a mail client's RFC 8058
// one-click request, sets the customer's unsubscribed_<channel> attribute.

var unsubscribePage = template.Must(template.New("u").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{.Title}}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}button{font:inherit;padding:.5rem 1rem}</style>
</head><body><h1>{{.Title}}</h1><p>{{.Text}}</p>
{{if .Button}}<form method="post"><button type="submit">Unsubscribe</button></form>{{end}}
</body></html>
`))

type unsubscribeView struct {
	Title, Text string
	Button      bool
}

func (s *server) unsubscribe(w http.ResponseWriter, r *http.Request) {
	// A one-click POST carries a small form; read it within the route's
	// limit before anything else, so an oversized body is a 413.
	if _, err := io.Copy(io.Discard, r.Body); err != nil {
		if e, ok := bodyTooLarge(r, err); ok {
			s.writeError(w, r, e)
			return
		}
	}
	u, err := channel.ParseUnsubscribeToken(s.store.UnsubscribeKey(), chi.URLParam(r, "token"))
	if err != nil {
		s.unsubscribePage(w, http.StatusBadRequest, unsubscribeView{Title: "Invalid link",
			Text: "This unsubscribe link is not valid. Copy the whole link from the email and try again."})
		return
	}
	_, err = s.store.GetCustomer(r.Context(), u.TenantID, u.CustomerID)
	var ke *kalcifer.Error
	if errors.As(err, &ke) && ke.Code == kalcifer.ENOTFOUND {
		s.unsubscribePage(w, http.StatusNotFound, unsubscribeView{Title: "Nothing to unsubscribe",
			Text: "We have no record of this address any more, so it gets no messages from us."})
		return
	}
	if err != nil {
		s.unsubscribeFailed(w, r, err)
		return
	}
	if r.Method == http.MethodGet {
		s.unsubscribePage(w, http.StatusOK, unsubscribeView{Title: "Unsubscribe",
			Text: "Press the button to stop receiving " + channelWords(u.Channel) + " from us.", Button: true})
		return
	}
	_, err = s.store.PatchCustomer(r.Context(), store.PatchCustomerParams{TenantID: u.TenantID, CustomerID: u.CustomerID,
		Set: map[string]any{channel.UnsubscribedAttribute(u.Channel): true}})
	if err != nil {
		s.unsubscribeFailed(w, r, err)
		return
	}
	s.unsubscribePage(w, http.StatusOK, unsubscribeView{Title: "You are unsubscribed",
		Text: "You will receive no more " + channelWords(u.Channel) + " from us."})
}

func (s *server) unsubscribeFailed(w http.ResponseWriter, r *http.Request, err error) {
	s.logger.ErrorContext(r.Context(), "unsubscribe failed", "err", err)
	s.unsubscribePage(w, http.StatusInternalServerError, unsubscribeView{Title: "Please try again",
		Text: "Something went wrong on our side; your request was not recorded. Please try again in a moment."})
}

func (s *server) unsubscribePage(w http.ResponseWriter, status int, v unsubscribeView) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	w.WriteHeader(status)
	_ = unsubscribePage.Execute(w, v) // a write error means the client left
}

// channelWords names a channel's messages for people.
func channelWords(ch string) string {
	switch ch {
	case "email":
		return "emails"
	case "sms":
		return "text messages"
	case "push":
		return "push notifications"
	case "whatsapp":
		return "WhatsApp messages"
	}
	return ch + " messages"
}
