import { describe, expect, it } from "vitest";
import type { Graph } from "../api/types";
import { countMarks, describeField, edgeKey, isEmptyDiff, markDiff, type GraphDiff } from "./diff";

const v1: Graph = {
  nodes: [
    { id: "entry", type: "event_entry", config: { event_type: "signed_up" } },
    { id: "wait", type: "wait", config: { duration: "3d" } },
    { id: "sms", type: "send_sms", config: { body: "hi" } },
    { id: "done", type: "journey_exit" },
  ],
  edges: [
    { id: "e1", source: "entry", target: "wait" },
    { id: "e2", source: "wait", target: "sms" },
    { id: "e3", source: "sms", target: "done" },
  ],
};
const v2: Graph = {
  nodes: [
    { id: "entry", type: "event_entry", config: { event_type: "signed_up" } },
    { id: "wait", type: "wait", config: { duration: "1d" } },
    { id: "mail", type: "send_email", config: { subject: "hi" } },
    { id: "done", type: "journey_exit" },
  ],
  edges: [
    { id: "e1", source: "entry", target: "wait" },
    { id: "e2b", source: "wait", target: "mail" },
    { id: "e3b", source: "mail", target: "done" },
  ],
};
// What GET /diff answers for v1 → v2 (graph.Compare).
const diff: GraphDiff = {
  added_nodes: [v2.nodes[2]!],
  removed_nodes: [v1.nodes[2]!],
  changed_nodes: [{ id: "wait", type: "wait", fields: [{ field: "config.duration", old: "3d", new: "1d" }] }],
  changed_edges: [
    { change: "removed", id: "e2", source: "wait", target: "sms" },
    { change: "removed", id: "e3", source: "sms", target: "done" },
    { change: "added", id: "e2b", source: "wait", target: "mail" },
    { change: "added", id: "e3b", source: "mail", target: "done" },
  ],
};

describe("markDiff", () => {
  it("marks every node of both versions once", () => {
    const g = markDiff(v1, v2, diff);
    const marks = Object.fromEntries(g.nodes.map((n) => [n.id, n.mark]));
    expect(marks).toEqual({ entry: "unchanged", wait: "changed", mail: "added", sms: "removed", done: "unchanged" });
    expect(g.nodes.find((n) => n.id === "wait")!.fields).toEqual([{ field: "config.duration", old: "3d", new: "1d" }]);
    expect(countMarks(g)).toEqual({ added: 1, removed: 1, changed: 1, unchanged: 2 });
  });

  it("keeps removed edges beside the new ones, under ids of their own", () => {
    const g = markDiff(v1, v2, diff);
    const marks = g.edges.map((e) => `${e.id}:${e.mark}`);
    expect(marks).toEqual(["e1:unchanged", "e2b:added", "e3b:added", "removed:e2:removed", "removed:e3:removed"]);
    expect(new Set(g.edges.map((e) => e.id)).size).toBe(g.edges.length);
  });

  it("matches edges by source, target and branch, the default branch by any spelling", () => {
    expect(edgeKey({ source: "a", target: "b" })).toBe(edgeKey({ source: "a", target: "b", branch: "default" }));
    expect(edgeKey({ source: "a", target: "b", branch: "true" })).not.toBe(edgeKey({ source: "a", target: "b" }));
  });

  it("marks nothing for the same graph", () => {
    const same = { added_nodes: [], removed_nodes: [], changed_nodes: [], changed_edges: [] };
    expect(isEmptyDiff(same)).toBe(true);
    expect(countMarks(markDiff(v1, v1, same))).toEqual({ added: 0, removed: 0, changed: 0, unchanged: 4 });
    expect(isEmptyDiff(diff)).toBe(false);
  });
});

describe("describeField", () => {
  it("shows old and new values in one line", () => {
    expect(describeField({ field: "config.duration", old: "3d", new: "1d" })).toBe("config.duration: “3d” → “1d”");
    expect(describeField({ field: "label", old: null, new: "Welcome" })).toBe("label: — → “Welcome”");
    expect(describeField({ field: "config.max", old: 2, new: 3 })).toBe("config.max: 2 → 3");
  });
});
