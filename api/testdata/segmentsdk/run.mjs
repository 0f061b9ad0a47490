// Drives the real @segment/analytics-node against a running Kalcifer, as
// a customer's server would: KALCIFER_HOST is its address, WRITE_KEY a
// Kalcifer API key. Run by api/segment_sdk_test.go, which checks what was
// stored. Prints one JSON line: the HTTP statuses the SDK saw, in order.
import { Analytics } from '@segment/analytics-node'

const analytics = new Analytics({
  writeKey: process.env.WRITE_KEY,
  host: process.env.KALCIFER_HOST,
  flushAt: 10, // 30 calls: several batches
  flushInterval: 100,
  maxRetries: 3,
})

const statuses = []
const failures = []
analytics.on('http_response', (r) => statuses.push(r.status))
analytics.on('error', (err) => failures.push(String(err?.reason ?? err?.message ?? err)))

analytics.identify({ userId: 'sdk-user', traits: { email: 'sdk@example.com', plan: 'pro' } })
analytics.track({ userId: 'sdk-user', event: 'Order Completed', properties: { total: 42, currency: 'EUR' } })
analytics.page({ anonymousId: 'sdk-anon', name: 'Pricing', properties: { path: '/pricing' } })
for (let i = 0; i < 25; i++) {
  analytics.track({ userId: `bulk-${i % 5}`, event: 'Bulk Event', properties: { i } })
}
analytics.screen({ userId: 'sdk-user', name: 'Settings' })
analytics.group({ userId: 'sdk-user', groupId: 'acme-inc', traits: { name: 'Acme' } })
await analytics.closeAndFlush({ timeout: 30000 })

// The alias after everything else has been stored.
const second = new Analytics({ writeKey: process.env.WRITE_KEY, host: process.env.KALCIFER_HOST, maxRetries: 3 })
second.on('http_response', (r) => statuses.push(r.status))
second.on('error', (err) => failures.push(String(err?.reason ?? err?.message ?? err)))
second.alias({ previousId: 'sdk-anon', userId: 'sdk-user' })
second.track({ anonymousId: 'sdk-anon', event: 'After Alias' })
await second.closeAndFlush({ timeout: 30000 })

console.log(JSON.stringify({ statuses, failures }))
