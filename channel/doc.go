// Package channel is the seam between the engine and message providers
// (email, SMS, push, WhatsApp, webhooks).
//
// The engine records every send in its ledger, keyed by instance, node and
// visit, before any attempt; it then calls a Provider and files the outcome
// with Classify:
//
//   - sent: the provider accepted the message (a nil error).
//   - retry: the provider certainly did not act on the request (connection
//     refused before the request was written, 429, 503...). The engine tries
//     again after the delay the provider asked for, up to a bounded number of
//     attempts. Providers say so with Retry.
//   - failed: the message was certainly not delivered and trying again is
//     pointless (a bad address, a 400). Providers say so with Permanent.
//   - ambiguous: the request may have been acted on (a timeout or a lost
//     connection after the request left). Any error that is not a Retry or
//     Permanent error is ambiguous. The engine repeats an ambiguous send only
//     when the receiver drops repeats of its key (a Deduplicator): a customer
//     must not get the same message twice, so otherwise an unknown outcome is
//     recorded as such and left for a human to look at.
//
// A DryRunner provider (the log provider) records messages instead of
// delivering them: its sends are "logged", never "sent".
//
// Message.Key is the send's idempotency key; providers that accept one must
// pass it on, so that a request repeated by a transport is still acted on once.
//
// A Registry maps a message to its provider: by the node's "provider" config
// or, failing that, by the channel's default.
//
// Providers live in sub-packages, one folder each (webhook, logprovider, and
// the email providers smtp, sendgrid, ses, postmark, the SMS and WhatsApp
// providers twilio, vonage, metawhatsapp). This
// package imports only the standard library; providers import it, it never
// imports them, and only cmd/kalcifer names the concrete providers.
package channel
