// A journey's migrations: the list, and the selected one's progress with
// pause / resume / abort / raise rollout, and the customers it holds for
// review with their release. Polled while the migration is under way.
import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import { Button } from "../ui/Button";
import { commands, done, finished, type Migration, type MigrationStatus } from "./migration";

const statusLook: Record<MigrationStatus, string> = {
  running: "bg-sky-50 text-sky-700 ring-sky-200",
  paused: "bg-amber-50 text-amber-800 ring-amber-200",
  partial: "bg-violet-50 text-violet-700 ring-violet-200",
  completed: "bg-emerald-50 text-emerald-700 ring-emerald-200",
  aborting: "bg-rose-50 text-rose-700 ring-rose-200",
  aborted: "bg-slate-100 text-slate-600 ring-slate-200",
};

export function MigrationStatusBadge({ status }: { status: MigrationStatus }) {
  return <span data-testid="migration-status" className={`rounded-full px-2 py-0.5 text-xs font-medium ring-1 ${statusLook[status]}`}>{status}</span>;
}

const strategyWords = { migrate_all: "everyone", gradual: "gradual", new_entries_only: "new entries only" };

/** useMigrations lists a journey's migrations, newest first. */
export function useMigrations(journeyId: string) {
  return useQuery({
    queryKey: ["migrations", journeyId],
    queryFn: () => unwrap(api.GET("/api/v1/journeys/{id}/migrations", { params: { path: { id: journeyId }, query: { limit: 20 } } })),
    refetchInterval: (q) => (q.state.data?.data.some((m) => !finished(m.status)) ? 2000 : false),
  });
}

export function MigrationList({ migrations, selected, onSelect }: {
  migrations: Migration[];
  selected: string | null;
  onSelect: (id: string) => void;
}) {
  if (migrations.length === 0) return <p className="px-1 text-sm text-slate-500">No migration yet: publishing a version starts one.</p>;
  return (
    <ul className="space-y-1">
      {migrations.map((m) => (
        <li key={m.id}>
          <button type="button" onClick={() => onSelect(m.id)}
            className={`flex w-full items-center justify-between gap-2 rounded-md px-2 py-1.5 text-left text-sm ${
              m.id === selected ? "bg-indigo-50 text-indigo-900" : "hover:bg-slate-100"}`}>
            <span className="font-medium">v{m.from_version} → v{m.to_version}{m.rollback ? " (rollback)" : ""}</span>
            <MigrationStatusBadge status={m.status} />
          </button>
        </li>
      ))}
    </ul>
  );
}

export function MigrationDetail({ journeyId, migrationId }: { journeyId: string; migrationId: string }) {
  const qc = useQueryClient();
  const [percent, setPercent] = useState(50);
  const detail = useQuery({
    queryKey: ["migration", migrationId],
    queryFn: () => unwrap(api.GET("/api/v1/migrations/{id}", { params: { path: { id: migrationId } } })),
    refetchInterval: (q) => (q.state.data && finished(q.state.data.status) ? false : 1500),
  });
  const refresh = () => {
    qc.invalidateQueries({ queryKey: ["migration", migrationId] });
    qc.invalidateQueries({ queryKey: ["migrations", journeyId] });
    qc.invalidateQueries({ queryKey: ["held", migrationId] });
  };
  const control = useMutation({
    mutationFn: async (cmd: "pause" | "resume" | "abort" | "rollout") => {
      const path = { params: { path: { id: migrationId } } };
      switch (cmd) {
        case "pause":
          return unwrap(api.POST("/api/v1/migrations/{id}/pause", { ...path, body: {} }));
        case "resume":
          return unwrap(api.POST("/api/v1/migrations/{id}/resume", { ...path, body: {} }));
        case "abort":
          return unwrap(api.POST("/api/v1/migrations/{id}/abort", { ...path, body: {} }));
        case "rollout":
          return unwrap(api.POST("/api/v1/migrations/{id}/rollout", { ...path, body: { rollout_percent: percent } }));
      }
    },
    onSettled: refresh,
  });

  const m = detail.data;
  if (!m) return <p className="text-sm text-slate-500">{detail.isError ? detail.error.message : "Loading…"}</p>;
  const p = m.progress;
  const share = done(m);
  const can = commands(m);
  const rollout = m.config?.rollout_percent;
  const counts: [string, number | undefined][] = [
    ["Moved", p.migrated], ["Held", p.held], ["Exited", p.exited], ["Failed", p.failed],
    ["Not selected", p.not_selected], ["Restored", p.restored],
  ];
  return (
    <div className="space-y-3" data-testid="migration-detail">
      <div className="flex items-center justify-between">
        <div className="text-sm">
          <span className="font-semibold text-slate-900">v{m.from_version} → v{m.to_version}</span>
          <span className="text-slate-500"> · {strategyWords[m.strategy]}{m.strategy === "gradual" ? ` ${rollout ?? "?"} %` : ""}</span>
        </div>
        <MigrationStatusBadge status={m.status} />
      </div>
      <div>
        <div className="h-2 overflow-hidden rounded-full bg-slate-100" role="progressbar" aria-label="Migration progress"
          aria-valuenow={Math.round(share * 100)} aria-valuemin={0} aria-valuemax={100}>
          <div className={`h-full rounded-full ${m.status === "completed" ? "bg-emerald-500" : m.status === "aborted" ? "bg-slate-400" : "bg-indigo-500"}`}
            style={{ width: `${share * 100}%` }} />
        </div>
        <div className="mt-1 flex justify-between text-xs text-slate-500">
          <span>{Math.round(share * 100)} % of {p.total ?? 0} customer{p.total === 1 ? "" : "s"}</span>
          <span>{p.batches ?? 0} batch{p.batches === 1 ? "" : "es"}</span>
        </div>
      </div>
      <dl className="grid grid-cols-3 gap-2">
        {counts.map(([label, n]) => (
          <div key={label} className="rounded-md bg-slate-50 px-2 py-1.5">
            <dt className="text-[11px] text-slate-500">{label}</dt>
            <dd className="text-sm font-semibold text-slate-900 tabular-nums" data-testid={`migration-${label.toLowerCase().replace(" ", "-")}`}>{n ?? 0}</dd>
          </div>
        ))}
      </dl>
      {batchErrors(m.batches).length > 0 && (
        <details className="rounded-md bg-rose-50 px-2 py-1.5 text-xs text-rose-900">
          <summary className="cursor-pointer font-medium">Errors in batches</summary>
          <ul className="mt-1 list-disc space-y-0.5 pl-4">
            {batchErrors(m.batches).map((e, i) => <li key={i}>{e}</li>)}
          </ul>
        </details>
      )}
      {m.reason && <p className="rounded-md bg-amber-50 px-2 py-1.5 text-xs text-amber-900">{m.reason}</p>}
      {can.length > 0 && (
        <div className="flex flex-wrap items-center gap-2">
          {can.includes("pause") && <Button onClick={() => control.mutate("pause")} disabled={control.isPending}>Pause</Button>}
          {can.includes("resume") && <Button onClick={() => control.mutate("resume")} disabled={control.isPending}>Resume</Button>}
          {can.includes("rollout") && (
            <span className="flex items-center gap-1">
              <input type="number" min={(rollout ?? 0) + 1} max={100} value={percent} aria-label="New rollout percent"
                onChange={(e) => setPercent(Number(e.target.value))}
                className="w-16 rounded-md border border-slate-300 px-2 py-1 text-sm" />
              <Button onClick={() => control.mutate("rollout")} disabled={control.isPending}>Raise rollout</Button>
            </span>
          )}
          {can.includes("abort") && (
            <Button variant="danger" onClick={() => {
              if (window.confirm("Abort the migration? Customers it moved go back to their old version and node.")) control.mutate("abort");
            }} disabled={control.isPending}>Abort</Button>
          )}
        </div>
      )}
      {control.isError && <p role="alert" className="text-xs text-red-700">{control.error.message}</p>}
      {(p.held ?? 0) > 0 && <HeldCustomers migrationId={m.id} onReleased={refresh} />}
    </div>
  );
}

/** batchErrors lists the errors of a migration's batches, at most 20. */
function batchErrors(batches: { seq?: number; errors?: string[] }[] | undefined): string[] {
  return (batches ?? []).flatMap((b) => (b.errors ?? []).map((e) => `batch ${b.seq ?? "?"}: ${e}`)).slice(0, 20);
}

function HeldCustomers({ migrationId, onReleased }: { migrationId: string; onReleased: () => void }) {
  const [policy, setPolicy] = useState<"skip_to_next_mapped" | "exit">("skip_to_next_mapped");
  const held = useQuery({
    queryKey: ["held", migrationId],
    queryFn: () => unwrap(api.GET("/api/v1/migrations/{id}/held", { params: { path: { id: migrationId }, query: { limit: 50 } } })),
    refetchInterval: 3000,
  });
  const release = useMutation({
    mutationFn: (ids: string[]) => unwrap(api.POST("/api/v1/migrations/{id}/release", {
      params: { path: { id: migrationId } }, body: { instance_ids: ids, removed_node_policy: policy },
    })),
    onSuccess: onReleased,
  });
  const list = held.data?.data ?? [];
  return (
    <section className="rounded-md border border-amber-200 bg-amber-50/50 p-2" data-testid="held">
      <div className="flex items-center justify-between gap-2">
        <h4 className="text-sm font-semibold text-amber-900">Held for review</h4>
        <select value={policy} onChange={(e) => setPolicy(e.target.value as typeof policy)} aria-label="Release policy"
          className="rounded border border-amber-300 bg-white px-1 py-0.5 text-xs">
          <option value="skip_to_next_mapped">release: next mapped node</option>
          <option value="exit">release: exit</option>
        </select>
      </div>
      <ul className="mt-2 max-h-40 space-y-1 overflow-y-auto">
        {list.map((i) => (
          <li key={i.id} className="flex items-center justify-between gap-2 text-xs">
            <span className="truncate"><span className="font-medium">{i.customer_id}</span> at {i.nodes.join(", ") || "—"}</span>
            <Button variant="ghost" className="!px-2 !py-0.5 !text-xs" onClick={() => release.mutate([i.id])}>Release</Button>
          </li>
        ))}
      </ul>
      {list.length > 1 && <Button className="mt-2 w-full" onClick={() => release.mutate([])} disabled={release.isPending}>Release all</Button>}
      {release.data && (
        <p className="mt-1 text-xs text-slate-600">Moved {release.data.migrated ?? 0}, exited {release.data.exited ?? 0}
          {(release.data.failed?.length ?? 0) > 0 ? `, ${release.data.failed!.length} failed: ${release.data.failed!.map((f) => f.error).join("; ")}` : ""}.</p>
      )}
      {release.isError && <p role="alert" className="mt-1 text-xs text-red-700">{release.error.message}</p>}
    </section>
  );
}
