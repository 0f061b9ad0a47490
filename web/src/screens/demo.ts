// The seed's US-1 journey, offered to an empty tenant: on signed_up send a
// welcome email, wait up to 3 days for email_opened; opened → wait 7 days →
// upsell email; not opened → SMS reminder. Inline content, so it runs
// before any template exists.
import type { Graph } from "../api/types";

export const demoJourney: { name: string; description: string; graph: Graph } = {
  name: "Welcome journey (demo)",
  description: "send welcome email, wait 3 days, if not opened send SMS reminder, if opened send upsell after 1 week",
  graph: {
    nodes: [
      { id: "signed_up", type: "event_entry", label: "Customer signs up", position: { x: 172, y: 24 },
        config: { event_type: "signed_up" } },
      { id: "welcome_email", type: "send_email", label: "Welcome email", position: { x: 172, y: 172 },
        config: { subject: "Welcome aboard, {{ customer.first_name | default: 'friend' }}!",
          html: "<p>Thanks for signing up. Here is how to get started…</p>" } },
      { id: "wait_for_open", type: "wait_for_event", label: "Opened within 3 days?", position: { x: 172, y: 320 },
        config: { event_type: "email_opened", timeout: "3d" } },
      { id: "wait_a_week", type: "wait", label: "Wait 1 week", position: { x: 24, y: 468 },
        config: { duration: "7d" } },
      { id: "upsell_email", type: "send_email", label: "Upsell email", position: { x: 24, y: 616 },
        config: { subject: "Ready for more?", html: "<p>Upgrade to Pro and get…</p>" } },
      { id: "sms_reminder", type: "send_sms", label: "SMS reminder", position: { x: 320, y: 468 },
        config: { body: "Your welcome email is waiting for you." } },
      { id: "done", type: "journey_exit", label: "Done", position: { x: 172, y: 764 },
        config: { reason: "welcome journey finished" } },
    ],
    edges: [
      { id: "e1", source: "signed_up", target: "welcome_email" },
      { id: "e2", source: "welcome_email", target: "wait_for_open" },
      { id: "e3", source: "wait_for_open", target: "wait_a_week", branch: "event_received" },
      { id: "e4", source: "wait_a_week", target: "upsell_email" },
      { id: "e5", source: "upsell_email", target: "done" },
      { id: "e6", source: "wait_for_open", target: "sms_reminder", branch: "timed_out" },
      { id: "e7", source: "sms_reminder", target: "done" },
    ],
  },
};
