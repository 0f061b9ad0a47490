package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
)

// KeySize is the length of an encryption key and of the pepper: 32 bytes.
const KeySize = 32

// Prefix starts every sealed value; "v1" is AES-256-GCM with a 96-bit nonce.
const Prefix = "enc:v1:"

// Key is one AES-256 key and the id sealed values name it by.
type Key struct {
	ID     string
	Secret []byte
}

// validID is what a key id may hold: it sits between colons in sealed
// values and inside SQL LIKE patterns, so no colon, _ or %.
var validID = regexp.MustCompile(`^[A-Za-z0-9.-]{1,40}$`)

// ErrUnknownKey is wrapped by Open's error for a value sealed under a key the
// keyring lacks.
var ErrUnknownKey = errors.New("unknown encryption key")

// Keyring seals values under its active key and opens values sealed under
// any of its keys. It is safe for concurrent use.
type Keyring struct {
	mu     sync.RWMutex
	keys   []Key // the active key first
	aeads  map[string]cipher.AEAD
	pepper []byte
	// source names where the keys came from, for error messages.
	source string
	// reload, when set, reads the keys again: a value sealed under an id the
	// keyring lacks may have been sealed by `kalcifer keys rotate` since.
	reload func() ([]Key, error)
}

// New returns a keyring over keys, the first of them active, with the
// pepper API keys are hashed under. Source names where the keys came from
// (a variable or a file) in error messages.
func New(keys []Key, pepper []byte, source string) (*Keyring, error) {
	if len(pepper) != KeySize {
		return nil, fmt.Errorf("the API key pepper must be %d bytes, not %d", KeySize, len(pepper))
	}
	k := &Keyring{pepper: pepper, source: source}
	if err := k.setKeys(keys); err != nil {
		return nil, err
	}
	return k, nil
}

// Generate returns a keyring with one fresh random key and a fresh pepper,
// kept nowhere: for tests and throwaway stores.
func Generate() *Keyring {
	k, err := New([]Key{NewKey()}, random(KeySize), "a generated keyring")
	if err != nil {
		panic(err)
	}
	return k
}

func (k *Keyring) setKeys(keys []Key) error {
	if len(keys) == 0 {
		return fmt.Errorf("%s holds no encryption key", k.source)
	}
	aeads := make(map[string]cipher.AEAD, len(keys))
	for _, key := range keys {
		if !validID.MatchString(key.ID) {
			return fmt.Errorf("key id %q is invalid: use 1 to 40 letters, digits, dots or dashes", key.ID)
		}
		if len(key.Secret) != KeySize {
			return fmt.Errorf("key %q is %d bytes; an AES-256 key is %d bytes (base64 of 32 random bytes, e.g. `openssl rand -base64 32`)",
				key.ID, len(key.Secret), KeySize)
		}
		if _, dup := aeads[key.ID]; dup {
			return fmt.Errorf("key id %q appears twice", key.ID)
		}
		block, err := aes.NewCipher(key.Secret)
		if err != nil {
			return fmt.Errorf("key %q: %w", key.ID, err)
		}
		if aeads[key.ID], err = cipher.NewGCM(block); err != nil {
			return fmt.Errorf("key %q: %w", key.ID, err)
		}
	}
	k.mu.Lock()
	k.keys, k.aeads = keys, aeads
	k.mu.Unlock()
	return nil
}

// ActiveID is the id of the key new values are sealed under.
func (k *Keyring) ActiveID() string {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.keys[0].ID
}

// IDs lists the ids of every key, the active one first.
func (k *Keyring) IDs() []string {
	k.mu.RLock()
	defer k.mu.RUnlock()
	ids := make([]string, len(k.keys))
	for i, key := range k.keys {
		ids[i] = key.ID
	}
	return ids
}

// Source names where the keys came from.
func (k *Keyring) Source() string { return k.source }

// Seal encrypts plaintext under the active key, bound to ad (which names
// the row and column the value belongs to).
func (k *Keyring) Seal(plaintext, ad []byte) string {
	k.mu.RLock()
	id := k.keys[0].ID
	aead := k.aeads[id]
	k.mu.RUnlock()
	nonce := random(aead.NonceSize())
	sealed := aead.Seal(nonce, nonce, plaintext, associated(id, ad))
	return Prefix + id + ":" + base64.StdEncoding.EncodeToString(sealed)
}

// Open decrypts a value made by Seal with the same ad. A value sealed under
// a key the keyring lacks is an error wrapping ErrUnknownKey that names the
// key id; a changed value, or one moved from another row, fails to open.
func (k *Keyring) Open(sealed string, ad []byte) ([]byte, error) {
	id, body, ok := split(sealed)
	if !ok {
		return nil, errors.New("not a sealed value (want enc:v1:<key id>:<data>)")
	}
	aead, err := k.aead(id)
	if err != nil {
		return nil, err
	}
	raw, err := base64.StdEncoding.DecodeString(body)
	if err != nil || len(raw) < aead.NonceSize()+aead.Overhead() {
		return nil, fmt.Errorf("sealed value under key %q is damaged", id)
	}
	n := aead.NonceSize()
	plain, err := aead.Open(nil, raw[:n], raw[n:], associated(id, ad))
	if err != nil {
		return nil, fmt.Errorf("sealed value under key %q does not open: it was changed, belongs to another row, or the key %q is not the one it was sealed with", id, id)
	}
	return plain, nil
}

// aead returns the cipher of key id, reading the keys again once if the
// keyring can and lacks it.
func (k *Keyring) aead(id string) (cipher.AEAD, error) {
	k.mu.RLock()
	aead, ok := k.aeads[id]
	k.mu.RUnlock()
	if ok {
		return aead, nil
	}
	if k.reload != nil {
		if keys, err := k.reload(); err == nil && k.setKeys(keys) == nil {
			k.mu.RLock()
			aead, ok = k.aeads[id]
			k.mu.RUnlock()
			if ok {
				return aead, nil
			}
		}
	}
	return nil, fmt.Errorf("%w: the value is sealed under key %q, which %s does not hold (it has %s): restore that key",
		ErrUnknownKey, id, k.source, strings.Join(k.IDs(), ", "))
}

// MAC returns HMAC-SHA256 of data under the pepper, in hex: the stored form
// of API keys. The pepper never changes when encryption keys rotate.
func (k *Keyring) MAC(data []byte) string {
	m := hmac.New(sha256.New, k.pepper)
	m.Write(data)
	return hex.EncodeToString(m.Sum(nil))
}

// IsSealed reports whether s is a sealed value (not plaintext).
func IsSealed(s string) bool { return strings.HasPrefix(s, Prefix) }

// KeyID returns the id of the key s was sealed under.
func KeyID(s string) (string, bool) {
	id, _, ok := split(s)
	return id, ok
}

// SealedPrefix is how every value sealed under key id begins.
func SealedPrefix(id string) string { return Prefix + id + ":" }

func split(s string) (id, body string, ok bool) {
	rest, ok := strings.CutPrefix(s, Prefix)
	if !ok {
		return "", "", false
	}
	id, body, ok = strings.Cut(rest, ":")
	return id, body, ok && id != ""
}

// associated binds a sealed value to its key id and its place.
func associated(id string, ad []byte) []byte {
	return append([]byte(Prefix+id+":"), ad...)
}

func random(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("secrets: crypto/rand failed: " + err.Error())
	}
	return b
}
