import { describe, expect, it } from "vitest";
import type { Graph } from "../api/types";
import { diffGraphs, sameJSON } from "./diff";

const current: Graph = {
  nodes: [
    { id: "entry", type: "event_entry", config: { event_type: "signed_up" } },
    { id: "wait", type: "wait", config: { duration: "3d" } },
    { id: "sms", type: "send_sms", config: { body: "hi" } },
  ],
  edges: [
    { id: "e1", source: "entry", target: "wait" },
    { id: "e2", source: "wait", target: "sms" },
  ],
};

describe("diffGraphs", () => {
  it("marks added, changed, removed and unchanged nodes", () => {
    const proposed: Graph = {
      nodes: [
        { id: "entry", type: "event_entry", config: { event_type: "signed_up" } },
        { id: "wait", type: "wait", label: "Wait", config: { duration: "2d" } },
        { id: "email", type: "send_email", config: { subject: "s", html: "h" } },
      ],
      edges: [
        { id: "x1", source: "entry", target: "wait" },
        { id: "x2", source: "wait", target: "email" },
      ],
    };
    const d = diffGraphs(current, proposed);
    expect(d.nodes.map((n) => [n.node.id, n.change])).toEqual([
      ["entry", "same"], ["wait", "changed"], ["email", "added"], ["sms", "removed"],
    ]);
    expect(d.nodes[1]!.fields).toEqual(["label", "config.duration"]);
    expect(d.counts).toEqual({ added: 1, changed: 1, removed: 1 });
    // A renumbered edge is the same edge; the rest are added or removed.
    expect(d.edges.map((e) => [e.edge.source, e.edge.target, e.change])).toEqual([
      ["entry", "wait", "same"], ["wait", "email", "added"], ["wait", "sms", "removed"],
    ]);
  });

  it("treats an edge's branch as part of it (absent is default)", () => {
    const a: Graph = { nodes: current.nodes, edges: [{ id: "e", source: "wait", target: "sms", branch: "default" }] };
    const b: Graph = { nodes: current.nodes, edges: [{ id: "e", source: "wait", target: "sms" }] };
    const c: Graph = { nodes: current.nodes, edges: [{ id: "e", source: "wait", target: "sms", branch: "timed_out" }] };
    expect(diffGraphs(a, b).edges.map((e) => e.change)).toEqual(["same"]);
    expect(diffGraphs(a, c).edges.map((e) => e.change)).toEqual(["added", "removed"]);
  });

  it("makes everything added when there is no current graph", () => {
    const d = diffGraphs(null, current);
    expect(d.counts).toEqual({ added: 3, changed: 0, removed: 0 });
  });

  it("sees a changed type", () => {
    const p: Graph = { nodes: [{ ...current.nodes[2]!, type: "send_whatsapp" }], edges: [] };
    const d = diffGraphs({ nodes: [current.nodes[2]!], edges: [] }, p);
    expect(d.nodes[0]!.fields).toEqual(["type"]);
  });
});

describe("sameJSON", () => {
  it("ignores key order and compares deeply", () => {
    expect(sameJSON({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 })).toBe(true);
    expect(sameJSON({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    expect(sameJSON([1, 2], [2, 1])).toBe(false);
    expect(sameJSON({}, [])).toBe(false);
    expect(sameJSON(null, {})).toBe(false);
  });
});
