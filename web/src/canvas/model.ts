// The canvas's own node and edge shapes: ReactFlow nodes whose data holds
// the journey node's type, label and config.
import type { Edge, Node } from "@xyflow/react";
import type { ErrorDetail, NodeConfig } from "../api/types";

/** What a journey node carries on the canvas. */
export type JourneyNodeData = {
  /** The node type name, from GET /api/v1/node-types. */
  type: string;
  label?: string;
  config: NodeConfig;
  /** Problems the server reported for this node (422 details). */
  problems?: ErrorDetail[];
  /** Customers at this node right now, when known. */
  count?: number;
};

export type JourneyNode = Node<JourneyNodeData, "journey">;

/** An edge's branch is its source handle; the label shows it. */
export type JourneyEdgeData = { branch: string };
export type JourneyEdge = Edge<JourneyEdgeData>;

/** Node size used for layout and hit-testing; the node component matches it. */
export const NODE_WIDTH = 240;
export const NODE_HEIGHT = 76;
