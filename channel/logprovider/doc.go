// Package logprovider is the "log" provider: it writes each message to a
// slog.Logger instead of delivering it. It is the default for email, SMS,
// push and WhatsApp until real providers exist, and handy in development.
//
// Logging cannot fail, so every send is sent; it never returns the retry,
// failed or ambiguous outcomes of package channel (an ambiguous send is one
// the engine never repeats).
//
// It imports the standard library and channel.
package logprovider
