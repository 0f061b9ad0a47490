package llm

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

func TestErrorMessage(t *testing.T) {
	t.Parallel()
	cases := []struct{ body, want string }{
		{`{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}`, "invalid x-api-key"},
		{`{"error":{"message":"Incorrect API key provided","code":"invalid_api_key"}}`, "Incorrect API key provided"},
		{`{"error":"model not found"}`, "model not found"},
		{`{"message":"Bad gateway"}`, "Bad gateway"},
		{"<html>502 Bad Gateway: internal page</html>", "no error message in a provider's format"},
		{`{"status":"internal page"}`, "no error message in a provider's format"},
		{"", "no error message in a provider's format"},
		{`{"message":"` + strings.Repeat("x", 1000) + `"}`, strings.Repeat("x", 500) + "…"},
	}
	for _, c := range cases {
		if got := errorMessage(strings.NewReader(c.body)); got != c.want {
			t.Errorf("errorMessage(%.40q) = %.60q, want %.60q", c.body, got, c.want)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]time.Duration{"": time.Second, "0": 0, "3": 3 * time.Second, "9999": maxRetryWait, "soon": time.Second, "-1": time.Second} {
		if got := retryAfter(v); got != want {
			t.Errorf("retryAfter(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestSizeLimits(t *testing.T) {
	t.Parallel()
	if _, err := io.ReadAll(&capReader{r: strings.NewReader(strings.Repeat("x", 20)), left: 10}); !errors.Is(err, errTooLarge) {
		t.Errorf("capReader past its limit: %v", err)
	}
	if data, err := io.ReadAll(&capReader{r: strings.NewReader("0123456789"), left: 10}); err != nil || len(data) != 10 {
		t.Errorf("capReader at its limit: %q, %v", data, err)
	}
	long := "data: " + strings.Repeat("x", maxLineBytes) + "\n\n"
	if err := readSSE(strings.NewReader(long), func(string, string) error { return nil }); err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Errorf("readSSE on a huge line: %v", err)
	}
	if err := readLines(strings.NewReader(long), func(string) error { return nil }); err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Errorf("readLines on a huge line: %v", err)
	}
}
