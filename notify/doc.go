// Package notify tells other systems what journeys do: outgoing webhooks
// and alerts (seed §3.3, FR-10.5).
//
// Events are written to an outbox (store hook_deliveries) in the same
// transaction as what caused them: the engine's writes, through the
// Observer registered on the store; a migration's change of status, by the
// store itself; an alert's firing or resolution, by the Alerts loop. The
// Deliverer then posts each delivery, signed as call_webhook nodes are
// (channel/webhook.Sign), retrying with backoff, and records the outcome in
// the subscription's delivery log.
//
// It imports kalcifer, store, channel/webhook (the signature scheme) and
// the standard library; cmd/kalcifer wires it.
package notify
