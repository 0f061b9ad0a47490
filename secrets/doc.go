// Package secrets seals stored credentials with envelope encryption and
// holds the pepper API keys are hashed under.
//
// A Keyring holds one active AES-256 key and any older ones: values are
// sealed under the active key and opened under whichever key sealed them,
// named by the key id every sealed value carries. A sealed value is text,
//
//	enc:v1:<key id>:<base64 of the 96-bit nonce and the AES-256-GCM ciphertext>
//
// and is bound by associated data to the row and column it belongs to, so a
// value copied into another row does not open. Keys come from
// KALCIFER_ENCRYPTION_KEY (ParseKeys) or from a key file in the data
// directory (OpenFile, RotateFile); the pepper never changes when the keys
// rotate.
//
// The package imports only the standard library.
package secrets
