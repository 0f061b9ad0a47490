// The editor as a component another app can render: one journey of a
// Kalcifer server (any origin the server allows with KALCIFER_CORS_ORIGINS),
// called with the token given, without the app's login, navigation or
// screens. readOnly shows the journey on a canvas without editing.
import { lazy, Suspense, useMemo, useState } from "react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { configureApi } from "../api/client";
import { useJourney } from "../api/queries";
import { DiffCanvas } from "../ai/DiffCanvas";
import { diffGraphs } from "../ai/diff";
import { EmbeddedContext } from "../ui/JourneyTabs";
import { PortalContainerContext } from "../ui/portal";
import { StatusBadge } from "../ui/StatusBadge";
import { ErrorNote } from "../screens/Journeys";

const EditorScreen = lazy(() => import("../screens/Editor"));

/** What an embedded editor needs. */
export type KalciferEditorProps = {
  /** The Kalcifer server's base URL, e.g. https://kalcifer.example.com (no /api/v1). */
  apiUrl: string;
  /** The journey to open. */
  journeyId: string;
  /** An API key (or a JWT the server accepts) of the journey's tenant: editor or admin to edit, viewer to look. */
  token: string;
  /** Show the journey without editing it. */
  readOnly?: boolean;
  /** Where dialogs and menus are portalled (the custom element passes one inside its shadow root). */
  portalContainer?: HTMLElement | null;
};

/**
 * KalciferEditor renders one journey of a Kalcifer server. Every API call
 * goes to apiUrl with token; one page talks to one server (the API target
 * is shared by every editor on the page).
 */
export function KalciferEditor({ apiUrl, journeyId, token, readOnly, portalContainer }: KalciferEditorProps) {
  // Configured while rendering, before any child's query runs.
  useMemo(() => configureApi({ baseUrl: apiUrl, token }), [apiUrl, token]);
  const [client] = useState(() => new QueryClient({
    defaultOptions: { queries: { retry: false, refetchOnWindowFocus: false } },
  }));
  return (
    <QueryClientProvider client={client}>
      <PortalContainerContext value={portalContainer ?? null}>
        <div className="flex h-full min-h-0 flex-col bg-slate-50 font-sans text-slate-900 antialiased">
          <EmbeddedJourney key={`${apiUrl} ${journeyId} ${token}`} journeyId={journeyId} readOnly={!!readOnly} />
        </div>
      </PortalContainerContext>
    </QueryClientProvider>
  );
}

function EmbeddedJourney({ journeyId, readOnly }: { journeyId: string; readOnly: boolean }) {
  const journey = useJourney(journeyId);
  const graph = journey.data?.graph;
  const plain = useMemo(() => (graph ? diffGraphs(graph, graph) : null), [graph]);
  const [selected, setSelected] = useState<string | null>(null);
  if (journey.isError) return <div className="p-4"><ErrorNote error={journey.error} /></div>;
  if (!journey.data) return <div className="p-4 text-sm text-slate-500">Loading the journey…</div>;
  return (
    <>
      <header className="flex items-center gap-3 border-b border-slate-200 bg-white px-4 py-2.5">
        <h2 className="truncate text-sm font-semibold text-slate-900">{journey.data.name}</h2>
        <StatusBadge status={journey.data.status} />
        {journey.data.current_version > 0 && <span className="text-xs text-slate-500">version {journey.data.current_version}</span>}
      </header>
      <div className="relative min-h-0 flex-1">
        {readOnly ? (
          plain && plain.nodes.length > 0
            ? <DiffCanvas change={plain} selectedId={selected} onSelect={setSelected} />
            : <p className="p-6 text-sm text-slate-500">This journey has no nodes yet.</p>
        ) : (
          <Suspense fallback={<p className="p-6 text-sm text-slate-500">Loading the editor…</p>}>
            <EmbeddedContext value={true}>
              <EditorScreen params={{ id: journeyId }} />
            </EmbeddedContext>
          </Suspense>
        )}
      </div>
    </>
  );
}
