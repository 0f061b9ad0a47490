package kalcifer

import (
	"crypto/rand"
	"encoding/binary"
	"strings"
	"sync"
	"time"
)

// crockford is Crockford's base32 alphabet, lower-cased: no i, l, o, u.
const crockford = "0123456789abcdefghjkmnpqrstvwxyz"

var idState struct {
	sync.Mutex
	ms   uint64 // millisecond of the last ID
	rand [10]byte
}

// NewID returns a new identifier "<prefix>_<26 chars>": 48 bits of
// milliseconds since the epoch then 80 random bits, in base32. Within one
// process IDs strictly increase (the random part counts up inside a
// millisecond), so lists can page by ID and newest-first is ID order.
func NewID(prefix string) string {
	var b [16]byte
	idState.Lock()
	ms := uint64(time.Now().UnixMilli())
	if ms > idState.ms {
		idState.ms = ms
		if _, err := rand.Read(idState.rand[:]); err != nil {
			panic("kalcifer: crypto/rand failed: " + err.Error())
		}
		idState.rand[0] &= 0x7f // leave room to count up without overflow
	} else {
		for i := len(idState.rand) - 1; i >= 0; i-- { // +1, big-endian
			idState.rand[i]++
			if idState.rand[i] != 0 {
				break
			}
		}
	}
	binary.BigEndian.PutUint64(b[:8], idState.ms<<16)
	copy(b[6:], idState.rand[:])
	idState.Unlock()

	var sb strings.Builder
	sb.Grow(len(prefix) + 27)
	sb.WriteString(prefix)
	sb.WriteByte('_')
	// 128 bits as 26 base32 digits, most significant first.
	hi, lo := binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
	for i := 25; i >= 0; i-- {
		shift := uint(i * 5)
		var v uint64
		switch {
		case shift >= 64:
			v = hi >> (shift - 64)
		case shift == 0:
			v = lo
		default:
			v = lo>>shift | hi<<(64-shift)
		}
		sb.WriteByte(crockford[v&31])
	}
	return sb.String()
}
