// The journey editor: palette, canvas and properties panel. A draft is
// edited and saved (PUT /journeys/{id}) and activated; a live journey's
// current version is shown read-only with customers per node.
import { useCallback, useContext, useEffect, useMemo, useRef, useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ReactFlowProvider, useReactFlow } from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { api, ApiError, unwrap } from "../api/client";
import { checkExpression, keys, useEventTypes, useJourney, useJourneys, useNodeTypes, useProviders, useSegments, useTemplates } from "../api/queries";
import { useLiveCounts } from "../monitor/counts";
import type { ErrorDetail, Graph, Journey, NodeType, Warning } from "../api/types";
import { branchesOf } from "../canvas/branches";
import { Canvas, useAddNode } from "../canvas/Canvas";
import { flowToGraph, graphToFlow } from "../canvas/convert";
import { NodeTypesContext } from "../canvas/JourneyNodeView";
import { layout, needsLayout } from "../canvas/layout";
import { NODE_HEIGHT, NODE_WIDTH, type JourneyEdge, type JourneyNode } from "../canvas/model";
import { Palette } from "../canvas/Palette";
import { PropertiesPanel } from "../canvas/PropertiesPanel";
import { additionProblem } from "../canvas/rules";
import { createEditorStore, EditorStoreContext, useEditor, useEditorStore } from "../canvas/store";
import { AiPanel } from "../ai/AiPanel";
import { DiffCanvas, DiffLegend } from "../ai/DiffCanvas";
import { diffGraphs } from "../ai/diff";
import { useDesigner } from "../ai/useDesigner";
import type { ScreenProps } from "../routes";
import { Link } from "../router";
import { Icon } from "../shell/Icon";
import { Button } from "../ui/Button";
import { EmbeddedContext, JourneyTabs } from "../ui/JourneyTabs";
import { ErrorNote } from "./Journeys";

export default function EditorScreen({ params }: ScreenProps) {
  const id = params.id!;
  // Kept above the editor, which starts afresh when a draft goes live, so
  // that what activation said stays on screen.
  const [notice, setNotice] = useState<Notice | null>(null);
  const [warnings, setWarnings] = useState<Warning[]>([]);
  const messages: Messages = { notice, setNotice, warnings, setWarnings };
  const journey = useJourney(id);
  const types = useNodeTypes();
  const j = journey.data;
  const live = !!j && j.status !== "draft" && j.current_version > 0;
  const version = useQuery({
    queryKey: ["journey", id, "version", j?.current_version ?? 0],
    enabled: live,
    queryFn: () => unwrap(api.GET("/api/v1/journeys/{id}/versions/{v}", { params: { path: { id, v: j!.current_version } } })),
  });
  if (journey.isError) return <div className="p-8"><ErrorNote error={journey.error} /></div>;
  if (types.isError) return <div className="p-8"><ErrorNote error={types.error} /></div>;
  if (version.isError) return <div className="p-8"><ErrorNote error={version.error} /></div>;
  if (!j || !types.data || (live && !version.data)) {
    return <div className="p-8 text-sm text-slate-500">Loading the journey…</div>;
  }
  const graph = live ? version.data!.graph : j.graph;
  return (
    <NodeTypesContext.Provider value={types.data.byType}>
      <ReactFlowProvider>
        <Editor key={`${j.id}:${live ? j.current_version : "draft"}`} journey={j} graph={graph}
          types={types.data.list} byType={types.data.byType} readOnly={live} messages={messages} />
      </ReactFlowProvider>
    </NodeTypesContext.Provider>
  );
}

type Notice = { kind: "ok" | "error" | "info"; text: string; details?: string[] | undefined };
type Messages = {
  notice: Notice | null;
  setNotice: (n: Notice | null) => void;
  warnings: Warning[];
  setWarnings: (w: Warning[]) => void;
};

function Editor({ journey, graph, types, byType, readOnly, messages }: {
  journey: Journey;
  graph: Graph | null;
  types: NodeType[];
  byType: Map<string, NodeType>;
  readOnly: boolean;
  messages: Messages;
}) {
  const [store] = useState(() => {
    const flow = graphToFlow(graph);
    const nodes = needsLayout(flow.nodes) ? layout(flow.nodes, flow.edges, branchRank(byType, flow.nodes)) : flow.nodes;
    return createEditorStore({ nodes, edges: flow.edges });
  });
  return (
    <EditorStoreContext.Provider value={store}>
      <EditorBody journey={journey} graph={graph} types={types} byType={byType} readOnly={readOnly} messages={messages} />
    </EditorStoreContext.Provider>
  );
}

/** branchRank orders edges by their branch's place among the source's branches. */
function branchRank(byType: Map<string, NodeType>, nodes: JourneyNode[]) {
  const typeOf = new Map(nodes.map((n) => [n.id, n]));
  return (e: { source: string; sourceHandle?: string | null }) => {
    const n = typeOf.get(e.source);
    if (!n) return 0;
    return branchesOf(byType.get(n.data.type), n.data.config).indexOf(e.sourceHandle ?? "default");
  };
}

/** Delivery events Kalcifer itself records, offered by event pickers. */
const deliveryEvents = ["email", "sms", "push", "whatsapp"].flatMap((c) =>
  ["delivered", "opened", "clicked", "bounced", "failed"].map((s) => `${c}_${s}`));

function EditorBody({ journey, graph, types, byType, readOnly, messages }: {
  journey: Journey;
  graph: Graph | null;
  types: NodeType[];
  byType: Map<string, NodeType>;
  readOnly: boolean;
  messages: Messages;
}) {
  const store = useEditorStore();
  const qc = useQueryClient();
  const flow = useReactFlow<JourneyNode, JourneyEdge>();
  const dirty = useEditor((s) => s.dirty);
  const canUndo = useEditor((s) => s.past.length > 0);
  const canRedo = useEditor((s) => s.future.length > 0);
  const nodeCount = useEditor((s) => s.nodes.length);
  // Re-render the palette when the entry comes or goes (one entry per journey).
  const hasEntry = useEditor((s) => s.nodes.some((n) => byType.get(n.data.type)?.group === "entry"));
  const { notice, setNotice, warnings, setWarnings } = messages;
  const [journeyProblems, setJourneyProblems] = useState<ErrorDetail[]>([]);
  const live = journey.status === "active" || journey.status === "paused";

  // The AI designer beside the canvas: its proposal is shown as a diff of
  // the graph being edited; Apply loads it into the editor as one undo step.
  const [aiOpen, setAiOpen] = useState(false);
  const embedded = useContext(EmbeddedContext);
  const designer = useDesigner(journey.id);
  const [aiSelected, setAiSelected] = useState<string | null>(null);
  const proposal = designer.design?.graph ?? null;
  const editing = useEditor((s) => (proposal ? s : null)); // re-diff as the graph changes, only while there is a proposal
  const change = useMemo(() => (proposal && editing ? diffGraphs(flowToGraph(editing.nodes, editing.edges), proposal) : null),
    [proposal, editing]);
  const applyProposal = useCallback(() => {
    if (!proposal) return;
    const next = graphToFlow(proposal);
    const { nodes: before } = store.getState();
    // Nodes the proposal keeps keep their place; when any has none, all are laid out afresh.
    const placed = new Map(before.map((n) => [n.id, n.position]));
    const nodes = next.nodes.map((n) => (placed.has(n.id) ? { ...n, position: placed.get(n.id)! } : n));
    const fresh = nodes.some((n) => !placed.has(n.id)) && needsLayout(next.nodes)
      ? layout(nodes, next.edges, branchRank(byType, nodes)) : nodes;
    store.getState().load(fresh, next.edges);
    designer.applied();
    setAiSelected(null);
    setNotice({ kind: "info", text: "The proposal is in the draft: review it, then save (Ctrl+Z takes it back)." });
    window.requestAnimationFrame(() => flow.fitView({ padding: 0.2, maxZoom: 1, duration: 200 }));
  }, [proposal, store, byType, designer, setNotice, flow]);

  const templates = useTemplates();
  const providers = useProviders();
  const segments = useSegments();
  const journeys = useJourneys("");
  const recent = useEventTypes();
  // The tenant's recent event types first, then those the journeys wait
  // for, then the delivery events Kalcifer records.
  const eventTypes = useMemo(() => {
    const seen = new Set<string>(recent.data ?? []);
    for (const j of journeys.data?.data ?? []) {
      for (const n of j.graph?.nodes ?? []) {
        const t = n.config?.event_type;
        if ((n.type === "event_entry" || n.type === "wait_for_event") && typeof t === "string" && t) seen.add(t);
      }
    }
    return [...seen, ...deliveryEvents.filter((e) => !seen.has(e))];
  }, [journeys.data, recent.data]);
  const pickers = useMemo(() => ({
    templates: templates.data?.data,
    providers: providers.data?.data,
    eventTypes,
    segments: segments.data?.data,
    checkExpression,
  }), [templates.data, providers.data, eventTypes, segments.data]);

  const counts = useLiveCounts(journey.id, 0, live);
  useEffect(() => {
    store.getState().setCounts(counts.data ? counts.data.byNode : null);
  }, [counts.data, store]);

  const refused = useCallback((why: string) => setNotice({ kind: "error", text: why }), [setNotice]);
  const addNodeAt = useAddNode(byType, refused);

  const showProblems = useCallback((err: unknown) => {
    const details = err instanceof ApiError ? err.details : [];
    const { nodes } = store.getState();
    const ids = new Set(nodes.map((n) => n.id));
    store.getState().setProblems(details);
    setJourneyProblems(details.filter((d) => !d.node_id || !ids.has(d.node_id)));
    const message = err instanceof Error ? err.message : String(err);
    setNotice({ kind: "error", text: message, details: details.length > 0 && details.length <= 3 ? details.map((d) => d.message) : undefined });
    const first = details.find((d) => d.node_id && ids.has(d.node_id));
    if (first?.node_id) store.getState().select(first.node_id);
  }, [store, setNotice]);

  const clearProblems = useCallback(() => {
    store.getState().setProblems([]);
    setJourneyProblems([]);
  }, [store]);

  const save = useMutation({
    mutationFn: () => {
      const { nodes, edges } = store.getState();
      const body = flowToGraph(nodes, edges, restOf(graph));
      return unwrap(api.PUT("/api/v1/journeys/{id}", { params: { path: { id: journey.id } }, body: { graph: body } }));
    },
    onSuccess: (j) => {
      store.getState().markSaved();
      clearProblems();
      qc.setQueryData(keys.journey(j.id), j);
      qc.invalidateQueries({ queryKey: ["journeys"] });
      setNotice({ kind: "ok", text: "Draft saved." });
    },
    onError: showProblems,
  });

  const activate = useMutation({
    mutationFn: async () => {
      if (store.getState().dirty) {
        try {
          await save.mutateAsync();
        } catch {
          throw saveFailed; // save's own onError has shown why
        }
      }
      return unwrap(api.POST("/api/v1/journeys/{id}/activate", { params: { path: { id: journey.id } }, body: {} }));
    },
    onSuccess: (j) => {
      clearProblems();
      setWarnings(j.warnings ?? []);
      qc.setQueryData(keys.journey(j.id), j);
      qc.invalidateQueries({ queryKey: ["journeys"] });
      setNotice({ kind: "ok", text: `Activated: version ${j.current_version} is taking customers.` });
    },
    onError: (err) => {
      if (err !== saveFailed) showProblems(err);
    },
  });

  const lifecycle = useMutation({
    mutationFn: (action: "pause" | "resume") =>
      action === "pause"
        ? unwrap(api.POST("/api/v1/journeys/{id}/pause", { params: { path: { id: journey.id } }, body: {} }))
        : unwrap(api.POST("/api/v1/journeys/{id}/resume", { params: { path: { id: journey.id } }, body: {} })),
    onSuccess: (j) => {
      qc.setQueryData(keys.journey(j.id), j);
      qc.invalidateQueries({ queryKey: ["journeys"] });
    },
    onError: (err) => setNotice({ kind: "error", text: err instanceof Error ? err.message : String(err) }),
  });

  const autoLayout = useCallback(() => {
    const { nodes, edges, setNodes } = store.getState();
    setNodes(layout(nodes, edges, branchRank(byType, nodes)));
    window.requestAnimationFrame(() => flow.fitView({ padding: 0.2, maxZoom: 1, duration: 200 }));
  }, [store, byType, flow]);

  // Keyboard shortcuts: Ctrl+S saves; Ctrl+Z / Ctrl+Shift+Z (or Ctrl+Y)
  // undo and redo, except while typing in a field, where they are the
  // field's own. Delete is ReactFlow's (deleteKeyCode).
  const saveRef = useRef(save);
  saveRef.current = save;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const mod = e.ctrlKey || e.metaKey;
      if (!mod) return;
      const key = e.key.toLowerCase();
      if (key === "s") {
        e.preventDefault();
        if (!readOnly && !saveRef.current.isPending) saveRef.current.mutate();
        return;
      }
      const target = e.target as HTMLElement | null;
      if (target?.closest("input, textarea, select, [contenteditable=true]")) return;
      if (readOnly) return;
      if (key === "z" && !e.shiftKey) {
        e.preventDefault();
        store.getState().undo();
      } else if ((key === "z" && e.shiftKey) || key === "y") {
        e.preventDefault();
        store.getState().redo();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [store, readOnly]);

  // Unsaved changes survive neither a reload nor leaving: ask first.
  useEffect(() => {
    if (!dirty) return;
    const onLeave = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener("beforeunload", onLeave);
    return () => window.removeEventListener("beforeunload", onLeave);
  }, [dirty]);

  const addInView = (t: NodeType) => {
    const el = document.querySelector("[data-testid=canvas]")?.getBoundingClientRect();
    const center = el ? flow.screenToFlowPosition({ x: el.left + el.width / 2, y: el.top + el.height / 2 }) : { x: 0, y: 0 };
    const offset = (nodeCount % 5) * 24; // several adds in a row do not land on top of each other
    addNodeAt(t, { x: center.x - NODE_WIDTH / 2 + offset, y: center.y - NODE_HEIGHT / 2 + offset });
  };

  // The designer refines the saved draft, so unsaved edits are saved
  // first: otherwise its proposal would undo them. A draft that cannot be
  // saved is not sent (the notice says why).
  const sendToDesigner = async (message: string) => {
    if (store.getState().dirty && !designer.conversationId) {
      try {
        await save.mutateAsync();
      } catch {
        return;
      }
    }
    return designer.send(message);
  };

  const busy = save.isPending || activate.isPending;
  return (
    <div className="flex h-full flex-col">
      <JourneyTabs journeyId={journey.id} current="canvas">
        {live && counts.data && (
          <span className="flex items-center gap-1 rounded-full bg-indigo-50 px-2 py-0.5 text-xs font-medium whitespace-nowrap text-indigo-700" data-testid="customers-now">
            <Icon name="users" className="h-3.5 w-3.5" />
            {counts.data.customers}{counts.data.partial ? "+" : ""} in it now
          </span>
        )}
        {dirty && !readOnly && <span className="text-xs whitespace-nowrap text-amber-700">Unsaved changes</span>}
        <div className="flex items-center gap-1">
          {!readOnly && (
            <>
              <Button variant="ghost" aria-label="Undo" title="Undo (Ctrl+Z)" disabled={!canUndo} onClick={() => store.getState().undo()}>
                <Icon name="undo" className="h-4 w-4" />
              </Button>
              <Button variant="ghost" aria-label="Redo" title="Redo (Ctrl+Shift+Z)" disabled={!canRedo} onClick={() => store.getState().redo()}>
                <Icon name="redo" className="h-4 w-4" />
              </Button>
              <Button variant="ghost" title="Arrange the nodes automatically" onClick={autoLayout}>
                <Icon name="layout" className="h-4 w-4" />Auto-layout
              </Button>
            </>
          )}
          <Button variant="ghost" title="Zoom to fit" onClick={() => flow.fitView({ padding: 0.2, maxZoom: 1, duration: 200 })}>
            <Icon name="fit" className="h-4 w-4" />Fit
          </Button>
          <span className="mx-1 h-6 w-px bg-slate-200" aria-hidden="true" />
          {readOnly ? (!embedded && (
            <Link href={`/journeys/${encodeURIComponent(journey.id)}/design`} title="Ask the AI designer for a change of this journey"
              className="flex items-center gap-1.5 rounded-md px-2.5 py-1.5 text-sm font-medium text-slate-700 hover:bg-slate-100">
              <Icon name="sparkle" className="h-4 w-4 text-indigo-600" />AI designer
            </Link>
          )) : (
            <Button variant="ghost" aria-pressed={aiOpen} title="Chat with the AI designer beside the canvas"
              className={aiOpen ? "bg-indigo-50 text-indigo-700" : undefined} onClick={() => setAiOpen((o) => !o)}>
              <Icon name="sparkle" className="h-4 w-4 text-indigo-600" />AI designer
            </Button>
          )}
          {!readOnly && (
            <>
              <Button onClick={() => save.mutate()} disabled={busy} title="Save the draft (Ctrl+S)">
                <Icon name="save" className="h-4 w-4" />{save.isPending ? "Saving…" : "Save draft"}
              </Button>
              <Button variant="primary" onClick={() => activate.mutate()} disabled={busy}>
                <Icon name="play" className="h-4 w-4" />{activate.isPending ? "Activating…" : "Activate"}
              </Button>
            </>
          )}
          {journey.status === "active" && (
            <Button onClick={() => lifecycle.mutate("pause")} disabled={lifecycle.isPending}><Icon name="pause" className="h-4 w-4" />Pause</Button>
          )}
          {journey.status === "paused" && (
            <Button variant="primary" onClick={() => lifecycle.mutate("resume")} disabled={lifecycle.isPending}><Icon name="play" className="h-4 w-4" />Resume</Button>
          )}
        </div>
      </JourneyTabs>
      {(notice || warnings.length > 0 || readOnly) && (
        <div className="space-y-1 border-b border-slate-200 bg-white px-4 py-2 text-sm">
          {readOnly && (
            <p className="text-slate-500">
              {journey.status === "archived" ? "This journey is archived." : `Version ${journey.current_version} is live and read-only; customers per node update every few seconds.`}
            </p>
          )}
          {notice && (
            <div role={notice.kind === "error" ? "alert" : "status"} data-testid="notice"
              className={`flex items-start justify-between gap-4 ${notice.kind === "error" ? "text-red-700" : notice.kind === "ok" ? "text-emerald-700" : "text-slate-600"}`}>
              <div>
                {sentence(notice.text)}
                {notice.details && <ul className="mt-0.5 list-disc pl-5 text-xs">{notice.details.map((d, i) => <li key={i}>{d}</li>)}</ul>}
              </div>
              <button type="button" aria-label="Dismiss" className="text-slate-400 hover:text-slate-700" onClick={() => setNotice(null)}>
                <Icon name="close" className="h-4 w-4" />
              </button>
            </div>
          )}
          {warnings.length > 0 && (
            <details className="text-amber-800">
              <summary className="flex cursor-pointer items-center gap-1.5">
                <Icon name="warning" className="h-4 w-4 shrink-0" />
                {warnings.length} {warnings.length === 1 ? "warning" : "warnings"} about what its first customers will meet
              </summary>
              <ul className="mt-1 max-h-32 list-disc space-y-0.5 overflow-y-auto pl-10 text-xs">
                {warnings.map((w, i) => <li key={i}><span className="font-medium">{w.node_id}</span>: {w.message}</li>)}
              </ul>
            </details>
          )}
        </div>
      )}
      <div className="flex min-h-0 flex-1">
        {!readOnly && !change && <Palette types={types} onAdd={addInView}
          disabledReason={(t) => (hasEntry ? additionProblem(t, store.getState().nodes, byType) : null)} />}
        {change ? (
          <div className="flex min-w-0 flex-1 flex-col bg-slate-50" data-testid="ai-diff">
            <div className="flex flex-wrap items-center gap-x-6 gap-y-1 border-b border-amber-200 bg-amber-50 px-4 py-2">
              <p className="text-xs font-semibold text-amber-900">The designer’s proposal, not applied yet: the draft is unchanged until you apply it.</p>
              <DiffLegend className="ml-auto" />
            </div>
            <div className="relative min-h-0 flex-1">
              <DiffCanvas change={change} selectedId={aiSelected} onSelect={setAiSelected} />
            </div>
          </div>
        ) : (
          <Canvas types={byType} readOnly={readOnly} onRefused={refused} />
        )}
        {aiOpen && !readOnly ? (
          <AiPanel designer={{ ...designer, send: sendToDesigner }} change={change} selectedId={aiSelected} onApply={applyProposal} />
        ) : (
          <PropertiesPanel types={byType} pickers={pickers} journeyProblems={journeyProblems} readOnly={readOnly} />
        )}
      </div>
    </div>
  );
}

/** saveFailed stops an activation whose save failed. */
const saveFailed = new Error("the draft could not be saved");

/** restOf keeps what the canvas does not edit: exit criteria, frequency caps. */
function restOf(g: Graph | null): Partial<Graph> {
  if (!g) return {};
  const rest: Partial<Graph> = {};
  if (g.exit_criteria) rest.exit_criteria = g.exit_criteria;
  if (g.frequency_cap) rest.frequency_cap = g.frequency_cap;
  return rest;
}

/** sentence starts a message with a capital letter. */
function sentence(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
