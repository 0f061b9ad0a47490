// A version diff on the canvas: the union of two versions' graphs, each
// node and edge marked added, removed, changed or unchanged, from the
// API's diff (GET /journeys/{id}/versions/{v}/diff/{v2}). Pure functions,
// unit-tested.
import type { components } from "../api/schema";
import type { Graph, GraphEdge, GraphNode } from "../api/types";

export type GraphDiff = components["schemas"]["GraphDiff"];
export type FieldChange = components["schemas"]["FieldChange"];

/** How a node or edge differs between the two versions. */
export type DiffMark = "added" | "removed" | "changed" | "unchanged";

/** A node of the union graph, with its mark and, when changed, its fields. */
export type DiffNode = GraphNode & { mark: DiffMark; fields: FieldChange[] };
/** An edge of the union graph, with its mark. */
export type DiffEdge = GraphEdge & { mark: DiffMark };

/** The union of both versions' graphs, marked. */
export type MarkedGraph = { nodes: DiffNode[]; edges: DiffEdge[] };

/** edgeKey identifies an edge as the API's diff does: source, target, branch. */
export function edgeKey(e: { source: string; target: string; branch?: string }): string {
  return `${e.source}\u0000${e.target}\u0000${e.branch || "default"}`;
}

/**
 * markDiff lays the diff over the two graphs: every node of `to`, marked
 * added or changed as the diff says, then the removed nodes of `from`;
 * the same for edges. What the diff does not name is unchanged.
 */
export function markDiff(from: Graph | null | undefined, to: Graph | null | undefined, diff: GraphDiff): MarkedGraph {
  const added = new Set((diff.added_nodes ?? []).map((n) => n.id));
  const changed = new Map((diff.changed_nodes ?? []).map((c) => [c.id ?? "", c.fields ?? []]));
  const removed = new Set((diff.removed_nodes ?? []).map((n) => n.id));
  const nodes: DiffNode[] = (to?.nodes ?? []).map((n) => {
    const fields = changed.get(n.id);
    const mark: DiffMark = added.has(n.id) ? "added" : fields ? "changed" : "unchanged";
    return { ...n, mark, fields: fields ?? [] };
  });
  for (const n of from?.nodes ?? []) {
    if (removed.has(n.id)) nodes.push({ ...n, mark: "removed", fields: [] });
  }

  const edgeChange = new Map((diff.changed_edges ?? []).map((e) => [edgeKey(e), e.change]));
  const edges: DiffEdge[] = (to?.edges ?? []).map((e) => ({
    ...e,
    mark: edgeChange.get(edgeKey(e)) === "added" ? "added" : "unchanged",
  }));
  for (const e of from?.edges ?? []) {
    if (edgeChange.get(edgeKey(e)) === "removed") edges.push({ ...e, id: `removed:${e.id}`, mark: "removed" });
  }
  return { nodes, edges };
}

/** countMarks counts the nodes per mark, for the legend. */
export function countMarks(g: MarkedGraph): Record<DiffMark, number> {
  const out: Record<DiffMark, number> = { added: 0, removed: 0, changed: 0, unchanged: 0 };
  for (const n of g.nodes) out[n.mark]++;
  return out;
}

/** isEmptyDiff tells two versions that are the same journey. */
export function isEmptyDiff(d: GraphDiff): boolean {
  return (d.added_nodes?.length ?? 0) + (d.removed_nodes?.length ?? 0) + (d.changed_nodes?.length ?? 0) +
    (d.changed_edges?.length ?? 0) + (d.changed_settings?.length ?? 0) === 0;
}

/** showValue renders a changed field's old or new value in one short line. */
export function showValue(v: unknown): string {
  if (v === null || v === undefined) return "—";
  if (typeof v === "string") return `“${v}”`;
  const s = JSON.stringify(v);
  return s.length > 60 ? s.slice(0, 57) + "…" : s;
}

/** describeField says what changed in one line: config.duration “3d” → “1d”. */
export function describeField(f: FieldChange): string {
  return `${f.field ?? "?"}: ${showValue(f.old)} → ${showValue(f.new)}`;
}
