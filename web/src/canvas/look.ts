// How nodes look: a colour per group, a title and a one-line summary per
// node, computed from its config.
import type { NodeConfig, NodeGroup } from "../api/types";
import { humanize } from "../forms/schema";

/** Tailwind classes per group: the accent stripe, the chip, the palette item. */
export const groupLook: Record<NodeGroup, { accent: string; chip: string; label: string }> = {
  entry: { accent: "bg-emerald-500", chip: "bg-emerald-50 text-emerald-700", label: "Entry" },
  channel: { accent: "bg-sky-500", chip: "bg-sky-50 text-sky-700", label: "Channels" },
  logic: { accent: "bg-amber-500", chip: "bg-amber-50 text-amber-800", label: "Logic" },
  data: { accent: "bg-violet-500", chip: "bg-violet-50 text-violet-700", label: "Data" },
  exit: { accent: "bg-rose-500", chip: "bg-rose-50 text-rose-700", label: "Exit" },
};

/** The order the palette shows the groups in. */
export const groupOrder: NodeGroup[] = ["entry", "channel", "logic", "data", "exit"];

/** typeTitle is a node type's name in words: send_email → Send email. */
export function typeTitle(type: string): string {
  return titles[type] ?? humanize(type);
}

const titles: Record<string, string> = {
  send_whatsapp: "Send WhatsApp",
  ab_split: "A/B split",
  call_webhook: "Call webhook",
};

/** summary is one line saying what a node does, from its config. */
export function summary(type: string, c: NodeConfig): string {
  const s = (k: string) => (typeof c[k] === "string" ? (c[k] as string) : "");
  switch (type) {
    case "event_entry":
      return s("event_type") ? `When ${s("event_type")} happens` : "Choose the event";
    case "segment_entry":
      return s("segment_id") ? `Joins segment ${s("segment_id")}` : "Choose the segment";
    case "webhook_entry":
      return s("description") || "When the journey's webhook is called";
    case "scheduled_entry":
      return s("cron") ? `On schedule ${s("cron")}` : "Choose the schedule";
    case "send_email":
      return s("template_id") ? `Template ${s("template_id")}` : s("subject") || "Choose a template or content";
    case "send_sms":
    case "send_whatsapp":
      return s("template_id") ? `Template ${s("template_id")}` : s("body") || "Choose a template or text";
    case "send_push":
      return s("template_id") ? `Template ${s("template_id")}` : s("title") || "Choose a template or content";
    case "call_webhook":
      return s("url") ? `${s("method") || "POST"} ${s("url")}` : "Set the URL";
    case "wait":
      return s("duration") ? `Wait ${s("duration")}` : "Set the duration";
    case "wait_until":
      return s("until") ? `Until ${s("until")}` : "Set the time";
    case "wait_for_event":
      return s("event_type") ? `${s("event_type")}, up to ${s("timeout") || "?"}` : "Choose the event";
    case "condition":
      return s("expression") || "Write the condition";
    case "ab_split": {
      const v = Array.isArray(c.variants) ? (c.variants as NodeConfig[]) : [];
      return v.length ? v.map((x) => `${String(x.key ?? "?")} ${String(x.weight ?? "?")}`).join(" · ") : "Add variants";
    }
    case "frequency_cap":
      return c.max ? `At most ${String(c.max)} ${s("channel") || "messages"} per ${s("window") || "?"}` : "Set the cap";
    case "update_profile": {
      const keys = typeof c.set === "object" && c.set ? Object.keys(c.set) : [];
      return keys.length ? `Set ${keys.join(", ")}` : "Choose attributes";
    }
    case "add_tag":
      return s("tag") ? `Add tag ${s("tag")}` : "Choose the tag";
    case "remove_tag":
      return s("tag") ? `Remove tag ${s("tag")}` : "Choose the tag";
    case "custom_code":
      return "Lua code";
    case "goal_reached":
      return s("goal_name") ? `Goal ${s("goal_name")}` : "Name the goal";
    case "journey_exit":
      return s("reason") || "End of the journey";
  }
  return "";
}
