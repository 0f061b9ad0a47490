// The publish dialog: strategy, rollout percent and removed-node policy;
// the node mapping the API proposes (a dry-run publish answers it with its
// confidence and the customers at each old node), editable row by row;
// then the publish itself. Rollback uses the same dialog and route shape.
import * as RadixDialog from "@radix-ui/react-dialog";
import { useEffect, useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, ApiError, unwrap } from "../api/client";
import type { components } from "../api/schema";
import type { Graph } from "../api/types";
import { Button } from "../ui/Button";
import { usePortalContainer } from "../ui/portal";
import {
  confidenceLevel, isEdited, mappingRows, overrides, setTarget, stranded, targetOptions,
  type MappingRow, type PublishPlan,
} from "./mapping";

type PublishRequest = components["schemas"]["PublishRequest"];
type Strategy = NonNullable<PublishRequest["migration_strategy"]>;
type Policy = NonNullable<NonNullable<PublishRequest["migration_config"]>["removed_node_policy"]>;

const strategies: { value: Strategy; title: string; help: string }[] = [
  { value: "migrate_all", title: "Move everyone", help: "Every customer in the journey continues on the new version." },
  { value: "gradual", title: "Gradual rollout", help: "A share of customers moves now; raise it later." },
  { value: "new_entries_only", title: "New entries only", help: "Customers in the journey finish on their version." },
];

const policies: { value: Policy; title: string }[] = [
  { value: "skip_to_next_mapped", title: "Skip to the next mapped node" },
  { value: "exit", title: "Exit the journey" },
  { value: "hold", title: "Hold for review" },
];

const levelLook = {
  exact: "bg-emerald-50 text-emerald-700 ring-emerald-200",
  likely: "bg-sky-50 text-sky-700 ring-sky-200",
  guess: "bg-amber-50 text-amber-800 ring-amber-200",
  none: "bg-rose-50 text-rose-700 ring-rose-200",
};

export function PublishDialog({ journeyId, version, fromGraph, toGraph, rollback, open, onOpenChange, onPublished }: {
  journeyId: string;
  version: number;
  /** The live version's graph (the old one), and the graph being published. */
  fromGraph: Graph | null | undefined;
  toGraph: Graph | null | undefined;
  rollback: boolean;
  open: boolean;
  onOpenChange: (open: boolean) => void;
  onPublished: (migrationId: string | undefined) => void;
}) {
  const qc = useQueryClient();
  const [strategy, setStrategy] = useState<Strategy>("migrate_all");
  const [percent, setPercent] = useState(10);
  const [policy, setPolicy] = useState<Policy>("skip_to_next_mapped");
  const [rows, setRows] = useState<MappingRow[]>([]);
  const path = rollback ? "/api/v1/journeys/{id}/versions/{v}/rollback" as const : "/api/v1/journeys/{id}/versions/{v}/publish" as const;

  const body = (dryRun: boolean): PublishRequest => ({
    migration_strategy: strategy,
    migration_config: {
      rollout_percent: strategy === "gradual" ? percent : undefined,
      removed_node_policy: policy,
      failure_threshold: 0.05, // the API's documented default
    },
    node_mapping: dryRun ? undefined : overrides(rows),
    dry_run: dryRun,
  });

  // The proposal: a dry run, asked once per opening.
  const plan = useQuery({
    queryKey: ["publish-plan", journeyId, version, rollback],
    enabled: open,
    gcTime: 0,
    queryFn: () => unwrap(api.POST(path, { params: { path: { id: journeyId, v: version } },
      body: { migration_strategy: "migrate_all", dry_run: true } })) as Promise<PublishPlan>,
  });
  useEffect(() => {
    if (plan.data) setRows(mappingRows(plan.data, fromGraph));
  }, [plan.data, fromGraph]);

  const publish = useMutation({
    mutationFn: () => unwrap(api.POST(path, { params: { path: { id: journeyId, v: version } }, body: body(false) })) as Promise<PublishPlan>,
    onSuccess: (res) => {
      qc.invalidateQueries({ queryKey: ["journey", journeyId] });
      qc.invalidateQueries({ queryKey: ["versions", journeyId] });
      qc.invalidateQueries({ queryKey: ["migrations", journeyId] });
      onPublished(res.migration?.id);
      onOpenChange(false);
    },
  });

  const portal = usePortalContainer();
  const lost = stranded(rows);
  const edited = rows.filter(isEdited).length;
  const warnings = plan.data?.warnings ?? [];
  return (
    <RadixDialog.Root open={open} onOpenChange={(o) => { if (!o) publish.reset(); onOpenChange(o); }}>
      <RadixDialog.Portal container={portal}>
        <RadixDialog.Overlay className="fixed inset-0 z-40 bg-slate-900/40" />
        <RadixDialog.Content data-testid="publish-dialog"
          className="fixed top-1/2 left-1/2 z-50 flex max-h-[calc(100vh-3rem)] w-[min(52rem,calc(100vw-2rem))] -translate-x-1/2 -translate-y-1/2 flex-col rounded-xl bg-white shadow-2xl focus:outline-none">
          <div className="border-b border-slate-200 px-6 py-4">
            <RadixDialog.Title className="text-lg font-semibold text-slate-900">
              {rollback ? `Roll back to version ${version}` : `Publish version ${version}`}
            </RadixDialog.Title>
            <RadixDialog.Description className="mt-0.5 text-sm text-slate-500">
              {plan.data?.from_version ? `Customers now on version ${plan.data.from_version} can move to version ${version}.` : "New customers will enter this version."}
            </RadixDialog.Description>
          </div>

          <div className="min-h-0 flex-1 space-y-5 overflow-y-auto px-6 py-4">
            <fieldset>
              <legend className="text-sm font-semibold text-slate-900">Customers already in the journey</legend>
              <div className="mt-2 grid grid-cols-3 gap-2">
                {strategies.map((s) => (
                  <label key={s.value} className={`cursor-pointer rounded-lg border p-3 text-sm ${
                    strategy === s.value ? "border-indigo-500 bg-indigo-50/60 ring-1 ring-indigo-500" : "border-slate-200 hover:border-slate-300"}`}>
                    <span className="flex items-center gap-2 font-medium text-slate-900">
                      <input type="radio" name="strategy" value={s.value} checked={strategy === s.value}
                        onChange={() => setStrategy(s.value)} className="accent-indigo-600" />
                      {s.title}
                    </span>
                    <span className="mt-1 block text-xs text-slate-500">{s.help}</span>
                  </label>
                ))}
              </div>
            </fieldset>

            <div className="flex flex-wrap items-end gap-6">
              {strategy === "gradual" && (
                <label className="text-sm">
                  <span className="block font-medium text-slate-700">Rollout</span>
                  <span className="mt-1 flex items-center gap-2">
                    <input type="number" min={1} max={100} value={percent} aria-label="Rollout percent"
                      onChange={(e) => setPercent(Math.max(1, Math.min(100, Number(e.target.value) || 1)))}
                      className="w-20 rounded-md border border-slate-300 px-2 py-1.5 text-sm" />
                    <span className="text-slate-500">% of customers now</span>
                  </span>
                </label>
              )}
              {strategy !== "new_entries_only" && (
                <label className="text-sm">
                  <span className="block font-medium text-slate-700">Customers at a removed node</span>
                  <select value={policy} onChange={(e) => setPolicy(e.target.value as Policy)} aria-label="Removed-node policy"
                    className="mt-1 rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm">
                    {policies.map((p) => <option key={p.value} value={p.value}>{p.title}</option>)}
                  </select>
                </label>
              )}
            </div>

            {strategy !== "new_entries_only" && (
              <section>
                <div className="flex items-baseline justify-between">
                  <h3 className="text-sm font-semibold text-slate-900">Where customers continue</h3>
                  <span className="text-xs text-slate-500">
                    {edited > 0 ? `${edited} changed by you · ` : ""}proposed by Kalcifer; change any row
                  </span>
                </div>
                {plan.isPending && <p className="mt-3 text-sm text-slate-500">Working out the mapping…</p>}
                {plan.isError && <p role="alert" className="mt-3 text-sm text-red-700">{plan.error.message}</p>}
                {rows.length > 0 && (
                  <table className="mt-2 w-full text-sm" data-testid="mapping-table">
                    <thead className="text-left text-xs font-semibold tracking-wide text-slate-500 uppercase">
                      <tr className="border-b border-slate-200">
                        <th className="py-2 pr-3">Old node</th>
                        <th className="w-32 py-2 pr-3 text-right whitespace-nowrap">Customers now</th>
                        <th className="py-2 pr-3">New node</th>
                        <th className="w-36 py-2">Confidence</th>
                      </tr>
                    </thead>
                    <tbody className="divide-y divide-slate-100">
                      {rows.map((r) => {
                        const level = r.to === "" ? "none" : isEdited(r) ? "none" : confidenceLevel(r.confidence);
                        return (
                          <tr key={r.from} data-testid={`mapping-${r.from}`}>
                            <td className="py-2 pr-3">
                              <div className="font-medium text-slate-900">{r.from}</div>
                              <div className="text-xs text-slate-500">{r.fromType}</div>
                            </td>
                            <td className="py-2 pr-3 text-right tabular-nums">{r.customers}</td>
                            <td className="py-2 pr-3">
                              <select value={r.to} aria-label={`New node for ${r.from}`}
                                onChange={(e) => setRows(setTarget(rows, r.from, e.target.value))}
                                className="w-full rounded-md border border-slate-300 bg-white px-2 py-1 text-sm">
                                <option value="">— not mapped —</option>
                                {targetOptions(r, toGraph).map((n) => (
                                  <option key={n.id} value={n.id}>{n.id} ({n.type})</option>
                                ))}
                              </select>
                            </td>
                            <td className="py-2">
                              {isEdited(r) ? (
                                <span className="rounded-full bg-indigo-50 px-2 py-0.5 text-xs font-medium text-indigo-700 ring-1 ring-indigo-200">your choice</span>
                              ) : (
                                <span className={`rounded-full px-2 py-0.5 text-xs font-medium ring-1 ${levelLook[level]}`}>
                                  {r.to === "" ? "unmapped" : `${level} · ${Math.round((r.confidence ?? 0) * 100)}%`}
                                </span>
                              )}
                            </td>
                          </tr>
                        );
                      })}
                    </tbody>
                  </table>
                )}
                {lost > 0 && (
                  <p className="mt-3 rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900">
                    {lost} customer{lost === 1 ? " is" : "s are"} at a node without a counterpart:
                    they will {policy === "exit" ? "exit the journey" : policy === "hold" ? "be held for your review" : "skip to the next mapped node"}.
                  </p>
                )}
              </section>
            )}

            {warnings.length > 0 && (
              <details className="rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900">
                <summary className="cursor-pointer font-medium">
                  {warnings.length} warning{warnings.length === 1 ? "" : "s"} about version {version}
                </summary>
                <ul className="mt-1 space-y-1">
                  {warnings.map((w, i) => <li key={i}><span className="font-medium">{w.node_id}</span>: {w.message}</li>)}
                </ul>
              </details>
            )}
            {publish.isError && (
              <p role="alert" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-800">
                {publish.error.message}
                {publish.error instanceof ApiError && publish.error.details.length > 0 &&
                  `: ${publish.error.details.map((d) => d.message).join("; ")}`}
              </p>
            )}
          </div>

          <div className="flex justify-end gap-2 border-t border-slate-200 px-6 py-3">
            <Button onClick={() => onOpenChange(false)}>Cancel</Button>
            <Button variant="primary" disabled={publish.isPending || plan.isPending} onClick={() => publish.mutate()}>
              {publish.isPending ? "Publishing…" : rollback ? `Roll back to v${version}` : `Publish v${version}`}
            </Button>
          </div>
        </RadixDialog.Content>
      </RadixDialog.Portal>
    </RadixDialog.Root>
  );
}
