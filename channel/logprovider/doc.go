// Package logprovider is the "log" provider: a dry run. It writes each
// message to a slog.Logger instead of delivering it. It is the default for
// email, SMS, push and WhatsApp until a real provider is configured, and
// handy on a first run.
//
// It is a channel.DryRunner, so the engine records its sends as "logged",
// never "sent", and activating a journey whose messages it would take
// answers a warning. Logging cannot fail, so it never returns the retry,
// failed or ambiguous outcomes of package channel.
//
// It imports the standard library and channel.
package logprovider
