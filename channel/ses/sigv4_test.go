package ses

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestSignVectors signs requests of AWS's SigV4 test suite
// (aws-sig-v4-test-suite: get-vanilla, get-vanilla-query-order-key-case,
// post-vanilla, post-x-www-form-urlencoded) and the IAM ListUsers example
// of the signing documentation, and compares with their published
// Authorization headers.
func TestSignVectors(t *testing.T) {
	t.Parallel()
	suite := credentials{accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}
	at := time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)
	const scope = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
	for _, c := range []struct {
		name, method, url, contentType, body, service, want string
	}{
		{"get-vanilla", "GET", "https://example.amazonaws.com/", "", "", "service",
			scope + "service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
		{"get-vanilla-query-order-key-case", "GET", "https://example.amazonaws.com/?Param2=value2&Param1=value1", "", "", "service",
			scope + "service/aws4_request, SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
		{"post-vanilla", "POST", "https://example.amazonaws.com/", "", "", "service",
			scope + "service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
		{"post-x-www-form-urlencoded", "POST", "https://example.amazonaws.com/", "application/x-www-form-urlencoded", "Param1=value1", "service",
			scope + "service/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"},
		{"iam ListUsers", "GET", "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08", "application/x-www-form-urlencoded; charset=utf-8", "", "iam",
			scope + "iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"},
	} {
		req, err := http.NewRequest(c.method, c.url, strings.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		if c.contentType != "" {
			req.Header.Set("Content-Type", c.contentType)
		}
		sign(req, []byte(c.body), suite, "us-east-1", c.service, at)
		if got := req.Header.Get("Authorization"); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
		if got := req.Header.Get("X-Amz-Date"); got != "20150830T123600Z" {
			t.Errorf("%s: X-Amz-Date = %q", c.name, got)
		}
	}
}

// TestSignSessionToken: temporary credentials send and sign their token.
func TestSignSessionToken(t *testing.T) {
	t.Parallel()
	req, _ := http.NewRequest("POST", "https://email.eu-west-1.amazonaws.com/v2/email/outbound-emails", strings.NewReader("{}"))
	sign(req, []byte("{}"), credentials{"AK", "SK", "TOKEN"}, "eu-west-1", "ses", time.Now())
	if req.Header.Get("X-Amz-Security-Token") != "TOKEN" {
		t.Error("session token not sent")
	}
	if !strings.Contains(req.Header.Get("Authorization"), "SignedHeaders=host;x-amz-date;x-amz-security-token,") {
		t.Errorf("session token not signed: %s", req.Header.Get("Authorization"))
	}
}
