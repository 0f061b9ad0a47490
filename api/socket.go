package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/live"
)

// The socket's limits: the largest message a client may send (a join is a
// few hundred bytes), how long it may stay silent (Phoenix clients send a
// heartbeat every 30 s), and how long one write may take before the
// socket is given up.
const (
	socketReadLimit    = 4 << 10
	socketIdleTimeout  = 60 * time.Second
	socketWriteTimeout = 10 * time.Second
)

// authenticateSocket is authenticate for the WebSocket route, which browsers
// cannot give headers: the credential comes from the Authorization header
// or, without one, from the token query parameter.
func (s *server) authenticateSocket(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" || !r.URL.Query().Has("token") {
			s.authenticate(next).ServeHTTP(w, r)
			return
		}
		credential := r.URL.Query().Get("token")
		if credential == "" {
			s.writeError(w, r, kalcifer.Errorf(kalcifer.EUNAUTHORIZED, "the token query parameter is empty: give an API key or token"))
			return
		}
		p, err := s.principalOf(r.Context(), credential)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey, p)))
	})
}

// socket serves the live feed over a WebSocket (docs/LIVE.md): Phoenix
// frames; phx_join and phx_leave of journey:{id} and instance:{id}, checked
// against the caller's tenant; heartbeat on the phoenix topic. Frames are
// written by one goroutine from the subscriber's queue; the hub drops a
// subscriber whose queue fills, and the socket is then closed with 1013.
func (s *server) socket(w http.ResponseWriter, r *http.Request) {
	if s.live == nil {
		s.writeError(w, r, kalcifer.Errorf(codeUnavailable, "this server has no live feed"))
		return
	}
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		s.writeError(w, r, kalcifer.Errorf(kalcifer.EINVALID, "GET /api/v1/socket speaks WebSocket: connect with a WebSocket client (docs/LIVE.md)"))
		return
	}
	p := principal(r)
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: s.socketOrigins(), InsecureSkipVerify: s.anyOrigin()})
	if err != nil {
		return // Accept answered the client
	}
	defer c.CloseNow()
	c.SetReadLimit(socketReadLimit)
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	sub := s.live.Subscribe()
	defer s.live.Close(sub)
	go s.writeSocket(ctx, cancel, c, sub)
	for {
		rctx, rcancel := context.WithTimeout(ctx, socketIdleTimeout)
		typ, data, err := c.Read(rctx)
		rcancel()
		if err != nil {
			if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
				c.Close(websocket.StatusPolicyViolation, "no message in 60 s: send a heartbeat every 30 s")
			}
			return
		}
		if typ != websocket.MessageText {
			c.Close(websocket.StatusUnsupportedData, "frames are JSON text")
			return
		}
		if !s.socketMessage(ctx, sub, p, data) {
			return
		}
	}
}

// writeSocket writes the subscriber's frames until the socket ends; it
// closes the socket when the hub dropped the subscriber.
func (s *server) writeSocket(ctx context.Context, cancel context.CancelFunc, c *websocket.Conn, sub *live.Sub) {
	defer cancel()
	for {
		select {
		case <-ctx.Done():
			return
		case <-sub.Dropped():
			c.Close(websocket.StatusTryAgainLater, sub.Reason())
			return
		case <-s.live.Done():
			c.Close(websocket.StatusGoingAway, "the server is shutting down")
			return
		case frames := <-sub.Out():
			for _, f := range frames {
				wctx, wcancel := context.WithTimeout(ctx, socketWriteTimeout)
				err := c.Write(wctx, websocket.MessageText, f)
				wcancel()
				if err != nil {
					return
				}
			}
		}
	}
}

// socketMessage answers one message of the client; false ends the socket
// (its queue overflowed).
func (s *server) socketMessage(ctx context.Context, sub *live.Sub, p kalcifer.Principal, data []byte) bool {
	var f live.Frame
	if err := json.Unmarshal(data, &f); err != nil || f.Event == "" {
		return s.live.Send(sub, live.Reply(f.Topic, f.Ref, false, replyError(kalcifer.Errorf(kalcifer.EINVALID,
			`a message is a JSON object {"topic", "event", "payload", "ref"}`))))
	}
	switch {
	case f.Event == live.EventHeartbeat && f.Topic == "phoenix":
		return s.live.Send(sub, live.Reply(f.Topic, f.Ref, true, nil))
	case f.Event == live.EventJoin:
		err := s.live.Join(ctx, sub, p.TenantID, f.Topic, f.Ref)
		if err == nil {
			return true
		}
		if kalcifer.ErrorCode(err) == kalcifer.EINTERNAL {
			s.logger.ErrorContext(ctx, "socket join", slog.String("topic", f.Topic), slog.Any("error", err))
		}
		return s.live.Send(sub, live.Reply(f.Topic, f.Ref, false, replyError(err)))
	case f.Event == live.EventLeave:
		if !s.live.Leave(sub, f.Topic) {
			return s.live.Send(sub, live.Reply(f.Topic, f.Ref, false, replyError(kalcifer.Errorf(kalcifer.ENOTFOUND, "not joined to %q", f.Topic))))
		}
		return s.live.Send(sub, live.Reply(f.Topic, f.Ref, true, nil))
	default:
		return s.live.Send(sub, live.Reply(f.Topic, f.Ref, false, replyError(kalcifer.Errorf(kalcifer.EINVALID,
			"unknown event %q: send phx_join, phx_leave, or heartbeat on the phoenix topic", f.Event))))
	}
}

// replyError is the response of an error reply: the error's code and
// message, as in the REST API's error body (internal errors say no more).
func replyError(err error) map[string]string {
	code := kalcifer.ErrorCode(err)
	msg := kalcifer.ErrorMessage(err)
	return map[string]string{"reason": msg, "code": code}
}

// socketOrigins are the browser origins whose pages may open the socket
// besides the server's own: the CORS origins, as host patterns.
func (s *server) socketOrigins() []string {
	var out []string
	for _, o := range s.corsOrigins {
		if _, host, ok := strings.Cut(o, "://"); ok {
			out = append(out, host)
		}
	}
	return out
}

// anyOrigin reports whether CORS allows every origin ("*").
func (s *server) anyOrigin() bool {
	for _, o := range s.corsOrigins {
		if o == "*" {
			return true
		}
	}
	return false
}
