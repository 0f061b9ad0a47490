// An instance's trace: its steps and its sends on one timeline, oldest
// first, with the version transitions a migration made called out. Pure
// functions, unit-tested.
import type { components } from "../api/schema";

export type Step = components["schemas"]["Step"];
export type Send = components["schemas"]["Send"];

/** One line of the timeline. */
export type TraceEntry =
  | { kind: "step"; at: string; step: Step }
  | { kind: "send"; at: string; send: Send }
  | { kind: "migration"; at: string; step: Step; fromVersion: number | null; toVersion: number };

/**
 * buildTrace merges steps and sends by time (a send after the step that
 * made it when both have the same time). A step of type "migration" is a
 * version transition: it says which version the instance left, found from
 * the steps before it.
 */
export function buildTrace(steps: Step[], sends: Send[]): TraceEntry[] {
  const out: (TraceEntry & { order: number })[] = [];
  let version: number | null = null;
  steps.forEach((step, i) => {
    if (step.type === "migration") {
      // The step carries the version the instance moved to (or, for an
      // abort's restore, the one it returned to).
      out.push({ kind: "migration", at: step.at, step, fromVersion: version, toVersion: step.version, order: i * 2 });
    } else {
      out.push({ kind: "step", at: step.at, step, order: i * 2 });
    }
    version = step.version;
  });
  sends.forEach((send, i) => out.push({ kind: "send", at: send.created_at, send, order: steps.length * 2 + i }));
  out.sort((a, b) => {
    const t = Date.parse(a.at) - Date.parse(b.at);
    if (t !== 0) return t;
    // Same instant: steps keep their order, and a send follows its step.
    if (a.kind !== "send" && b.kind !== "send") return a.order - b.order;
    return a.kind === "send" ? 1 : -1;
  });
  return out.map(({ order: _order, ...e }) => e as TraceEntry);
}

/** stepTitle says what a step was in a few words. */
export function stepTitle(s: Step): string {
  if (s.type === "migration") {
    switch (s.result) {
      case "migrated":
        return `Moved to version ${s.version}`;
      case "restored":
        return `Returned to version ${s.version}`;
      case "held":
        return "Held for review by a migration";
      case "exited":
        return "Exited by a migration";
    }
    return `Migration: ${s.result}`;
  }
  if (s.type === "control") return `Instance ${s.result}`;
  if (s.type === "exit") return "Exited the journey";
  const node = s.node_id || s.type;
  switch (s.result) {
    case "waiting":
      return `Waiting at ${node}`;
    case "ended":
      return `Ended at ${node}`;
    case "failed":
      return `Failed at ${node}`;
    case "default":
      return `Passed ${node}`;
  }
  return `${node} → ${s.result.replace(/_/g, " ")}`;
}
