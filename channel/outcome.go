package channel

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Outcome is what a send's result means for the engine.
type Outcome int

// The outcomes of a send. See the package comment.
const (
	OutcomeSent Outcome = iota
	OutcomeRetry
	OutcomeFailed
	OutcomeAmbiguous
)

func (o Outcome) String() string {
	switch o {
	case OutcomeSent:
		return "sent"
	case OutcomeRetry:
		return "retry"
	case OutcomeFailed:
		return "failed"
	case OutcomeAmbiguous:
		return "ambiguous"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// Classify says what a Provider.Send error means: nil is sent; a RetryError
// is retry, after its delay; a PermanentError is failed; anything else —
// an AmbiguousError, a context error, any unknown error — is ambiguous,
// because only the provider can say it certainly did not act.
//
// Wrapped errors classify like the error they wrap; when several of these
// errors are in the chain, the outermost decides.
func Classify(err error) (Outcome, time.Duration) {
	if err == nil {
		return OutcomeSent, 0
	}
	var c classified
	if errors.As(err, &c) {
		return c.outcome()
	}
	return OutcomeAmbiguous, 0
}

// classified is implemented by the error types that steer Classify.
type classified interface {
	error
	outcome() (Outcome, time.Duration)
}

// RetryError reports that the provider certainly did not act on the
// request, so sending again cannot duplicate the message.
type RetryError struct {
	Err error
	// After is how long to wait before the next attempt.
	After time.Duration
}

// Retry marks err as retryable: the provider certainly did not act on the
// request (the connection was refused before the request was written, a
// 429, a 503 with no side effect...). after is the delay the provider asked
// for; zero leaves it to the engine.
func Retry(err error, after time.Duration) error {
	return &RetryError{Err: orDefault(err, "retryable failure"), After: max(after, 0)}
}

func (e *RetryError) Error() string                     { return e.Err.Error() }
func (e *RetryError) Unwrap() error                     { return e.Err }
func (e *RetryError) outcome() (Outcome, time.Duration) { return OutcomeRetry, e.After }

// PermanentError reports that the message was certainly not delivered and
// that trying again is pointless.
type PermanentError struct {
	Err error
}

// Permanent marks err as final: the message was certainly not delivered and
// trying again would fail the same way (a missing URL, a 400, an unknown
// recipient).
func Permanent(err error) error {
	return &PermanentError{Err: orDefault(err, "permanent failure")}
}

func (e *PermanentError) Error() string                     { return e.Err.Error() }
func (e *PermanentError) Unwrap() error                     { return e.Err }
func (e *PermanentError) outcome() (Outcome, time.Duration) { return OutcomeFailed, 0 }

// AmbiguousError reports that the request may have been acted on: a
// timeout or a lost connection after the request was written. The engine
// never sends it again. Any unclassified error means the same; Ambiguous
// only makes it explicit, e.g. to stop an inner Retry error from counting.
type AmbiguousError struct {
	Err error
}

// Ambiguous marks err as an unknown outcome: the provider may have acted.
func Ambiguous(err error) error {
	return &AmbiguousError{Err: orDefault(err, "outcome unknown")}
}

func (e *AmbiguousError) Error() string                     { return e.Err.Error() }
func (e *AmbiguousError) Unwrap() error                     { return e.Err }
func (e *AmbiguousError) outcome() (Outcome, time.Duration) { return OutcomeAmbiguous, 0 }

// orDefault keeps a nil error from turning into a nil result, which would
// classify as sent.
func orDefault(err error, msg string) error {
	if err == nil {
		return errors.New(msg)
	}
	return err
}

// Backoff is a delay before retrying attempt (1 for the first try) when the
// provider named none: exponential from 2 s (2, 4, 8 s...) up to 5 minutes,
// each with jitter down to half, so that sends turned away together do not
// all come back together.
func Backoff(attempt int) time.Duration {
	const maxBackoff = 5 * time.Minute
	d := min(2*time.Second<<min(max(attempt-1, 0), 10), maxBackoff)
	return d/2 + rand.N(d/2+1)
}
