import { describe, expect, it } from "vitest";
import { countByNode, versionBreakdown } from "./counts";
import { buildTrace, stepTitle, type Send, type Step } from "./trace";

describe("countByNode", () => {
  it("counts an instance once per node its paths are at", () => {
    const counts = countByNode([{ nodes: ["wait"] }, { nodes: ["wait"] }, { nodes: ["a", "b"] }, { nodes: ["a", "a"] }, { nodes: [] }]);
    expect(Object.fromEntries(counts)).toEqual({ wait: 2, a: 2, b: 1 });
  });
});

describe("versionBreakdown", () => {
  it("sorts versions newest first and ignores keys that are not versions", () => {
    expect(versionBreakdown({ v1: 3, v10: 1, v2: 5, other: 9 })).toEqual([
      { version: 10, customers: 1 }, { version: 2, customers: 5 }, { version: 1, customers: 3 },
    ]);
  });
});

const step = (seq: number, at: string, over: Partial<Step>): Step =>
  ({ seq, version: 1, path_id: 1, node_id: "", type: "wait", visit: 1, result: "waiting", at, ...over });

describe("buildTrace", () => {
  const steps: Step[] = [
    step(1, "2026-01-01T10:00:00Z", { node_id: "entry", type: "event_entry", result: "default" }),
    step(2, "2026-01-01T10:00:00Z", { node_id: "mail", type: "send_email", result: "default" }),
    step(3, "2026-01-01T10:00:00Z", { node_id: "wait", type: "wait", result: "waiting" }),
    step(4, "2026-01-02T09:00:00Z", { version: 2, type: "migration", result: "migrated", detail: "migrated from version 1 to 2" }),
    step(5, "2026-01-03T09:00:00Z", { version: 2, node_id: "wait", type: "wait", result: "default" }),
  ];
  const sends = [{ key: "k", node_id: "mail", created_at: "2026-01-01T10:00:00Z", status: "sent" } as Send];

  it("merges sends after the step of the same instant and keeps steps in order", () => {
    const kinds = buildTrace(steps, sends).map((e) => (e.kind === "send" ? "send" : `${e.kind}:${e.step.seq}`));
    expect(kinds).toEqual(["step:1", "step:2", "step:3", "send", "migration:4", "step:5"]);
  });

  it("calls out a migration with the versions it moved between", () => {
    const m = buildTrace(steps, []).find((e) => e.kind === "migration");
    expect(m).toMatchObject({ fromVersion: 1, toVersion: 2 });
    expect(stepTitle(steps[3]!)).toBe("Moved to version 2");
  });

  it("titles steps in words", () => {
    expect(stepTitle(steps[2]!)).toBe("Waiting at wait");
    expect(stepTitle(step(9, "", { node_id: "cond", type: "condition", result: "true" }))).toBe("cond → true");
    expect(stepTitle(step(9, "", { type: "control", result: "paused" }))).toBe("Instance paused");
  });
});

describe("overlapping", () => {
  it("tells nodes placed on top of one another", async () => {
    const { overlapping } = await import("../canvas/GraphView");
    expect(overlapping([{ position: { x: 0, y: 0 } }, { position: { x: 0, y: 200 } }])).toBe(false);
    expect(overlapping([{ position: { x: 128, y: 616 } }, { position: { x: 128, y: 700 } }])).toBe(false);
    expect(overlapping([{ position: { x: 128, y: 616 } }, { position: { x: 140, y: 660 } }])).toBe(true);
    expect(overlapping([{ position: { x: 128, y: 700 } }, { position: { x: 272, y: 764 } }])).toBe(true);
  });
});
