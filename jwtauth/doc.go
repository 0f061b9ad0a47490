// Package jwtauth verifies the JSON Web Tokens editor users sign in with,
// beside API keys: HS256 against a shared secret, RS256 and ES256 against the
// keys of a JWKS document (fetched, cached and refetched at a bounded rate).
// Each algorithm is pinned to its key source. A verified token names a
// kalcifer.Principal: tenant, role and subject.
//
// It imports only the kalcifer package and golang-jwt; it reads no
// environment (cmd/kalcifer configures it) and no store (the API checks that
// the tenant exists).
package jwtauth
