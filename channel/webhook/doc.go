// Package webhook is the provider of call_webhook nodes: it sends the
// customer, the triggering event and the journey context as signed JSON to
// the node's URL.
//
// Every request carries X-Kalcifer-Timestamp (Unix seconds) and
// X-Kalcifer-Signature ("sha256=" + hex HMAC-SHA256 of timestamp + "." +
// body, keyed by the tenant's secret), so receivers can check it came from
// Kalcifer with Verify, and Idempotency-Key (the send's key), so they can
// drop a repeat.
//
// Outcomes, as channel.Classify reads them:
//
//   - sent: any 2xx answer.
//   - retry: the request never fully left (connection refused, DNS failure,
//     cancelled before writing), or the receiver answered 408, 429 or 503,
//     which say it did not act; Retry-After is honoured.
//   - failed: a bad node config (missing or non-http(s) URL, ...), an
//     internal address (loopback, private, link-local...: see
//     internal/netguard and WithPolicy), a 3xx (redirects are not followed)
//     or any other 4xx.
//   - ambiguous: the request was written but no answer came (timeout,
//     connection reset), or any other 5xx. The receiver may have acted, so
//     the engine never calls it again for this send.
//
// Details never quote the receiver: a status is "HTTP 404", never its body,
// and every connection failure reads the same, so a send's detail cannot
// be used to scan ports.
//
// It imports the standard library, the root kalcifer package (Clock),
// channel and internal/netguard.
package webhook
