package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/kalcifer/kalcifer/secrets"
)

// keyFile is where the keys live when KALCIFER_ENCRYPTION_KEY is not set.
func keyFile(c Config) string { return filepath.Join(c.DataDir, "encryption.key") }

// openKeyring returns the configured keys: KALCIFER_ENCRYPTION_KEY, or the
// key file in the data directory, made on first start.
func openKeyring(c Config, logger *slog.Logger) (*secrets.Keyring, error) {
	if c.EncryptionKeys != nil {
		k, err := secrets.New(c.EncryptionKeys, c.APIKeyPepper, "KALCIFER_ENCRYPTION_KEY")
		if err != nil {
			return nil, fmt.Errorf("KALCIFER_ENCRYPTION_KEY: %w", err)
		}
		logger.Info("stored secrets sealed with keys from KALCIFER_ENCRYPTION_KEY", "active_key", k.ActiveID(), "keys", len(c.EncryptionKeys))
		return k, nil
	}
	path := keyFile(c)
	k, created, err := secrets.OpenFile(path, c.APIKeyPepper)
	if err != nil {
		return nil, err
	}
	if created {
		logger.Info("made a new key file for stored secrets and API keys: back it up, without it they are lost", "key_file", path, "active_key", k.ActiveID())
	} else {
		logger.Info("stored secrets sealed with keys from the key file", "key_file", path, "active_key", k.ActiveID())
	}
	if c.DatabaseURL != "" {
		logger.Warn("the key file is this server's own, but replicas sharing a PostgreSQL database must share their keys: set KALCIFER_ENCRYPTION_KEY and KALCIFER_API_KEY_PEPPER (the key file's values) on every replica",
			"key_file", path)
	}
	return k, nil
}

// keys runs "kalcifer keys rotate".
func keys(args []string, env func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "rotate" {
		return usageError{errors.New("usage: kalcifer keys rotate [--batch N]")}
	}
	flags := flag.NewFlagSet("keys rotate", flag.ContinueOnError)
	flags.SetOutput(stderr)
	batch := flags.Int("batch", 100, "secrets re-sealed per transaction")
	if err := flags.Parse(args[1:]); err != nil {
		return usageError{err}
	}
	if flags.NArg() > 0 || *batch < 1 {
		return usageError{errors.New("usage: kalcifer keys rotate [--batch N], N at least 1")}
	}
	c, err := LoadConfig(env, nil)
	if err != nil {
		return usageError{err}
	}
	if c.EncryptionKeys == nil {
		id, err := secrets.RotateFile(keyFile(c))
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("no key file at %s: set KALCIFER_DATA_DIR to the server's data directory, or KALCIFER_ENCRYPTION_KEY", keyFile(c))
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "new key %s is now active in %s; the older keys are kept\n", id, keyFile(c))
	}
	st, err := openFor(env, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	ctx := context.Background()
	ring := st.Keyring()
	fmt.Fprintf(stdout, "re-sealing stored secrets under key %s (%s)\n", ring.ActiveID(), ring.Source())
	n, err := st.Reseal(ctx, *batch, func(column string, done int) {
		fmt.Fprintf(stdout, "  %s: %d re-sealed so far\n", column, done)
	})
	if err != nil {
		return fmt.Errorf("%w (safe to run again)", err)
	}
	fmt.Fprintf(stdout, "%d secrets re-sealed under key %s\n", n, ring.ActiveID())
	usage, err := st.KeyUsage(ctx)
	if err != nil {
		return err
	}
	var unused, used []string
	for _, id := range ring.IDs()[1:] {
		if usage[id] == 0 {
			unused = append(unused, id)
		} else {
			used = append(used, fmt.Sprintf("%s (%d)", id, usage[id]))
		}
	}
	if len(used) > 0 {
		fmt.Fprintf(stdout, "older keys still in use (written meanwhile by a server with the old keys? run rotate again): %s\n", strings.Join(used, ", "))
	}
	if len(unused) > 0 {
		fmt.Fprintf(stdout, "no longer used: %s; remove them once every server runs with the new key and no backup you may restore needs them\n",
			strings.Join(unused, ", "))
	}
	return nil
}
