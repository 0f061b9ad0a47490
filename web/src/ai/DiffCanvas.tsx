// The proposed change on a canvas: the merged graph of the current journey
// and the designer's proposal, laid out afresh, with added nodes in green,
// changed ones in amber and removed ones in red (dashed, struck through).
// Read-only: a node can be selected, to see where in the message it came from.
import { useEffect, useMemo, useRef } from "react";
import {
  Background, Controls, Handle, MarkerType, Position, ReactFlow, ReactFlowProvider, useReactFlow,
  type Edge, type Node, type NodeProps,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { layout } from "../canvas/layout";
import { NODE_HEIGHT, NODE_WIDTH } from "../canvas/model";
import type { Change, GraphChange } from "./diff";

type DiffNodeData = { label: string; type: string; change: Change; fields: string[] };
type FlowNode = Node<DiffNodeData, "diff">;

const nodeStyle: Record<Change, string> = {
  added: "border-emerald-500 bg-emerald-50 ring-2 ring-emerald-200",
  changed: "border-amber-500 bg-amber-50 ring-2 ring-amber-200",
  removed: "border-dashed border-red-400 bg-red-50/80 opacity-80",
  same: "border-slate-300 bg-white",
};
const badgeStyle: Record<Change, string> = {
  added: "bg-emerald-600 text-white",
  changed: "bg-amber-500 text-white",
  removed: "bg-red-600 text-white",
  same: "",
};
const edgeColor: Record<Change, string> = { added: "#059669", removed: "#dc2626", changed: "#d97706", same: "#94a3b8" };

function DiffNodeView({ data, selected }: NodeProps<FlowNode>) {
  return (
    <div data-change={data.change} title={data.fields.length ? `changed: ${data.fields.join(", ")}` : undefined}
      className={`relative rounded-lg border px-3 py-2 shadow-sm ${nodeStyle[data.change]} ${selected ? "outline-2 outline-offset-2 outline-indigo-500" : ""}`}
      style={{ width: NODE_WIDTH, height: NODE_HEIGHT }}>
      <Handle type="target" position={Position.Top} isConnectable={false} className="!h-2 !w-2 !border-0 !bg-slate-400" />
      <div className={`truncate text-sm font-semibold text-slate-900 ${data.change === "removed" ? "line-through" : ""}`}>{data.label}</div>
      <div className="mt-0.5 truncate font-mono text-xs text-slate-500">{data.type}</div>
      {data.change === "changed" && (
        <div className="mt-0.5 truncate text-xs text-amber-800">{data.fields.join(", ")}</div>
      )}
      {data.change !== "same" && (
        <span className={`absolute -top-2.5 right-2 rounded-full px-2 py-px text-[10px] font-semibold tracking-wide uppercase ${badgeStyle[data.change]}`}>
          {data.change}
        </span>
      )}
      <Handle type="source" position={Position.Bottom} isConnectable={false} className="!h-2 !w-2 !border-0 !bg-slate-400" />
    </div>
  );
}

const nodeTypes = { diff: DiffNodeView };

/** FitOnResize fits the graph into the canvas again when the canvas changes size. */
function FitOnResize() {
  const { fitView } = useReactFlow();
  const probe = useRef<HTMLSpanElement>(null);
  useEffect(() => {
    const pane = probe.current?.closest(".react-flow");
    if (!pane) return;
    let first = true;
    const ro = new ResizeObserver(() => {
      if (first) first = false; // the initial fitView already did it
      else void fitView({ padding: 0.15 });
    });
    ro.observe(pane);
    return () => ro.disconnect();
  }, [fitView]);
  return <span ref={probe} hidden />;
}

/** toFlow lays the merged graph out top to bottom and styles it by change. */
export function toFlow(change: GraphChange, selectedId: string | null): { nodes: FlowNode[]; edges: Edge[] } {
  const nodes: FlowNode[] = change.nodes.map(({ node, change: c, fields }) => ({
    id: node.id,
    type: "diff",
    position: { x: 0, y: 0 },
    selected: node.id === selectedId,
    // Given as measured, React Flow keeps the node visible and its handles
    // when a selection change makes new node objects (see GraphView's toFlow).
    measured: { width: NODE_WIDTH, height: NODE_HEIGHT },
    data: { label: node.label || node.id, type: node.type, change: c, fields },
  }));
  const edges: Edge[] = change.edges.map(({ edge, change: c }, i) => {
    const branch = edge.branch && edge.branch !== "default" ? edge.branch : undefined;
    return {
      id: `${i}:${edge.id}`,
      source: edge.source,
      target: edge.target,
      label: branch,
      style: { stroke: edgeColor[c], strokeWidth: c === "same" ? 1.5 : 2, strokeDasharray: c === "removed" ? "6 4" : undefined },
      markerEnd: { type: MarkerType.ArrowClosed, color: edgeColor[c] },
      labelBgPadding: [4, 2] as [number, number],
      labelStyle: { fontSize: 11, fill: "#334155" },
    };
  });
  return { nodes: layout(nodes, edges), edges };
}

export function DiffCanvas({ change, selectedId, onSelect }: {
  change: GraphChange;
  selectedId: string | null;
  onSelect: (id: string | null) => void;
}) {
  const flow = useMemo(() => toFlow(change, selectedId), [change, selectedId]);
  // A new graph is a new canvas, fitted to it; selecting a node keeps the view.
  const key = useMemo(() => change.nodes.map((n) => `${n.node.id}:${n.change}`).join(","), [change]);
  return (
    <ReactFlowProvider key={key}>
      <ReactFlow nodes={flow.nodes} edges={flow.edges} nodeTypes={nodeTypes} fitView fitViewOptions={{ padding: 0.15 }}
        nodesDraggable={false} nodesConnectable={false} edgesFocusable={false} minZoom={0.2}
        onNodeClick={(_, n) => onSelect(n.id)} onPaneClick={() => onSelect(null)} proOptions={{ hideAttribution: true }}>
        <Background gap={20} color="#e2e8f0" />
        <Controls showInteractive={false} />
        <FitOnResize />
      </ReactFlow>
    </ReactFlowProvider>
  );
}

/** DiffLegend names the diff canvas's colours. */
export function DiffLegend({ className = "" }: { className?: string }) {
  const item = (c: string, label: string) => (
    <span className="flex items-center gap-1.5"><span className={`h-3 w-3 rounded-sm border ${c}`} />{label}</span>
  );
  return (
    <div className={`flex items-center gap-4 text-xs text-slate-600 ${className}`} aria-label="Legend">
      {item("border-emerald-500 bg-emerald-50", "added")}
      {item("border-amber-500 bg-amber-50", "changed")}
      {item("border-dashed border-red-400 bg-red-50", "removed")}
    </div>
  );
}
