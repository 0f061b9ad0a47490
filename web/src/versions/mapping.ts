// The node mapping of a publish: where customers at each node of the old
// version continue in the new one. The API proposes it (a dry-run publish
// answers the mapping, its confidence, the unmapped nodes and how many
// customers are at each old node); a person may change any row. Pure
// functions, unit-tested.
import type { components } from "../api/schema";
import type { Graph } from "../api/types";

export type PublishPlan = components["schemas"]["PublishPlan"];

/** One old node's row of the mapping table. */
export type MappingRow = {
  /** The old node's id and type. */
  from: string;
  fromType: string;
  /** The new node's id; "" leaves the old node unmapped. */
  to: string;
  /** What the API proposed for it ("" when it found no counterpart). */
  proposed: string;
  /** The proposal's confidence from 0 to 1, when it proposed a node. */
  confidence?: number;
  /** Customers at the old node now (the dry run's count). */
  customers: number;
};

/** mappingRows makes one row per node of the old graph, in graph order. */
export function mappingRows(plan: PublishPlan, oldGraph: Graph | null | undefined): MappingRow[] {
  const mapping = plan.node_mapping ?? {};
  const confidence = plan.confidence ?? {};
  const populated = plan.populated ?? {};
  return (oldGraph?.nodes ?? []).map((n) => {
    const to = mapping[n.id] ?? "";
    const row: MappingRow = { from: n.id, fromType: n.type, to, proposed: to, customers: populated[n.id] ?? 0 };
    if (to && confidence[n.id] !== undefined) row.confidence = confidence[n.id];
    return row;
  });
}

/** setTarget maps the old node `from` to `to` ("" unmaps it). */
export function setTarget(rows: MappingRow[], from: string, to: string): MappingRow[] {
  return rows.map((r) => (r.from === from ? { ...r, to } : r));
}

/** isEdited tells a row a person changed from the proposal. */
export function isEdited(r: MappingRow): boolean {
  return r.to !== r.proposed;
}

/**
 * overrides is the publish request's node_mapping: only the rows a person
 * changed ("" for one they unmapped); the server proposes the rest itself.
 */
export function overrides(rows: MappingRow[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of rows) if (isEdited(r)) out[r.from] = r.to;
  return out;
}

/**
 * targetOptions lists the nodes of the new graph a row may map to: those
 * of the same type first (the usual choice), then the others.
 */
export function targetOptions(row: MappingRow, newGraph: Graph | null | undefined): { id: string; type: string }[] {
  const nodes = (newGraph?.nodes ?? []).map((n) => ({ id: n.id, type: n.type }));
  return [...nodes.filter((n) => n.type === row.fromType), ...nodes.filter((n) => n.type !== row.fromType)];
}

/** stranded counts the customers at old nodes left unmapped: the removed-node policy decides for them. */
export function stranded(rows: MappingRow[]): number {
  return rows.reduce((sum, r) => sum + (r.to === "" ? r.customers : 0), 0);
}

/** confidenceLevel names a confidence for people: exact, likely or a guess. */
export function confidenceLevel(c: number | undefined): "exact" | "likely" | "guess" | "none" {
  if (c === undefined) return "none";
  if (c >= 1) return "exact";
  if (c >= 0.8) return "likely";
  return "guess";
}
