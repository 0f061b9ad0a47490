import { expect, test } from "vitest";
import type { NodeType } from "../api/types";
import { demoJourney } from "../screens/demo";
import catalogue from "../testdata/node-types.json";
import { branchesOf } from "./branches";
import { graphToFlow } from "./convert";
import { layout, needsLayout } from "./layout";
import { NODE_HEIGHT, NODE_WIDTH } from "./model";

const types = new Map((catalogue.data as NodeType[]).map((t) => [t.type, t]));

function laidOut() {
  const { nodes, edges } = graphToFlow(demoJourney.graph);
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const rank = (e: { source: string; sourceHandle?: string | null }) => {
    const n = byId.get(e.source)!;
    return branchesOf(types.get(n.data.type), n.data.config).indexOf(e.sourceHandle ?? "default");
  };
  return new Map(layout(nodes.map((n) => ({ ...n, position: { x: 0, y: 0 } })), edges, rank).map((n) => [n.id, n.position]));
}

test("auto-layout places no node over another", () => {
  const at = [...laidOut().values()];
  for (let i = 0; i < at.length; i++) {
    for (let j = i + 1; j < at.length; j++) {
      const a = at[i]!;
      const b = at[j]!;
      const apart = Math.abs(a.x - b.x) >= NODE_WIDTH || Math.abs(a.y - b.y) >= NODE_HEIGHT;
      expect(apart, `nodes ${i} and ${j} overlap`).toBe(true);
    }
  }
});

test("auto-layout goes top to bottom with branches left to right in order", () => {
  const p = laidOut();
  expect(p.get("signed_up")!.y).toBeLessThan(p.get("welcome_email")!.y);
  expect(p.get("welcome_email")!.y).toBeLessThan(p.get("wait_for_open")!.y);
  expect(p.get("done")!.y).toBeGreaterThan(p.get("upsell_email")!.y);
  // event_received (wait a week) comes before timed_out (SMS reminder)
  expect(p.get("wait_a_week")!.x).toBeLessThan(p.get("sms_reminder")!.x);
  expect(p.get("upsell_email")!.x).toBe(p.get("wait_a_week")!.x);
});

test("a graph whose nodes share a spot needs layout; a placed one does not", () => {
  expect(needsLayout([{ id: "a", position: { x: 0, y: 0 } }, { id: "b", position: { x: 0, y: 0 } }])).toBe(true);
  expect(needsLayout(graphToFlow(demoJourney.graph).nodes)).toBe(false);
});
