package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/designer"
)

// bodyLimit is the most a route's request body may hold, declared with the
// route in routes(). A body over it is answered 413 naming the limit, before
// the handler reads any of it when the request says its length, and as
// soon as it is read past otherwise.
type bodyLimit int

// The body limits. A route takes the smallest that fits its largest valid
// request.
const (
	// noBody is for routes that take no body (GET, DELETE): any byte is
	// refused rather than ignored.
	noBody bodyLimit = iota
	// smallBody is for control actions and credentials (lifecycle actions,
	// instance and migration control, keys, tokens, AI settings), whose
	// bodies are a few short fields.
	smallBody
	// standardBody is Config.MaxBodyBytes (KALCIFER_MAX_BODY_BYTES): journeys,
	// versions, events, webhook entries, profiles, the designer's messages.
	standardBody
	// batchBody is for POST /events/batch: batchBodyBytes, and never less
	// than standardBody.
	batchBody
	// uploadBody is for POST /ai/upload: a document of designer.MaxUpload
	// with room for the multipart framing and instructions.
	uploadBody
	// callbackBody is for providers' delivery callbacks: callbackBodyBytes,
	// whatever KALCIFER_MAX_BODY_BYTES says, since providers choose their
	// batch sizes.
	callbackBody
	// importBody is for POST /customers/import: Config.MaxImportBytes
	// (KALCIFER_MAX_IMPORT_BYTES), read as a stream and written in
	// batches, never held whole; never less than standardBody.
	importBody
	// segmentCallBody and segmentBatchBody are Segment's limits, whatever
	// KALCIFER_MAX_BODY_BYTES says: 32 KiB a call, 500 KiB a batch.
	segmentCallBody
	segmentBatchBody
)

const (
	// smallBodyBytes bounds smallBody routes: their fields (a name, a
	// changelog, a rollout percentage, a provider's settings) fit many
	// times over.
	smallBodyBytes = 16 << 10
	// batchBodyBytes bounds a batch: about 8 KiB for each event of a full
	// one (MaxBatch), room for ids, type and a data object of a few dozen
	// attributes.
	batchBodyBytes = 8 << 20
	// callbackBodyBytes bounds a provider's callback: SendGrid and SES (SNS)
	// batches reach a few hundred KiB.
	callbackBodyBytes = 1 << 20
)

// bytes is the limit in bytes on this server.
func (l bodyLimit) bytes(s *server) int64 {
	switch l {
	case noBody:
		return 0
	case smallBody:
		return smallBodyBytes
	case batchBody:
		return max(s.maxBody, batchBodyBytes)
	case callbackBody:
		return callbackBodyBytes
	case importBody:
		return max(s.maxBody, s.maxImport)
	case segmentCallBody:
		return segmentCallBytes
	case segmentBatchBody:
		return segmentBatchBytes
	case uploadBody:
		return max(s.maxBody, designer.MaxUpload+1<<20)
	}
	return s.maxBody
}

// limitedHandler is a route's handler with its body limit. routes() adds
// every handler through it, and checkBodyLimits makes sure of that.
type limitedHandler struct {
	s     *server
	limit int64
	next  http.HandlerFunc
}

// limited wraps a route's handler with its body limit.
func (s *server) limited(l bodyLimit, h http.HandlerFunc) http.Handler {
	return &limitedHandler{s: s, limit: l.bytes(s), next: h}
}

func (h *limitedHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength > h.limit {
		h.s.writeError(w, r, tooLarge(r, h.limit))
		return
	}
	if h.limit == 0 && r.ContentLength < 0 {
		// A body of unknown length on a route that reads none: look for a
		// first byte, so that it is refused rather than ignored.
		var one [1]byte
		if n, _ := io.ReadFull(r.Body, one[:]); n > 0 {
			h.s.writeError(w, r, tooLarge(r, 0))
			return
		}
	}
	r.Body = http.MaxBytesReader(w, r.Body, h.limit)
	h.next(w, r)
}

// checkBodyLimits reports a route of router added without a body limit.
func (s *server) checkBodyLimits(router chi.Routes) error {
	return chi.Walk(router, func(method, route string, h http.Handler, _ ...func(http.Handler) http.Handler) error {
		if _, ok := endpoint(h).(*limitedHandler); !ok {
			return fmt.Errorf("api: route %s %s has no body limit: add it with route, get or post in routes()", method, route)
		}
		return nil
	})
}

// endpoint is the handler under the middlewares chi chains before it.
func endpoint(h http.Handler) http.Handler {
	for {
		c, ok := h.(*chi.ChainHandler)
		if !ok {
			return h
		}
		h = c.Endpoint
	}
}

// tooLarge refuses a body over limit, naming the route and its limit.
func tooLarge(r *http.Request, limit int64) *kalcifer.Error {
	route := r.Method + " " + r.URL.Path
	if rctx := chi.RouteContext(r.Context()); rctx != nil && rctx.RoutePattern() != "" {
		route = r.Method + " " + rctx.RoutePattern()
	}
	if limit == 0 {
		return kalcifer.Errorf(kalcifer.ETOOLARGE, "%s takes no request body: send none", route)
	}
	return kalcifer.Errorf(kalcifer.ETOOLARGE, "request body is larger than %s, the limit of %s", byteSize(limit), route)
}

// bodyTooLarge is the 413 for err when reading the body stopped at the
// route's limit.
func bodyTooLarge(r *http.Request, err error) (*kalcifer.Error, bool) {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return tooLarge(r, tooBig.Limit), true
	}
	return nil, false
}
