// The editor's state: a Zustand store made per open journey (a factory,
// handed down through React context), with undo and redo over snapshots of
// the nodes and edges.
import { createContext, useContext } from "react";
import { applyEdgeChanges, applyNodeChanges, type EdgeChange, type NodeChange } from "@xyflow/react";
import { createStore, useStore, type StoreApi } from "zustand";
import type { ErrorDetail, NodeConfig } from "../api/types";
import type { JourneyEdge, JourneyNode } from "./model";

type Snapshot = { nodes: JourneyNode[]; edges: JourneyEdge[] };

/** The editor store's state and actions. */
export type EditorState = {
  nodes: JourneyNode[];
  edges: JourneyEdge[];
  selectedId: string | null;
  /** Whether there are changes not saved yet. */
  dirty: boolean;
  past: Snapshot[];
  future: Snapshot[];

  /** ReactFlow's change feed; moves and selections are not undo steps by themselves. */
  onNodesChange: (changes: NodeChange<JourneyNode>[]) => void;
  onEdgesChange: (changes: EdgeChange<JourneyEdge>[]) => void;
  /** Records the current state as an undo step (call before a change). */
  checkpoint: () => void;
  addNode: (n: JourneyNode) => void;
  addEdge: (e: JourneyEdge) => void;
  removeSelected: () => void;
  removeNode: (id: string) => void;
  setConfig: (id: string, config: NodeConfig) => void;
  setLabel: (id: string, label: string) => void;
  setNodes: (nodes: JourneyNode[]) => void;
  /** Replaces the whole graph as one undo step (an applied AI proposal). */
  load: (nodes: JourneyNode[], edges: JourneyEdge[]) => void;
  select: (id: string | null) => void;
  setProblems: (details: ErrorDetail[]) => void;
  setCounts: (counts: Map<string, number> | null) => void;
  markSaved: () => void;
  undo: () => void;
  redo: () => void;
};

const HISTORY_LIMIT = 100;

/** createEditorStore makes the store of one open journey. */
export function createEditorStore(initial: Snapshot): StoreApi<EditorState> {
  return createStore<EditorState>()((set, get) => {
    const snapshot = (): Snapshot => ({ nodes: get().nodes, edges: get().edges });
    // Typing in one field makes one undo step, not one per key: edits with
    // the same key within a second are merged into the step before.
    let last: { key: string; at: number } | null = null;
    // change applies an edit as one undo step.
    const change = (fn: (s: EditorState) => Partial<EditorState>, coalesce?: string) => {
      const now = Date.now();
      const merge = coalesce !== undefined && last?.key === coalesce && now - last.at < 1000 && get().past.length > 0;
      last = coalesce !== undefined ? { key: coalesce, at: now } : null;
      if (merge) {
        set((s) => ({ ...fn(s), future: [], dirty: true }));
        return;
      }
      const before = snapshot();
      set((s) => ({ ...fn(s), past: [...s.past, before].slice(-HISTORY_LIMIT), future: [], dirty: true }));
    };
    return {
      nodes: initial.nodes,
      edges: initial.edges,
      selectedId: null,
      dirty: false,
      past: [],
      future: [],

      onNodesChange: (changes) => {
        const removing = changes.some((c) => c.type === "remove");
        if (removing) get().checkpoint();
        const moved = changes.some((c) => c.type === "position" || c.type === "remove");
        set((s) => {
          const nodes = applyNodeChanges(changes, s.nodes);
          const selected = changes.find((c) => c.type === "select" && c.selected);
          const selectedId = selected && "id" in selected ? selected.id
            : nodes.some((n) => n.id === s.selectedId) ? s.selectedId : null;
          return { nodes, selectedId, dirty: s.dirty || moved };
        });
      },
      onEdgesChange: (changes) => {
        if (changes.some((c) => c.type === "remove")) get().checkpoint();
        set((s) => ({
          edges: applyEdgeChanges(changes, s.edges),
          dirty: s.dirty || changes.some((c) => c.type === "remove"),
        }));
      },
      checkpoint: () => {
        last = null;
        set((s) => ({ past: [...s.past, snapshot()].slice(-HISTORY_LIMIT), future: [] }));
      },
      addNode: (n) => change((s) => ({ nodes: [...s.nodes.map((x) => ({ ...x, selected: false })), { ...n, selected: true }], selectedId: n.id })),
      addEdge: (e) => change((s) => ({ edges: [...s.edges, e] })),
      removeSelected: () =>
        change((s) => {
          const gone = new Set(s.nodes.filter((n) => n.selected).map((n) => n.id));
          return {
            nodes: s.nodes.filter((n) => !gone.has(n.id)),
            edges: s.edges.filter((e) => !e.selected && !gone.has(e.source) && !gone.has(e.target)),
            selectedId: s.selectedId && gone.has(s.selectedId) ? null : s.selectedId,
          };
        }),
      removeNode: (id) =>
        change((s) => ({
          nodes: s.nodes.filter((n) => n.id !== id),
          edges: s.edges.filter((e) => e.source !== id && e.target !== id),
          selectedId: s.selectedId === id ? null : s.selectedId,
        })),
      setConfig: (id, config) =>
        change((s) => ({
          nodes: s.nodes.map((n) => (n.id === id ? { ...n, data: { ...n.data, config } } : n)),
          // Edges on branches the new config no longer has stay, and are
          // shown as problems by the server; nothing is dropped silently.
        }), `config:${id}`),
      setLabel: (id, label) =>
        change((s) => ({
          nodes: s.nodes.map((n) => (n.id === id ? { ...n, data: { ...n.data, label: label || undefined } } : n)),
        }), `label:${id}`),
      setNodes: (nodes) => change(() => ({ nodes })),
      load: (nodes, edges) => change(() => ({ nodes, edges, selectedId: null })),
      select: (id) =>
        set((s) => ({ selectedId: id, nodes: s.nodes.map((n) => ({ ...n, selected: n.id === id })) })),
      setProblems: (details) =>
        set((s) => ({
          nodes: s.nodes.map((n) => {
            const problems = details.filter((d) => d.node_id === n.id);
            if (problems.length === 0 && !n.data.problems) return n;
            return { ...n, data: { ...n.data, problems: problems.length > 0 ? problems : undefined } };
          }),
        })),
      setCounts: (counts) =>
        set((s) => ({
          nodes: s.nodes.map((n) => {
            const count = counts?.get(n.id);
            if (count === n.data.count) return n;
            return { ...n, data: { ...n.data, count } };
          }),
        })),
      markSaved: () => set({ dirty: false }),
      undo: () => {
        last = null;
        const { past } = get();
        const prev = past[past.length - 1];
        if (!prev) return;
        set((s) => ({ ...prev, past: s.past.slice(0, -1), future: [snapshot(), ...s.future], dirty: true }));
      },
      redo: () => {
        const { future } = get();
        const next = future[0];
        if (!next) return;
        set((s) => ({ ...next, future: s.future.slice(1), past: [...s.past, snapshot()], dirty: true }));
      },
    };
  });
}

/** The store of the journey open in the editor. */
export const EditorStoreContext = createContext<StoreApi<EditorState> | null>(null);

/** useEditor reads the open journey's store with a selector. */
export function useEditor<T>(selector: (s: EditorState) => T): T {
  const store = useContext(EditorStoreContext);
  if (!store) throw new Error("useEditor outside an EditorStoreContext");
  return useStore(store, selector);
}

/** useEditorStore gives the store itself, for actions in event handlers. */
export function useEditorStore(): StoreApi<EditorState> {
  const store = useContext(EditorStoreContext);
  if (!store) throw new Error("useEditorStore outside an EditorStoreContext");
  return store;
}
