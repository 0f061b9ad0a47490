// Which branches leave a node: the type's fixed branches, its optional
// ones, and those its config names (the catalogue describes the dynamic
// ones in prose, so the three such types are spelled out here).
import type { NodeConfig, NodeType } from "../api/types";

/** The branch an edge without a branch follows. */
export const DEFAULT_BRANCH = "default";

/** The out-branches a node of type t with config offers, in display order. */
export function branchesOf(t: NodeType | undefined, config: NodeConfig | undefined): string[] {
  if (!t) return [];
  const c = config ?? {};
  switch (t.type) {
    case "wait_for_event":
      return [str(c.event_branch) ?? "event_received", str(c.timeout_branch) ?? "timed_out"];
    case "ab_split": {
      const variants = Array.isArray(c.variants) ? c.variants : [];
      const keys = variants
        .map((v) => (typeof v === "object" && v !== null ? str((v as NodeConfig).key) : undefined))
        .filter((k): k is string => !!k);
      return [...new Set(keys)];
    }
    case "goal_reached":
      return c.exit_after_goal === true ? [] : [DEFAULT_BRANCH];
  }
  return [...t.branches, ...(t.optional_branches ?? [])];
}

/** Branches that must each have an out-edge before the graph is valid. */
export function requiredBranchesOf(t: NodeType | undefined, config: NodeConfig | undefined): string[] {
  if (!t) return [];
  const optional = new Set(t.optional_branches ?? []);
  return branchesOf(t, config).filter((b) => !optional.has(b) || t.branches.includes(b));
}

/** Whether nodes of type t can be entered from another node. */
export function hasInput(t: NodeType | undefined): boolean {
  return t?.group !== "entry";
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}
