// The ReactFlow canvas: nodes and edges from the editor store, drops from
// the palette, connections checked by the rules, a minimap and controls.
import { useCallback, useState, type DragEvent } from "react";
import {
  Background, BackgroundVariant, Controls, MarkerType, MiniMap, ReactFlow, useReactFlow,
  type Connection as FlowConnection, type FinalConnectionState, type IsValidConnection,
} from "@xyflow/react";
import type { NodeType } from "../api/types";
import { DEFAULT_BRANCH } from "./branches";
import { edgeToFlow, newEdgeId, newNodeId } from "./convert";
import { NODE_HEIGHT, NODE_WIDTH, type JourneyEdge, type JourneyNode } from "./model";
import { DRAG_TYPE } from "./Palette";
import { additionProblem, connectionProblem } from "./rules";
import { useEditor, useEditorStore } from "./store";
import { JourneyNodeView } from "./JourneyNodeView";

const nodeTypes = { journey: JourneyNodeView };

const minimapColours: Record<string, string> = {
  entry: "#10b981", channel: "#0ea5e9", logic: "#f59e0b", data: "#8b5cf6", exit: "#f43f5e",
};

export function Canvas({ types, readOnly, onRefused }: {
  types: Map<string, NodeType>;
  readOnly: boolean;
  /** Tells the person why a drop or a connection was refused. */
  onRefused: (why: string) => void;
}) {
  const nodes = useEditor((s) => s.nodes);
  const edges = useEditor((s) => s.edges);
  const onNodesChange = useEditor((s) => s.onNodesChange);
  const onEdgesChange = useEditor((s) => s.onEdgesChange);
  const store = useEditorStore();
  const flow = useReactFlow<JourneyNode, JourneyEdge>();
  const addNodeAt = useAddNode(types, onRefused);
  // Fit the view to the graph it opened with; an empty canvas keeps its
  // viewport, so the first node lands where it is dropped.
  const [fitOnOpen] = useState(() => store.getState().nodes.length > 0);

  const isValidConnection: IsValidConnection<JourneyEdge> = useCallback(
    (c) => {
      const { nodes, edges } = store.getState();
      return connectionProblem(c, nodes, edges, types) === null;
    },
    [store, types],
  );

  const onConnect = useCallback(
    (c: FlowConnection) => {
      const { nodes, edges, addEdge } = store.getState();
      const problem = connectionProblem(c, nodes, edges, types);
      if (problem) {
        onRefused(problem);
        return;
      }
      const branch = c.sourceHandle || DEFAULT_BRANCH;
      addEdge(edgeToFlow({ id: newEdgeId(c.source, branch, c.target, edges), source: c.source, target: c.target, branch }));
    },
    [store, types, onRefused],
  );

  const onConnectEnd = useCallback(
    (_: MouseEvent | TouchEvent, state: FinalConnectionState) => {
      if (state.isValid || !state.fromNode || !state.toNode) return;
      const { nodes, edges } = store.getState();
      const problem = connectionProblem(
        { source: state.fromNode.id, target: state.toNode.id, sourceHandle: state.fromHandle?.id ?? null },
        nodes, edges, types);
      if (problem) onRefused(problem);
    },
    [store, types, onRefused],
  );

  const onDragOver = useCallback((e: DragEvent) => {
    if (!e.dataTransfer.types.includes(DRAG_TYPE)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = "move";
  }, []);

  const onDrop = useCallback(
    (e: DragEvent) => {
      const type = e.dataTransfer.getData(DRAG_TYPE);
      const t = types.get(type);
      if (!t) return;
      e.preventDefault();
      const p = flow.screenToFlowPosition({ x: e.clientX, y: e.clientY });
      addNodeAt(t, { x: p.x - NODE_WIDTH / 2, y: p.y - NODE_HEIGHT / 2 });
    },
    [flow, types, addNodeAt],
  );


  return (
    <div className="relative min-w-0 flex-1" onDragOver={onDragOver} onDrop={onDrop} data-testid="canvas">
      <ReactFlow<JourneyNode, JourneyEdge>
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onConnect={onConnect}
        onConnectEnd={onConnectEnd}
        isValidConnection={isValidConnection}
        onNodeDragStart={() => store.getState().checkpoint()}
        onPaneClick={() => store.getState().select(null)}
        nodesDraggable={!readOnly}
        nodesConnectable={!readOnly}
        edgesReconnectable={false}
        deleteKeyCode={readOnly ? null : ["Delete", "Backspace"]}
        defaultEdgeOptions={{ type: "smoothstep", markerEnd: { type: MarkerType.ArrowClosed, width: 18, height: 18 } }}
        fitView={fitOnOpen}
        fitViewOptions={{ padding: 0.2, maxZoom: 1 }}
        minZoom={0.1}
        maxZoom={2}
        proOptions={{ hideAttribution: true }}
        onlyRenderVisibleElements
      >
        <Background variant={BackgroundVariant.Dots} gap={20} size={1.2} color="#cbd5e1" />
        <MiniMap pannable zoomable position="bottom-right" ariaLabel="Minimap" style={{ width: 168, height: 112 }}
          nodeColor={(n) => minimapColours[types.get((n as JourneyNode).data.type)?.group ?? "logic"] ?? "#94a3b8"}
          nodeStrokeWidth={0} className="!rounded-md !border !border-slate-200 !shadow-sm" />
        <Controls position="bottom-left" showInteractive={false} />
      </ReactFlow>
      {nodes.length === 0 && (
        <div className="pointer-events-none absolute inset-0 flex items-center justify-center">
          <div className="rounded-lg border border-dashed border-slate-300 bg-white/80 px-6 py-4 text-center text-sm text-slate-500">
            {readOnly ? "This version has no nodes." : "Drag an entry from the palette to start the journey."}
          </div>
        </div>
      )}
    </div>
  );
}

/**
 * useAddNode returns a function adding a node of a type at a canvas
 * position (its top-left), or telling why it cannot be added.
 */
export function useAddNode(types: Map<string, NodeType>, onRefused: (why: string) => void) {
  const store = useEditorStore();
  return useCallback(
    (t: NodeType, position: { x: number; y: number }) => {
      const { nodes, addNode } = store.getState();
      const problem = t.not_runnable ?? additionProblem(t, nodes, types);
      if (problem) {
        onRefused(problem);
        return;
      }
      addNode({
        id: newNodeId(t.type, nodes),
        type: "journey",
        position: { x: Math.round(position.x), y: Math.round(position.y) },
        data: { type: t.type, config: {} },
      });
    },
    [store, types, onRefused],
  );
}
