import { describe, expect, it } from "vitest";
import type { Graph } from "../api/types";
import { confidenceLevel, isEdited, mappingRows, overrides, setTarget, stranded, targetOptions, type PublishPlan } from "./mapping";

const oldGraph: Graph = {
  nodes: [
    { id: "entry", type: "event_entry" },
    { id: "wait", type: "wait" },
    { id: "sms", type: "send_sms" },
  ],
  edges: [],
};
const newGraph: Graph = {
  nodes: [
    { id: "entry", type: "event_entry" },
    { id: "mail", type: "send_email" },
    { id: "wait", type: "wait" },
    { id: "wait_2", type: "wait" },
  ],
  edges: [],
};
// A dry-run publish's answer.
const plan: PublishPlan = {
  node_mapping: { entry: "entry", wait: "wait" },
  confidence: { entry: 1, wait: 0.9 },
  unmapped: ["sms"],
  populated: { wait: 7, sms: 2 },
};

describe("mapping rows", () => {
  it("has one row per old node with the proposal, its confidence and the customers there", () => {
    expect(mappingRows(plan, oldGraph)).toEqual([
      { from: "entry", fromType: "event_entry", to: "entry", proposed: "entry", confidence: 1, customers: 0 },
      { from: "wait", fromType: "wait", to: "wait", proposed: "wait", confidence: 0.9, customers: 7 },
      { from: "sms", fromType: "send_sms", to: "", proposed: "", customers: 2 },
    ]);
  });

  it("sends only the rows a person changed, an unmapped one as an empty string", () => {
    let rows = mappingRows(plan, oldGraph);
    expect(overrides(rows)).toEqual({});
    rows = setTarget(rows, "sms", "mail");
    rows = setTarget(rows, "wait", "");
    expect(rows.filter(isEdited).map((r) => r.from)).toEqual(["wait", "sms"]);
    expect(overrides(rows)).toEqual({ wait: "", sms: "mail" });
    // Putting a row back to the proposal drops it from the overrides.
    expect(overrides(setTarget(rows, "wait", "wait"))).toEqual({ sms: "mail" });
  });

  it("counts the customers the removed-node policy decides for", () => {
    const rows = mappingRows(plan, oldGraph);
    expect(stranded(rows)).toBe(2);
    expect(stranded(setTarget(rows, "sms", "mail"))).toBe(0);
    expect(stranded(setTarget(rows, "wait", ""))).toBe(9);
  });

  it("offers the new nodes of the same type first", () => {
    const [, wait] = mappingRows(plan, oldGraph);
    expect(targetOptions(wait!, newGraph).map((n) => n.id)).toEqual(["wait", "wait_2", "entry", "mail"]);
  });

  it("names confidence levels", () => {
    expect([1, 0.9, 0.6, undefined].map(confidenceLevel)).toEqual(["exact", "likely", "guess", "none"]);
  });
});
