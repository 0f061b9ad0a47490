package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// NewFormRequest builds a POST of form as application/x-www-form-urlencoded
// (the Twilio and Vonage SMS APIs), answering JSON.
func NewFormRequest(ctx context.Context, url string, form url.Values) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "Kalcifer")
	return req, nil
}
