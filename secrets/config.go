package secrets

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ParseKeys reads keys written as KALCIFER_ENCRYPTION_KEY holds them:
// comma-separated entries "id:base64", the active key first, each the
// standard base64 of 32 bytes. A single key may leave out its id; its id is
// then "fp-" and the first 8 hex digits of its SHA-256 fingerprint, so that
// a different bare key never passes for it.
func ParseKeys(s string) ([]Key, error) {
	var keys []Key
	for i, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		id, b64, named := strings.Cut(entry, ":")
		if !named {
			id, b64 = "", entry
		}
		secret, err := decodeKey(b64)
		if err != nil {
			return nil, fmt.Errorf("key %d: %w", i+1, err)
		}
		if !named {
			if strings.Contains(s, ",") {
				return nil, fmt.Errorf("key %d has no id: with several keys write each as id:base64", i+1)
			}
			fp := sha256.Sum256(append([]byte("kalcifer key id\x00"), secret...))
			id = "fp-" + hex.EncodeToString(fp[:4])
		}
		keys = append(keys, Key{ID: id, Secret: secret})
	}
	// New checks ids and duplicates.
	if _, err := New(keys, make([]byte, KeySize), ""); err != nil {
		return nil, err
	}
	return keys, nil
}

// ParsePepper reads a pepper: the standard base64 of 32 bytes.
func ParsePepper(s string) ([]byte, error) { return decodeKey(s) }

func decodeKey(b64 string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil {
		return nil, errors.New("not valid base64 (make one with `openssl rand -base64 32`)")
	}
	if len(b) != KeySize {
		return nil, fmt.Errorf("%d bytes; it must be the base64 of exactly %d random bytes (`openssl rand -base64 32`)", len(b), KeySize)
	}
	return b, nil
}

// NewKey returns a fresh random key with an id that tells when it was made:
// "k" + the date + 4 random hex digits, e.g. k20261103-3fa9.
func NewKey() Key {
	return Key{ID: "k" + time.Now().UTC().Format("20060102") + "-" + hex.EncodeToString(random(2)), Secret: random(KeySize)}
}

// keyFile is the key file's JSON: the pepper and the keys, the active key
// first. Keys are appended by rotation and never removed by Kalcifer.
type keyFile struct {
	Pepper string        `json:"pepper"`
	Keys   []keyFileItem `json:"keys"`
}

type keyFileItem struct {
	ID      string    `json:"id"`
	Key     string    `json:"key"`
	Created time.Time `json:"created"`
}

// OpenFile returns the keyring kept in the key file at path, making the
// file (mode 0600, with a fresh key and pepper) when it does not exist;
// created says it did not. A non-nil pepper replaces the file's. The
// keyring reads the file again when it meets a key id it lacks, so a server
// keeps opening values that `kalcifer keys rotate` sealed while it ran.
func OpenFile(path string, pepper []byte) (k *Keyring, created bool, err error) {
	f, err := readKeyFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		created, err = createKeyFile(path)
		if err != nil {
			return nil, false, err
		}
		f, err = readKeyFile(path)
	}
	if err != nil {
		return nil, false, err
	}
	keys, filePepper, err := f.decode(path)
	if err != nil {
		return nil, false, err
	}
	if pepper == nil {
		pepper = filePepper
	}
	k, err = New(keys, pepper, "the key file "+path)
	if err != nil {
		return nil, false, fmt.Errorf("key file %s: %w", path, err)
	}
	k.reload = func() ([]Key, error) {
		f, err := readKeyFile(path)
		if err != nil {
			return nil, err
		}
		keys, _, err := f.decode(path)
		return keys, err
	}
	return k, created, nil
}

// RotateFile puts a fresh key first in the key file at path, keeping the
// others, and returns its id. The file is replaced atomically.
func RotateFile(path string) (string, error) {
	f, err := readKeyFile(path)
	if err != nil {
		return "", err
	}
	if _, _, err := f.decode(path); err != nil {
		return "", err
	}
	key := NewKey()
	item := keyFileItem{ID: key.ID, Key: base64.StdEncoding.EncodeToString(key.Secret), Created: time.Now().UTC()}
	for _, old := range f.Keys {
		if old.ID == key.ID {
			return "", fmt.Errorf("key file %s: a key %q exists already; try again", path, key.ID)
		}
	}
	f.Keys = append([]keyFileItem{item}, f.Keys...)
	if err := writeKeyFile(path, f, true); err != nil {
		return "", err
	}
	return key.ID, nil
}

func readKeyFile(path string) (keyFile, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return keyFile{}, err
	}
	var f keyFile
	if err := json.Unmarshal(raw, &f); err != nil {
		return keyFile{}, fmt.Errorf("key file %s is not valid JSON: %w", path, err)
	}
	return f, nil
}

func (f keyFile) decode(path string) ([]Key, []byte, error) {
	pepper, err := decodeKey(f.Pepper)
	if err != nil {
		return nil, nil, fmt.Errorf("key file %s: pepper: %w", path, err)
	}
	keys := make([]Key, 0, len(f.Keys))
	for _, item := range f.Keys {
		secret, err := decodeKey(item.Key)
		if err != nil {
			return nil, nil, fmt.Errorf("key file %s: key %q: %w", path, item.ID, err)
		}
		keys = append(keys, Key{ID: item.ID, Secret: secret})
	}
	if len(keys) == 0 {
		return nil, nil, fmt.Errorf("key file %s holds no key", path)
	}
	return keys, pepper, nil
}

// createKeyFile writes a new key file unless one appeared meanwhile (another
// process starting at the same moment): created tells whether this call
// made it.
func createKeyFile(path string) (bool, error) {
	key := NewKey()
	f := keyFile{
		Pepper: base64.StdEncoding.EncodeToString(random(KeySize)),
		Keys:   []keyFileItem{{ID: key.ID, Key: base64.StdEncoding.EncodeToString(key.Secret), Created: time.Now().UTC()}},
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return false, fmt.Errorf("make the key file's directory: %w", err)
	}
	err := writeKeyFile(path, f, false)
	if errors.Is(err, fs.ErrExist) {
		return false, nil
	}
	return err == nil, err
}

// writeKeyFile writes f to a temporary file beside path, syncs it, then
// renames it over path (replace) or links it to path, failing with
// fs.ErrExist when path exists (create).
func writeKeyFile(path string, f keyFile, replace bool) error {
	raw, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".encryption-key-*")
	if err != nil {
		return fmt.Errorf("write key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("write key file: %w", err)
	}
	if _, err := tmp.Write(append(raw, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write key file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write key file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write key file: %w", err)
	}
	if replace {
		err = os.Rename(tmp.Name(), path)
	} else {
		err = os.Link(tmp.Name(), path)
	}
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return err
		}
		return fmt.Errorf("write key file %s: %w", path, err)
	}
	if dir, err := os.Open(filepath.Dir(path)); err == nil {
		dir.Sync()
		dir.Close()
	}
	return nil
}
