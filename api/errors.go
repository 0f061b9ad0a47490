package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/kalcifer/kalcifer"
)

// Codes that only exist at the HTTP layer: no domain operation can fail with
// them, so they live here rather than in the kalcifer package.
const (
	codeMethodNotAllowed     = "method_not_allowed"     // 405
	codeUnsupportedMediaType = "unsupported_media_type" // 415
	codeUnavailable          = "unavailable"            // 503
	codeUpstream             = "provider_error"         // 502: an AI provider failed
	codeTimeout              = "timeout"                // 504: the AI designer took too long
)

// statusOf is the one mapping from error codes to HTTP statuses.
func statusOf(code string) int {
	switch code {
	case kalcifer.EINVALID:
		return http.StatusBadRequest
	case kalcifer.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case kalcifer.EFORBIDDEN, kalcifer.EQUOTA:
		return http.StatusForbidden
	case kalcifer.ENOTFOUND:
		return http.StatusNotFound
	case codeMethodNotAllowed:
		return http.StatusMethodNotAllowed
	case kalcifer.ECONFLICT:
		return http.StatusConflict
	case kalcifer.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case codeUnsupportedMediaType:
		return http.StatusUnsupportedMediaType
	case kalcifer.EINVALIDGRAPH, kalcifer.EUNPROCESSABLE:
		return http.StatusUnprocessableEntity
	case kalcifer.ERATELIMITED:
		return http.StatusTooManyRequests
	case codeUnavailable:
		return http.StatusServiceUnavailable
	case codeUpstream:
		return http.StatusBadGateway
	case codeTimeout:
		return http.StatusGatewayTimeout
	}
	return http.StatusInternalServerError
}

// errorBody is the JSON shape of every error response.
type errorBody struct {
	Error errorObject `json:"error"`
}

type errorObject struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Details []kalcifer.Detail `json:"details,omitempty"`
	State   map[string]any    `json:"state,omitempty"`

	retryAfter time.Duration // the Retry-After header of a 429
}

// writeError answers with err. A *kalcifer.Error is shown as it is; anything
// else (and an EINTERNAL error) is logged with the request's identity and
// answered with a bare "internal error", so internals never leak.
func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := s.errorObject(r, err)
	switch e.Code {
	case kalcifer.EUNAUTHORIZED:
		w.Header().Set("WWW-Authenticate", `Bearer realm="kalcifer"`)
	case kalcifer.ERATELIMITED:
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter(e.retryAfter)))
	}
	s.writeJSON(w, r, statusOf(e.Code), errorBody{Error: e})
}

// errorObject is what the client is shown of err (see writeError); it
// logs what is not shown.
func (s *server) errorObject(r *http.Request, err error) errorObject {
	var e *kalcifer.Error
	if !errors.As(err, &e) || statusOf(e.Code) == http.StatusInternalServerError {
		s.logger.ErrorContext(r.Context(), "request failed",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Any("error", err))
		e = &kalcifer.Error{Code: kalcifer.EINTERNAL, Message: "internal error"}
	}
	return errorObject{Code: e.Code, Message: e.Message, Details: e.Details, State: e.State, retryAfter: e.RetryAfter}
}

// writeJSON answers with v as JSON. The body is marshalled before anything
// is written, so a value that cannot be encoded still gets a clean 500.
func (s *server) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		s.logger.ErrorContext(r.Context(), "encode response",
			slog.String("path", r.URL.Path),
			slog.Any("error", err))
		status = http.StatusInternalServerError
		body = []byte(`{"error":{"code":"internal","message":"internal error"}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if _, err := w.Write(append(body, '\n')); err != nil {
		// The client went away; there is nobody left to tell.
		s.logger.DebugContext(r.Context(), "write response",
			slog.Any("error", err))
	}
}

// invalid returns an EINVALID error about one field.
func invalid(field, format string, args ...any) *kalcifer.Error {
	e := kalcifer.Errorf(kalcifer.EINVALID, format, args...)
	if field != "" {
		e.Details = []kalcifer.Detail{{Field: field, Message: e.Message}}
	}
	return e
}
