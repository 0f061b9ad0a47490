// Auto-layout with dagre: top to bottom, branches side by side.
import dagre from "@dagrejs/dagre";
import { NODE_HEIGHT, NODE_WIDTH } from "./model";

type Positioned = { id: string; position: { x: number; y: number } };
type Linked = { source: string; target: string; sourceHandle?: string | null };

/**
 * layout returns nodes moved to a layered top-to-bottom arrangement. Edges
 * of one source keep their branch order (by sourceHandle order in
 * branchOrder), so "true" stays left of "false".
 */
export function layout<N extends Positioned>(nodes: N[], edges: Linked[], branchOrder?: (e: Linked) => number): N[] {
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: "TB", nodesep: 48, ranksep: 72, marginx: 24, marginy: 24 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of nodes) g.setNode(n.id, { width: NODE_WIDTH, height: NODE_HEIGHT });
  const sorted = branchOrder ? [...edges].sort((a, b) => branchOrder(a) - branchOrder(b)) : edges;
  sorted.forEach((e, i) => {
    if (g.hasNode(e.source) && g.hasNode(e.target)) g.setEdge(e.source, e.target, {}, String(i));
  });
  dagre.layout(g);
  return nodes.map((n) => {
    const p = g.node(n.id);
    return { ...n, position: { x: Math.round(p.x - NODE_WIDTH / 2), y: Math.round(p.y - NODE_HEIGHT / 2) } };
  });
}

/** needsLayout tells a graph whose nodes were never placed (all at 0,0). */
export function needsLayout(nodes: Positioned[]): boolean {
  if (nodes.length < 2) return false;
  const seen = new Set(nodes.map((n) => `${n.position.x},${n.position.y}`));
  return seen.size < nodes.length;
}
