import { describe, expect, test } from "vitest";
import { demoJourney } from "../screens/demo";
import { compact, edgeToFlow, flowToGraph, graphToFlow, newEdgeId, newNodeId } from "./convert";

describe("graph ⇄ flow", () => {
  test("a graph survives the round trip through the canvas", () => {
    const { nodes, edges } = graphToFlow(demoJourney.graph);
    expect(nodes).toHaveLength(7);
    expect(edges).toHaveLength(7);
    expect(flowToGraph(nodes, edges)).toEqual(demoJourney.graph);
  });

  test("an edge's branch is its source handle; default is left out again", () => {
    const branched = edgeToFlow({ id: "e", source: "w", target: "s", branch: "timed_out" });
    expect(branched.sourceHandle).toBe("timed_out");
    expect(branched.label).toBe("timed out");
    const plain = edgeToFlow({ id: "e", source: "a", target: "b" });
    expect(plain.sourceHandle).toBe("default");
    expect(plain.label).toBeUndefined();
    const g = flowToGraph([], [branched, plain]);
    expect(g.edges).toEqual([
      { id: "e", source: "w", target: "s", branch: "timed_out" },
      { id: "e", source: "a", target: "b" },
    ]);
  });

  test("positions are rounded, empty config values and empty configs dropped, labels kept", () => {
    const g = flowToGraph([
      { id: "w", type: "journey", position: { x: 10.6, y: -3.2 }, data: { type: "wait", label: "Pause", config: { duration: "3d", note: "", x: undefined } } },
      { id: "x", type: "journey", position: { x: 0, y: 0 }, data: { type: "journey_exit", config: { reason: "" } } },
    ], []);
    expect(g.nodes).toEqual([
      { id: "w", type: "wait", label: "Pause", position: { x: 11, y: -3 }, config: { duration: "3d" } },
      { id: "x", type: "journey_exit", position: { x: 0, y: 0 } },
    ]);
  });

  test("what the canvas does not edit is carried over", () => {
    const g = flowToGraph([], [], { exit_criteria: { event_type: "unsubscribed" } });
    expect(g.exit_criteria).toEqual({ event_type: "unsubscribed" });
  });

  test("an empty or missing graph is an empty canvas", () => {
    expect(graphToFlow(null)).toEqual({ nodes: [], edges: [] });
    expect(graphToFlow({ nodes: [], edges: [] })).toEqual({ nodes: [], edges: [] });
  });

  test("new ids do not collide", () => {
    expect(newNodeId("wait", [{ id: "wait_1" }, { id: "wait_2" }])).toBe("wait_3");
    expect(newEdgeId("a", "default", "b", [{ id: "e_a_b" }])).toBe("e_a_b_2");
    expect(newEdgeId("a", "true", "b", [])).toBe("e_a_true_b");
  });

  test("compact keeps false, zero and nested values", () => {
    expect(compact({ a: false, b: 0, c: { d: "" }, e: "" })).toEqual({ a: false, b: 0, c: { d: "" } });
  });
});
