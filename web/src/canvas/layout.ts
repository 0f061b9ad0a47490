// Auto-layout with dagre: top to bottom, branches side by side in their
// order ("true" left of "false", "event received" left of "timed out").
import dagre from "@dagrejs/dagre";
import { NODE_HEIGHT, NODE_WIDTH } from "./model";

type Positioned = { id: string; position: { x: number; y: number } };
type Linked = { source: string; target: string; sourceHandle?: string | null };
type Point = { x: number; y: number };

/**
 * layout returns nodes moved to a layered top-to-bottom arrangement.
 * branchOrder ranks an edge among its source's branches; of the layouts
 * dagre gives for the branches added in order and in reverse, the one
 * that keeps more branches in order wins (dagre breaks crossing-free ties
 * either way).
 */
export function layout<N extends Positioned>(nodes: N[], edges: Linked[], branchOrder?: (e: Linked) => number): N[] {
  const rank = branchOrder ?? (() => 0);
  const sorted = [...edges].sort((a, b) => rank(a) - rank(b));
  let best = place(nodes, sorted);
  if (branchOrder && inversions(best, sorted, rank) > 0) {
    const other = place(nodes, [...sorted].reverse());
    if (inversions(other, sorted, rank) < inversions(best, sorted, rank)) best = other;
  }
  return nodes.map((n) => ({ ...n, position: best.get(n.id)! }));
}

/** place runs dagre with nodes added depth first along edges in their order. */
function place(nodes: Positioned[], edges: Linked[]): Map<string, Point> {
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: "TB", nodesep: 56, ranksep: 72, marginx: 24, marginy: 24 });
  g.setDefaultEdgeLabel(() => ({}));
  const out = new Map<string, string[]>();
  const inCount = new Map<string, number>();
  for (const e of edges) {
    out.set(e.source, [...(out.get(e.source) ?? []), e.target]);
    inCount.set(e.target, (inCount.get(e.target) ?? 0) + 1);
  }
  // dagre's first ordering of each rank follows the order nodes were added in.
  const seen = new Set<string>();
  const visit = (id: string) => {
    if (seen.has(id)) return;
    seen.add(id);
    g.setNode(id, { width: NODE_WIDTH, height: NODE_HEIGHT });
    for (const next of out.get(id) ?? []) visit(next);
  };
  for (const n of nodes) if (!inCount.has(n.id)) visit(n.id);
  for (const n of nodes) visit(n.id);
  // Edges into a merge (a node several paths lead to) weigh less, so each
  // path stays close to its branch and only the edges into the merge stretch.
  edges.forEach((e, i) => {
    if (g.hasNode(e.source) && g.hasNode(e.target)) {
      g.setEdge(e.source, e.target, { weight: (inCount.get(e.target) ?? 0) > 1 ? 1 : 2 }, String(i));
    }
  });
  dagre.layout(g);
  const placed = new Map<string, Point>();
  for (const n of nodes) {
    const p = g.node(n.id);
    placed.set(n.id, { x: Math.round(p.x - NODE_WIDTH / 2), y: Math.round(p.y - NODE_HEIGHT / 2) });
  }
  return placed;
}

/** inversions counts pairs of a node's branches whose targets sit out of order. */
function inversions(placed: Map<string, Point>, edges: Linked[], rank: (e: Linked) => number): number {
  const bySource = new Map<string, Linked[]>();
  for (const e of edges) bySource.set(e.source, [...(bySource.get(e.source) ?? []), e]);
  let n = 0;
  for (const out of bySource.values()) {
    for (let i = 0; i < out.length; i++) {
      for (let j = i + 1; j < out.length; j++) {
        const a = out[i]!;
        const b = out[j]!;
        if (rank(a) === rank(b)) continue;
        const [first, second] = rank(a) < rank(b) ? [a, b] : [b, a];
        if (placed.get(first.target)!.x > placed.get(second.target)!.x) n++;
      }
    }
  }
  return n;
}

/** needsLayout tells a graph whose nodes were never placed (several at one spot). */
export function needsLayout(nodes: Positioned[]): boolean {
  if (nodes.length < 2) return false;
  const seen = new Set(nodes.map((n) => `${n.position.x},${n.position.y}`));
  return seen.size < nodes.length;
}
