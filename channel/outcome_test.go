package channel_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer/channel"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	cause := errors.New("boom")
	tests := []struct {
		name    string
		err     error
		outcome channel.Outcome
		after   time.Duration
	}{
		{"nil is sent", nil, channel.OutcomeSent, 0},
		{"retry", channel.Retry(cause, 7*time.Second), channel.OutcomeRetry, 7 * time.Second},
		{"retry without delay", channel.Retry(cause, 0), channel.OutcomeRetry, 0},
		{"negative delay is zero", channel.Retry(cause, -time.Second), channel.OutcomeRetry, 0},
		{"retry of nil is still an error", channel.Retry(nil, time.Second), channel.OutcomeRetry, time.Second},
		{"wrapped retry", fmt.Errorf("send: %w", channel.Retry(cause, 3*time.Second)), channel.OutcomeRetry, 3 * time.Second},
		{"permanent", channel.Permanent(cause), channel.OutcomeFailed, 0},
		{"permanent of nil", channel.Permanent(nil), channel.OutcomeFailed, 0},
		{"wrapped permanent", fmt.Errorf("a: %w", fmt.Errorf("b: %w", channel.Permanent(cause))), channel.OutcomeFailed, 0},
		{"joined permanent", errors.Join(io.EOF, channel.Permanent(cause)), channel.OutcomeFailed, 0},
		{"ambiguous", channel.Ambiguous(cause), channel.OutcomeAmbiguous, 0},
		{"wrapped ambiguous", fmt.Errorf("x: %w", channel.Ambiguous(cause)), channel.OutcomeAmbiguous, 0},
		{"outermost wins: ambiguous over retry", channel.Ambiguous(channel.Retry(cause, time.Second)), channel.OutcomeAmbiguous, 0},
		{"outermost wins: permanent over retry", channel.Permanent(channel.Retry(cause, time.Second)), channel.OutcomeFailed, 0},
		{"unknown error", cause, channel.OutcomeAmbiguous, 0},
		{"deadline", context.DeadlineExceeded, channel.OutcomeAmbiguous, 0},
		{"canceled", fmt.Errorf("post: %w", context.Canceled), channel.OutcomeAmbiguous, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			outcome, after := channel.Classify(tt.err)
			if outcome != tt.outcome || after != tt.after {
				t.Errorf("Classify(%v) = %s, %v; want %s, %v", tt.err, outcome, after, tt.outcome, tt.after)
			}
		})
	}
}

func TestErrorsKeepTheirCause(t *testing.T) {
	t.Parallel()
	cause := errors.New("HTTP 503")
	for _, err := range []error{channel.Retry(cause, time.Second), channel.Permanent(cause), channel.Ambiguous(cause)} {
		if !errors.Is(err, cause) {
			t.Errorf("%T does not unwrap to its cause", err)
		}
		if err.Error() != "HTTP 503" {
			t.Errorf("%T.Error() = %q, want the cause's message", err, err.Error())
		}
	}
	var re *channel.RetryError
	if !errors.As(fmt.Errorf("w: %w", channel.Retry(cause, 2*time.Second)), &re) || re.After != 2*time.Second {
		t.Errorf("errors.As RetryError = %+v", re)
	}
}

func TestOutcomeString(t *testing.T) {
	t.Parallel()
	want := map[channel.Outcome]string{channel.OutcomeSent: "sent", channel.OutcomeRetry: "retry",
		channel.OutcomeFailed: "failed", channel.OutcomeAmbiguous: "ambiguous", 9: "Outcome(9)"}
	for o, s := range want {
		if o.String() != s {
			t.Errorf("Outcome(%d).String() = %q, want %q", int(o), o.String(), s)
		}
	}
}
