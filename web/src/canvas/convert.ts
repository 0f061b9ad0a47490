// Graph (the API's journey graph, seed §4.1) ⇄ ReactFlow nodes and edges.
import type { Graph, GraphEdge, GraphNode, NodeConfig } from "../api/types";
import { DEFAULT_BRANCH } from "./branches";
import type { JourneyEdge, JourneyNode } from "./model";

/** graphToFlow turns a journey graph into canvas nodes and edges. */
export function graphToFlow(g: Graph | null | undefined): { nodes: JourneyNode[]; edges: JourneyEdge[] } {
  const nodes = (g?.nodes ?? []).map(nodeToFlow);
  const edges = (g?.edges ?? []).map(edgeToFlow);
  return { nodes, edges };
}

function nodeToFlow(n: GraphNode): JourneyNode {
  const data: JourneyNode["data"] = { type: n.type, config: { ...(n.config ?? {}) } };
  if (n.label) data.label = n.label;
  return {
    id: n.id,
    type: "journey",
    position: { x: n.position?.x ?? 0, y: n.position?.y ?? 0 },
    data,
  };
}

/** edgeToFlow makes the canvas edge of a graph edge (absent branch: default). */
export function edgeToFlow(e: GraphEdge): JourneyEdge {
  const branch = e.branch || DEFAULT_BRANCH;
  return {
    id: e.id,
    source: e.source,
    target: e.target,
    sourceHandle: branch,
    data: { branch },
    ...(branch === DEFAULT_BRANCH ? {} : {
      label: branch.replace(/_/g, " "),
      labelStyle: { fontSize: 11, fontWeight: 500, fill: "#475569" },
      labelBgStyle: { fill: "#ffffff" },
      labelBgPadding: [4, 2] as [number, number],
      labelBgBorderRadius: 4,
    }),
  };
}

/**
 * flowToGraph turns the canvas back into a journey graph. Positions are
 * rounded (they are for people, and keep saved graphs small); a default
 * branch is left out, as the format allows; rest (exit criteria,
 * frequency caps) is carried over from the graph that was loaded.
 */
export function flowToGraph(nodes: JourneyNode[], edges: JourneyEdge[], rest?: Partial<Graph>): Graph {
  const g: Graph = {
    ...(rest ?? {}),
    nodes: nodes.map((n) => {
      const out: GraphNode = {
        id: n.id,
        type: n.data.type,
        position: { x: Math.round(n.position.x), y: Math.round(n.position.y) },
      };
      if (n.data.label) out.label = n.data.label;
      const config = compact(n.data.config);
      if (Object.keys(config).length > 0) out.config = config;
      return out;
    }),
    edges: edges.map((e) => {
      const out: GraphEdge = { id: e.id, source: e.source, target: e.target };
      const branch = e.data?.branch ?? e.sourceHandle ?? DEFAULT_BRANCH;
      if (branch !== DEFAULT_BRANCH) out.branch = branch;
      return out;
    }),
  };
  return g;
}

/** compact drops empty strings and undefined values a form leaves behind. */
export function compact(c: NodeConfig): NodeConfig {
  const out: NodeConfig = {};
  for (const [k, v] of Object.entries(c)) {
    if (v === undefined || v === "") continue;
    out[k] = v;
  }
  return out;
}

/** newNodeId returns an id of the form prefix_N not used by nodes. */
export function newNodeId(type: string, nodes: { id: string }[]): string {
  const taken = new Set(nodes.map((n) => n.id));
  for (let i = 1; ; i++) {
    const id = `${type}_${i}`;
    if (!taken.has(id)) return id;
  }
}

/** newEdgeId returns an id for an edge from source on branch to target. */
export function newEdgeId(source: string, branch: string, target: string, edges: { id: string }[]): string {
  const taken = new Set(edges.map((e) => e.id));
  const base = branch === DEFAULT_BRANCH ? `e_${source}_${target}` : `e_${source}_${branch}_${target}`;
  if (!taken.has(base)) return base;
  for (let i = 2; ; i++) if (!taken.has(`${base}_${i}`)) return `${base}_${i}`;
}
