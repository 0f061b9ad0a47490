package kalcifer

import "time"

// MergeAttributes merges src into dst key by key: an object merges into an
// object already there, recursively; null (nil) removes the key; any other
// value replaces what was there. Objects taken from src are copied, so dst
// never shares a map with src.
func MergeAttributes(dst, src map[string]any) {
	for k, v := range src {
		switch v := v.(type) {
		case nil:
			delete(dst, k)
		case map[string]any:
			inner, ok := dst[k].(map[string]any)
			if !ok {
				inner = make(map[string]any, len(v))
				dst[k] = inner
			}
			MergeAttributes(inner, v)
		default:
			dst[k] = v
		}
	}
}

// Erasure is what erasing a customer (GDPR) removed: the answer of DELETE
// /customers/{id} and the data of its audit entry. It never names the
// customer: Subject is a keyed hash of the tenant and customer id, so that
// the audit log can prove an erasure to someone who knows the id without
// keeping the id itself.
type Erasure struct {
	Subject string `json:"subject"`
	// Profile is 1 when a profile was removed, 0 when the customer had
	// events or instances but no profile yet.
	Profile int `json:"profile"`
	// Events were deleted. ExitedInstances were active or paused and were
	// exited. Instances and Sends were pseudonymised: they keep their
	// journey, node and status for analytics, under a random customer id,
	// with their data (instance.data, the entry event, step details,
	// send configs and provider details) removed.
	Events          int64 `json:"events"`
	ExitedInstances int   `json:"exited_instances"`
	Instances       int64 `json:"instances"`
	Sends           int64 `json:"sends"`
	// CancelledSends were pending and will never be sent.
	CancelledSends int64     `json:"cancelled_sends"`
	ErasedBy       string    `json:"erased_by"`
	ErasedAt       time.Time `json:"erased_at"`
}
