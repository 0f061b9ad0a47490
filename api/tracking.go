package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/channel"
	"github.com/kalcifer/kalcifer/tracking"
)

// trackingProvider names Kalcifer's own tracking among the providers that
// report deliveries (the client ids of its events are derived from it).
const trackingProvider = "tracking"

// pixel is a 1×1 transparent GIF.
var pixel = []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00," +
	"\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")

// trackOpen answers the tracking pixel, GET /t/o/{token}: always the
// transparent GIF, never an error page (a mail client shows a broken image
// otherwise), and records email_opened when the token is genuine.
func (s *server) trackOpen(w http.ResponseWriter, r *http.Request) {
	if l, err := s.tracker.Parse(tracking.Open, chi.URLParam(r, "token")); err == nil {
		s.recordTracked(r.Context(), l, channel.Status{Key: l.Key, Event: channel.StatusOpened})
	}
	w.Header().Set("Content-Type", "image/gif")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(pixel)
}

// trackClick follows a tracked link, GET /t/c/{token}: 302 to the URL the
// token signs, after recording email_clicked. A token that is not genuine
// is a 404 — never a redirect to anywhere it names.
func (s *server) trackClick(w http.ResponseWriter, r *http.Request) {
	l, err := s.tracker.Parse(tracking.Click, chi.URLParam(r, "token"))
	if err != nil {
		s.writeError(w, r, kalcifer.Errorf(kalcifer.ENOTFOUND, "no such link"))
		return
	}
	s.recordTracked(r.Context(), l, channel.Status{Key: l.Key, Event: channel.StatusClicked, URL: l.URL})
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, l.URL, http.StatusFound)
}

// recordTracked records an open or a click. A failure is logged, not
// shown: the customer still gets the image or reaches the link.
func (s *server) recordTracked(ctx context.Context, l tracking.Link, st channel.Status) {
	if s.engine == nil {
		s.logger.Warn("tracking: no engine to record an "+st.Event+" event", "send", l.Key)
		return
	}
	_, err := s.engine.RecordDeliveries(ctx, l.TenantID, trackingProvider, []channel.Status{st})
	if err != nil && !errors.Is(err, context.Canceled) {
		s.logger.Error("tracking: recording an "+st.Event+" event failed", "send", l.Key, "err", err)
	}
}
