// Connection rules: what the editor lets a person connect. They mirror the
// server's graph validation (seed §4.2) so that most mistakes never reach
// it: only branches the source node has, nothing into an entry node, no
// self-loops, no cycles, no duplicate edges; and one entry node per journey.
import type { NodeType } from "../api/types";
import { branchesOf, DEFAULT_BRANCH, hasInput } from "./branches";

/** The least a rule needs to know of a node. */
export type RuleNode = { id: string; data: { type: string; config: Record<string, unknown> } };
/** The least a rule needs to know of an edge. */
export type RuleEdge = { source: string; target: string; sourceHandle?: string | null; data?: { branch: string } };

/** A connection attempt, as ReactFlow reports it. */
export type Connection = { source: string; target: string; sourceHandle?: string | null };

/** Why a connection is refused, or null when it is allowed. */
export function connectionProblem(
  c: Connection,
  nodes: RuleNode[],
  edges: RuleEdge[],
  types: Map<string, NodeType>,
): string | null {
  if (c.source === c.target) return "a node cannot lead to itself";
  const source = nodes.find((n) => n.id === c.source);
  const target = nodes.find((n) => n.id === c.target);
  if (!source || !target) return "both ends must be nodes on the canvas";
  const branch = c.sourceHandle || DEFAULT_BRANCH;
  const branches = branchesOf(types.get(source.data.type), source.data.config);
  if (!branches.includes(branch)) {
    return branches.length === 0
      ? `${source.data.type} ends the journey: nothing can follow it`
      : `${source.data.type} has no branch "${branch}" (it has ${branches.join(", ")})`;
  }
  if (!hasInput(types.get(target.data.type))) return "an entry node starts the journey: nothing can lead into it";
  if (edges.some((e) => e.source === c.source && e.target === c.target && branchOf(e) === branch)) {
    return "these nodes are already connected on that branch";
  }
  if (reaches(c.target, c.source, edges)) return "this would make a cycle: journeys run one way";
  return null;
}

/** Whether a path of edges leads from `from` to `to`. */
export function reaches(from: string, to: string, edges: RuleEdge[]): boolean {
  const next = new Map<string, string[]>();
  for (const e of edges) next.set(e.source, [...(next.get(e.source) ?? []), e.target]);
  const seen = new Set<string>();
  const stack = [from];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (id === to) return true;
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...(next.get(id) ?? []));
  }
  return false;
}

/** Why a node of type t cannot be added, or null when it can. */
export function additionProblem(t: NodeType, nodes: RuleNode[], types: Map<string, NodeType>): string | null {
  if (t.group === "entry" && nodes.some((n) => types.get(n.data.type)?.group === "entry")) {
    return "This journey already has its entry node";
  }
  return null;
}

/** branchOf is the branch an edge follows. */
export function branchOf(e: RuleEdge): string {
  return e.data?.branch ?? e.sourceHandle ?? DEFAULT_BRANCH;
}

/**
 * missingBranches lists, per node, the required branches with no edge yet:
 * shown on the canvas before the server is asked.
 */
export function missingBranches(
  nodes: RuleNode[],
  edges: RuleEdge[],
  types: Map<string, NodeType>,
  required: (t: NodeType | undefined, c: Record<string, unknown>) => string[],
): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const n of nodes) {
    const used = new Set(edges.filter((e) => e.source === n.id).map(branchOf));
    const missing = required(types.get(n.data.type), n.data.config).filter((b) => !used.has(b));
    if (missing.length > 0) out.set(n.id, missing);
  }
  return out;
}
