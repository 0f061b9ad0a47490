// The proposed change of the AI designer, node by node: what a proposal
// adds, removes and changes relative to the graph open in the editor. Pure
// functions, so the canvas highlight and the panel's summary agree.
import type { Graph, GraphEdge, GraphNode } from "../api/types";

/** How a node or edge of the merged graph relates to the current one. */
export type Change = "added" | "removed" | "changed" | "same";

/** A node of the merged graph: the proposal's, or a removed one of the current graph. */
export type DiffNode = { node: GraphNode; change: Change; fields: string[] };
/** An edge of the merged graph. */
export type DiffEdge = { edge: GraphEdge; change: Change };

/** What a proposal changes: every node and edge of both graphs, once. */
export type GraphChange = {
  nodes: DiffNode[];
  edges: DiffEdge[];
  counts: Record<Exclude<Change, "same">, number>;
};

/**
 * diffGraphs merges current and proposed: the proposal's nodes in its order
 * (added, changed or the same), then the current graph's nodes it removes.
 * A node is changed when its type, label or config differ; which of them is
 * in fields (config keys as config.key). Edges are keyed by source, branch
 * and target, so a renumbered edge id is no change.
 */
export function diffGraphs(current: Graph | null | undefined, proposed: Graph): GraphChange {
  const before = new Map((current?.nodes ?? []).map((n) => [n.id, n]));
  const after = new Set(proposed.nodes.map((n) => n.id));
  const nodes: DiffNode[] = proposed.nodes.map((n) => {
    const old = before.get(n.id);
    if (!old) return { node: n, change: "added", fields: [] };
    const fields = changedFields(old, n);
    return { node: n, change: fields.length > 0 ? "changed" : "same", fields };
  });
  for (const n of current?.nodes ?? []) {
    if (!after.has(n.id)) nodes.push({ node: n, change: "removed", fields: [] });
  }

  const oldEdges = new Set((current?.edges ?? []).map(edgeKey));
  const newEdges = new Set(proposed.edges.map(edgeKey));
  const edges: DiffEdge[] = proposed.edges.map((e) => ({ edge: e, change: oldEdges.has(edgeKey(e)) ? "same" : "added" }));
  for (const e of current?.edges ?? []) {
    if (!newEdges.has(edgeKey(e))) edges.push({ edge: e, change: "removed" });
  }

  const counts = { added: 0, removed: 0, changed: 0 };
  for (const n of nodes) if (n.change !== "same") counts[n.change]++;
  return { nodes, edges, counts };
}

/** edgeKey names an edge by what it connects; an absent branch is "default". */
export function edgeKey(e: GraphEdge): string {
  return `${e.source}\u0000${e.branch || "default"}\u0000${e.target}`;
}

function changedFields(a: GraphNode, b: GraphNode): string[] {
  const out: string[] = [];
  if (a.type !== b.type) out.push("type");
  if ((a.label ?? "") !== (b.label ?? "")) out.push("label");
  const ca = a.config ?? {};
  const cb = b.config ?? {};
  for (const k of [...new Set([...Object.keys(ca), ...Object.keys(cb)])].sort()) {
    if (!sameJSON(ca[k], cb[k])) out.push(`config.${k}`);
  }
  return out;
}

/** sameJSON compares two JSON values, object keys in any order. */
export function sameJSON(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => sameJSON(v, b[i]));
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && sameJSON((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
