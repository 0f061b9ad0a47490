package channel_test

import (
	"strings"
	"testing"
	"time"

	"github.com/kalcifer/kalcifer/channel"
)

func TestEmailCheck(t *testing.T) {
	t.Parallel()
	good := func() *channel.Email {
		return &channel.Email{To: "ada@example.com", Subject: "Hi", Text: "Hello",
			Headers: channel.UnsubscribeHeaders("https://x.example/u/1")}
	}
	if err := good().Check(); err != nil {
		t.Fatalf("good email: %v", err)
	}
	for _, c := range []struct {
		name string
		edit func(*channel.Email)
		want string
	}{
		{"no recipient", func(e *channel.Email) { e.To = "" }, "to address is empty"},
		{"recipient with name", func(e *channel.Email) { e.To = "Ada <ada@example.com>" }, "plain address"},
		{"bad from", func(e *channel.Email) { e.From = "nobody" }, "from address"},
		{"no subject", func(e *channel.Email) { e.Subject = " " }, "subject is empty"},
		{"subject injection", func(e *channel.Email) { e.Subject = "Hi\r\nBcc: all@example.com" }, "line break"},
		{"no body", func(e *channel.Email) { e.Text = "" }, "neither an HTML nor a text body"},
		{"reserved header", func(e *channel.Email) { e.Headers["bcc"] = "x@example.com" }, "set by the provider"},
		{"header injection", func(e *channel.Email) { e.Headers["X-Tag"] = "a\nBcc: x@example.com" }, "line break"},
		{"bad header name", func(e *channel.Email) { e.Headers["X Tag"] = "a" }, "invalid"},
	} {
		e := good()
		c.edit(e)
		if err := e.Check(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Check = %v, want an error naming %q", c.name, err, c.want)
		}
	}
	var none *channel.Email
	if err := none.Check(); err == nil {
		t.Error("a nil email passed Check")
	}
}

// TestBackoff: exponential, jittered between half and the whole step,
// capped at 5 minutes.
func TestBackoff(t *testing.T) {
	t.Parallel()
	for attempt, step := range map[int]time.Duration{1: 2 * time.Second, 2: 4 * time.Second, 4: 16 * time.Second, 9: 5 * time.Minute, 60: 5 * time.Minute} {
		seen := map[time.Duration]bool{}
		for range 200 {
			d := channel.Backoff(attempt)
			if d < step/2 || d > step {
				t.Fatalf("Backoff(%d) = %v, want within [%v, %v]", attempt, d, step/2, step)
			}
			seen[d] = true
		}
		if len(seen) < 2 {
			t.Errorf("Backoff(%d) has no jitter", attempt)
		}
	}
}
