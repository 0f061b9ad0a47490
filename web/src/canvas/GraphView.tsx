// A read-only canvas for looking at a journey version: the version diff
// (nodes marked added, removed or changed) and the monitor (customers at
// each node as badges). Nothing can be moved, connected or deleted here;
// a click on a node is reported to the screen.
import "@xyflow/react/dist/style.css";
import { createContext, memo, useContext, useEffect, useMemo, useRef } from "react";
import {
  Background, Controls, Handle, MarkerType, Position, ReactFlow, ReactFlowProvider, useReactFlow,
  type Edge, type Node, type NodeProps,
} from "@xyflow/react";
import { useNodeTypes } from "../api/queries";
import type { NodeConfig, NodeGroup, NodeType } from "../api/types";
import type { DiffMark } from "../versions/diff";
import { layout, needsLayout } from "./layout";
import { NODE_HEIGHT, NODE_WIDTH } from "./model";

/** A node as the read-only canvas shows it. */
export type ViewNode = {
  id: string;
  type: string;
  label?: string;
  config?: NodeConfig;
  position?: { x: number; y: number };
  /** How the node differs between two versions (diff view). */
  mark?: DiffMark;
  /** Customers at the node right now (monitor). */
  count?: number;
};

/** An edge as the read-only canvas shows it. */
export type ViewEdge = { id: string; source: string; target: string; branch?: string; mark?: DiffMark };

type ViewData = ViewNode & { selected: boolean; dimmed: boolean };
type ViewFlowNode = Node<ViewData, "view">;

const TypesContext = createContext<Map<string, NodeType>>(new Map());

const groupAccent: Record<NodeGroup, string> = {
  entry: "bg-emerald-500",
  channel: "bg-sky-500",
  logic: "bg-amber-500",
  data: "bg-violet-500",
  exit: "bg-rose-500",
};

const markLook: Record<DiffMark, { box: string; badge: string; text: string }> = {
  added: { box: "border-emerald-500 ring-2 ring-emerald-200", badge: "bg-emerald-600 text-white", text: "Added" },
  removed: { box: "border-dashed border-rose-400 opacity-70", badge: "bg-rose-600 text-white", text: "Removed" },
  changed: { box: "border-amber-500 ring-2 ring-amber-200", badge: "bg-amber-500 text-white", text: "Changed" },
  unchanged: { box: "border-slate-200", badge: "", text: "" },
};

/** words turns a type name into words: send_email → Send email. */
export function words(type: string): string {
  const s = type.replace(/_/g, " ");
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** gist is a short line of a node's config: its most telling value. */
export function gist(c: NodeConfig | undefined): string {
  if (!c) return "";
  for (const k of ["duration", "event_type", "expression", "template_id", "subject", "body", "tag", "goal_name", "url", "until", "cron"]) {
    const v = c[k];
    if (typeof v === "string" && v !== "") return k === "duration" ? `Wait ${v}` : v;
  }
  return "";
}

function ViewNodeInner({ data }: NodeProps<ViewFlowNode>) {
  const types = useContext(TypesContext);
  const group = types.get(data.type)?.group ?? "logic";
  const mark = markLook[data.mark ?? "unchanged"];
  return (
    <div data-testid={`view-node-${data.id}`} data-mark={data.mark ?? "unchanged"}
      className={`relative flex rounded-lg border bg-white shadow-sm ${mark.box} ${
        data.selected ? "!border-indigo-500 !ring-2 !ring-indigo-300" : ""} ${data.dimmed ? "opacity-50" : ""}`}
      style={{ width: NODE_WIDTH, height: NODE_HEIGHT }}>
      <div className={`w-1.5 shrink-0 rounded-l-lg ${groupAccent[group]}`} />
      <div className="min-w-0 flex-1 px-3 py-2">
        <div className="flex items-center justify-between gap-2">
          <span className="truncate text-[10px] font-semibold tracking-wide text-slate-500 uppercase">{words(data.type)}</span>
          <span className="flex shrink-0 items-center gap-1">
            {mark.text && (
              <span className={`rounded px-1.5 py-px text-[10px] font-semibold ${mark.badge}`}>{mark.text}</span>
            )}
            {data.count !== undefined && (
              <span data-testid={`count-${data.id}`} title={`${data.count} customer${data.count === 1 ? "" : "s"} here now`}
                className={`rounded-full px-2 py-px text-[11px] font-semibold tabular-nums ${
                  data.count > 0 ? "bg-indigo-600 text-white" : "bg-slate-100 text-slate-500"}`}>
                {data.count}
              </span>
            )}
          </span>
        </div>
        <div className={`mt-0.5 truncate text-sm font-semibold text-slate-900 ${data.mark === "removed" ? "line-through decoration-rose-400" : ""}`}>
          {data.label || data.id}
        </div>
        <div className="truncate text-xs text-slate-500">{gist(data.config) || data.id}</div>
      </div>
      <Handle type="target" position={Position.Top} isConnectable={false} className="!h-2 !w-2 !border-0 !bg-slate-300" />
      <Handle type="source" position={Position.Bottom} isConnectable={false} className="!h-2 !w-2 !border-0 !bg-slate-300" />
    </div>
  );
}

const nodeTypes = { view: memo(ViewNodeInner) };

const edgeColor: Record<DiffMark, string> = {
  added: "#059669",
  removed: "#e11d48",
  changed: "#94a3b8",
  unchanged: "#94a3b8",
};

/** overlapping tells nodes placed on top of one another, which a layout must fix. */
export function overlapping(nodes: { position: { x: number; y: number } }[]): boolean {
  for (let i = 0; i < nodes.length; i++) {
    for (let j = i + 1; j < nodes.length; j++) {
      const a = nodes[i]!.position;
      const b = nodes[j]!.position;
      if (Math.abs(a.x - b.x) < NODE_WIDTH && Math.abs(a.y - b.y) < NODE_HEIGHT) return true;
    }
  }
  return false;
}

/**
 * toFlow places the nodes (laid out with dagre when asked, or when the
 * graph was never placed) and styles the edges by their mark.
 */
export function toFlow(nodes: ViewNode[], edges: ViewEdge[], autoLayout: boolean, selectedId?: string | null,
  dim?: (n: ViewNode) => boolean): { nodes: ViewFlowNode[]; edges: Edge[] } {
  let flowNodes: ViewFlowNode[] = nodes.map((n) => ({
    id: n.id,
    type: "view",
    position: n.position ?? { x: 0, y: 0 },
    data: { ...n, selected: n.id === selectedId, dimmed: dim?.(n) ?? false },
    // Every node has the same size. Given as already measured, React Flow
    // keeps the node visible and its handles' places when a count update or
    // a selection makes new node objects; otherwise it hides each new object
    // until measured again, and a measurement lost between two updates left
    // a node hidden for good (seen once in CI: "element is not visible").
    // (A fixed width and height instead lose the handles, and the edges.)
    measured: { width: NODE_WIDTH, height: NODE_HEIGHT },
    draggable: false,
    connectable: false,
  }));
  if (autoLayout || needsLayout(flowNodes) || overlapping(flowNodes)) flowNodes = layout(flowNodes, edges);
  const flowEdges: Edge[] = edges.map((e) => {
    const mark = e.mark ?? "unchanged";
    const branch = e.branch && e.branch !== "default" ? e.branch.replace(/_/g, " ") : undefined;
    return {
      id: e.id,
      source: e.source,
      target: e.target,
      label: branch,
      labelStyle: { fontSize: 11, fill: "#475569" },
      labelBgStyle: { fill: "#fff" },
      style: { stroke: edgeColor[mark], strokeWidth: mark === "unchanged" ? 1.5 : 2.5, strokeDasharray: mark === "removed" ? "6 4" : undefined },
      markerEnd: { type: MarkerType.ArrowClosed, color: edgeColor[mark] },
      focusable: false,
    };
  });
  return { nodes: flowNodes, edges: flowEdges };
}

const fitOptions = { padding: 0.15, maxZoom: 1 };

/** FitOnResize fits the graph again when the canvas changes size (a window resize). */
function FitOnResize() {
  const { fitView } = useReactFlow();
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const box = ref.current?.closest(".react-flow");
    if (!box) return;
    let first = true;
    const ro = new ResizeObserver(() => {
      if (first) {
        first = false; // the initial fitView already did it
        return;
      }
      void fitView(fitOptions);
    });
    ro.observe(box);
    return () => ro.disconnect();
  }, [fitView]);
  return <div ref={ref} hidden />;
}

/** GraphView shows nodes and edges read-only, fitted to its box. */
export function GraphView({ nodes, edges, autoLayout = false, selectedId, onNodeClick, dim, testId = "graph-view" }: {
  nodes: ViewNode[];
  edges: ViewEdge[];
  autoLayout?: boolean;
  selectedId?: string | null;
  onNodeClick?: (id: string) => void;
  dim?: (n: ViewNode) => boolean;
  testId?: string;
}) {
  const types = useNodeTypes();
  const flow = useMemo(() => toFlow(nodes, edges, autoLayout, selectedId, dim), [nodes, edges, autoLayout, selectedId, dim]);
  // Re-fit when the set of nodes changes (another version), not on every count.
  const shape = nodes.map((n) => n.id).join(",");
  return (
    <div className="h-full w-full" data-testid={testId}>
      <TypesContext.Provider value={types.data?.byType ?? new Map()}>
        <ReactFlowProvider key={shape}>
          <ReactFlow nodes={flow.nodes} edges={flow.edges} nodeTypes={nodeTypes} fitView fitViewOptions={fitOptions}
            nodesDraggable={false} nodesConnectable={false} elementsSelectable={false} edgesFocusable={false}
            onNodeClick={(_, n) => onNodeClick?.(n.id)} minZoom={0.1} proOptions={{ hideAttribution: true }}>
            <Background gap={20} color="#e2e8f0" />
            <Controls showInteractive={false} position="bottom-left" />
            <FitOnResize />
          </ReactFlow>
        </ReactFlowProvider>
      </TypesContext.Provider>
    </div>
  );
}
