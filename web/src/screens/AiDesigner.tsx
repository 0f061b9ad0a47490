// The AI designer beside a canvas: /journeys/:id/design refines a journey,
// /design drafts a new one. The canvas shows the journey as it is, then the
// designer's proposal as a change of it; Apply saves the proposal as the
// journey's draft (or a new draft journey) and opens it in the editor.
import { useMemo, useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import { keys } from "../api/queries";
import { AiPanel } from "../ai/AiPanel";
import { DiffCanvas, DiffLegend } from "../ai/DiffCanvas";
import { diffGraphs } from "../ai/diff";
import { useDesigner } from "../ai/useDesigner";
import type { ScreenProps } from "../routes";
import { Link, navigate } from "../router";
import { Icon } from "../shell/Icon";
import { StatusBadge } from "../ui/StatusBadge";
import { ErrorNote } from "./Journeys";

export default function AiDesignerScreen({ params }: ScreenProps) {
  const id = params.id;
  const journey = useQuery({
    queryKey: keys.journey(id ?? ""),
    enabled: !!id,
    queryFn: () => unwrap(api.GET("/api/v1/journeys/{id}", { params: { path: { id: id! } } })),
  });
  const current = id ? journey.data?.graph ?? null : null;
  const designer = useDesigner(id);
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const qc = useQueryClient();

  const proposal = designer.design?.graph ?? null;
  const change = useMemo(() => (proposal ? diffGraphs(current, proposal) : null), [current, proposal]);
  const shown = useMemo(() => change ?? (current ? diffGraphs(null, current) : null), [change, current]);
  // Without a proposal the journey is shown as it is: nothing is "added".
  const plain = useMemo(() => shown && !change
    ? { ...shown, nodes: shown.nodes.map((n) => ({ ...n, change: "same" as const })), edges: shown.edges.map((e) => ({ ...e, change: "same" as const })) }
    : shown, [shown, change]);

  const apply = useMutation({
    mutationFn: () => designer.apply({ name: id ? undefined : nameFrom(designer.source) }),
    onSuccess: (j) => {
      designer.applied();
      qc.invalidateQueries({ queryKey: ["journeys"] });
      qc.invalidateQueries({ queryKey: ["journey", j.id] });
      navigate(`/journeys/${encodeURIComponent(j.id)}`);
    },
  });

  return (
    <div className="flex h-full min-h-0 flex-col">
      <header className="flex items-center gap-3 border-b border-slate-200 bg-white px-5 py-3">
        <Link href={id ? `/journeys/${encodeURIComponent(id)}` : "/journeys"} aria-label="Back"
          className="rounded p-1 text-slate-500 hover:bg-slate-100 hover:text-slate-900">
          <Icon name="back" className="h-4 w-4" />
        </Link>
        <div className="min-w-0">
          <h1 className="truncate text-base font-semibold text-slate-900">
            {id ? journey.data?.name ?? "…" : "New journey with the AI designer"}
          </h1>
          <p className="text-xs text-slate-500">
            {id ? "Ask for changes; the canvas shows them before you apply." : "Describe it; apply saves it as a new draft journey."}
          </p>
        </div>
        {journey.data && <StatusBadge status={journey.data.status} />}
        {change && <DiffLegend className="ml-auto" />}
      </header>
      {journey.isError && <div className="px-5"><ErrorNote error={journey.error} /></div>}
      <div className="flex min-h-0 flex-1">
        <div className="relative min-w-0 flex-1 bg-slate-50" data-testid="ai-canvas">
          {plain && plain.nodes.length > 0 ? (
            <DiffCanvas change={plain} selectedId={selectedId} onSelect={setSelectedId} />
          ) : (
            <div className="flex h-full items-center justify-center p-10 text-center text-sm text-slate-500">
              {designer.busy ? "The designer is working…" : "Nothing on the canvas yet: describe the journey in the panel on the right."}
            </div>
          )}
        </div>
        <AiPanel designer={designer} change={change} selectedId={selectedId} onApply={() => apply.mutate()}
          applying={apply.isPending} applyError={apply.error} />
      </div>
    </div>
  );
}

/** nameFrom makes a journey name of the description's first clause. */
export function nameFrom(text: string): string {
  const clause = text.trim().split(/[.,;:\n]/)[0]!.trim();
  const name = clause.length > 60 ? clause.slice(0, 60).trimEnd() + "…" : clause;
  return name ? name[0]!.toUpperCase() + name.slice(1) : "Designed journey";
}
