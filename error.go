package kalcifer

import (
	"errors"
	"fmt"
	"time"
)

// Error codes. The API maps each to one HTTP status in exactly one place.
const (
	EINVALID       = "invalid"        // 400: malformed request (bad JSON, bad UTF-8, too deep)
	EUNAUTHORIZED  = "unauthorized"   // 401: no or unknown credentials
	EFORBIDDEN     = "forbidden"      // 403: the key's role is too low
	ENOTFOUND      = "not_found"      // 404: absent, or another tenant's
	ECONFLICT      = "conflict"       // 409: not allowed in the resource's current state
	ETOOLARGE      = "too_large"      // 413: body over the limit
	EINVALIDGRAPH  = "invalid_graph"  // 422: the journey graph or a node config is invalid
	EUNPROCESSABLE = "unprocessable"  // 422: well-formed but semantically wrong input
	ERATELIMITED   = "rate_limited"   // 429: over a rate limit; Error.RetryAfter says when to try again
	EQUOTA         = "quota_exceeded" // 403: over a quota that waiting does not lift (journeys, active instances)
	EINTERNAL      = "internal"       // 500: details are logged, never shown
)

// Detail is one problem in a request, named as precisely as possible.
type Detail struct {
	NodeID string `json:"node_id,omitempty"`
	EdgeID string `json:"edge_id,omitempty"`
	Field  string `json:"field,omitempty"`
	// Line and Column place a problem inside a field's text (a template's
	// Liquid syntax error), 1-based.
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Message string `json:"message"`
}

// Error is the application error. Its Message is safe to show to users.
type Error struct {
	Code    string
	Message string
	Details []Detail
	// State describes the resource's current state for ECONFLICT errors,
	// e.g. {"status": "draft"}.
	State map[string]any
	// RetryAfter is, for ERATELIMITED, how long the client should wait
	// before trying again (the Retry-After header).
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	return fmt.Sprintf("kalcifer error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of err: the *Error's message,
// or "internal error" for anything else.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
