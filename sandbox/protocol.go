package sandbox

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// Limits of one run, the same for every tenant.
const (
	// MaxInput bounds a request's JSON: the code, the customer, the event
	// and the instance data.
	MaxInput = 1 << 20
	// MaxOutput bounds the JSON of the table the code returns.
	MaxOutput = 64 << 10
	// MaxPrinted bounds what print may write; the rest is dropped.
	MaxPrinted = 2 << 10
	// DefaultMemory is a worker's address-space limit when Options.Memory
	// is 0.
	DefaultMemory = 512 << 20
)

// Request is one run: code and what it may read.
type Request struct {
	Code    string        `json:"code"`
	Timeout time.Duration `json:"timeout"`
	// Globals are the Lua globals the code sees (customer, event,
	// instance); each must marshal to JSON.
	Globals map[string]any `json:"globals"`
}

// Result is what a run gave back.
type Result struct {
	// Data is the table the code returned, as JSON values; nil when it
	// returned nothing.
	Data map[string]any `json:"data,omitempty"`
	// Printed is what the code passed to print, up to MaxPrinted bytes.
	Printed string `json:"printed,omitempty"`
}

// response is a worker's answer: a result, or why the code failed.
type response struct {
	Result
	Error string `json:"error,omitempty"`
	// Ready answers the start: the worker limited itself and is waiting
	// for code. Error says why it could not.
	Ready bool `json:"ready,omitempty"`
}

// CodeError is a run that failed because of its code: an error it raised,
// its deadline, its memory or its output. Running it again fails again.
// Any other error from Pool.Run is the pool's own (closed, cancelled, a
// worker that would not start).
type CodeError struct{ Reason string }

func (e *CodeError) Error() string { return e.Reason }

// writeFrame writes v as a length-prefixed JSON frame.
func writeFrame(w io.Writer, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(frame(body))
	return err
}

// frame prefixes body with its length.
func frame(body []byte) []byte {
	f := make([]byte, 4+len(body))
	binary.BigEndian.PutUint32(f, uint32(len(body)))
	copy(f[4:], body)
	return f
}

// readFrame reads one frame of at most limit bytes into v.
func readFrame(r io.Reader, limit int, v any) error {
	var size [4]byte
	if _, err := io.ReadFull(r, size[:]); err != nil {
		return err
	}
	n := binary.BigEndian.Uint32(size[:])
	if n > uint32(limit) {
		return fmt.Errorf("frame of %d bytes, at most %d", n, limit)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return err
	}
	return json.Unmarshal(body, v)
}
