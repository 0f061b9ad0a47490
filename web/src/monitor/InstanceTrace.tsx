// One customer's instance: status, version and nodes, pause / resume /
// exit, and the trace timeline (steps, sends, and version transitions made
// by migrations), refreshed while the instance runs.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import type { Instance } from "../api/types";
import { Button } from "../ui/Button";
import { POLL_MS } from "./counts";
import { buildTrace, stepTitle, type TraceEntry } from "./trace";

const statusLook: Record<Instance["status"], string> = {
  active: "bg-emerald-50 text-emerald-700 ring-emerald-200",
  paused: "bg-amber-50 text-amber-800 ring-amber-200",
  completed: "bg-slate-100 text-slate-600 ring-slate-200",
  exited: "bg-slate-100 text-slate-600 ring-slate-200",
  failed: "bg-rose-50 text-rose-700 ring-rose-200",
};

export function InstanceStatusBadge({ status }: { status: Instance["status"] }) {
  return <span className={`rounded-full px-2 py-0.5 text-xs font-medium ring-1 ${statusLook[status]}`}>{status}</span>;
}

function time(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

export function InstanceTrace({ instanceId, onBack }: { instanceId: string; onBack: () => void }) {
  const qc = useQueryClient();
  const detail = useQuery({
    queryKey: ["instance", instanceId],
    queryFn: () => unwrap(api.GET("/api/v1/instances/{id}", { params: { path: { id: instanceId } } })),
    refetchInterval: (q) => (q.state.data && ["completed", "exited", "failed"].includes(q.state.data.status) ? false : POLL_MS),
  });
  const control = useMutation({
    mutationFn: (cmd: "pause" | "resume" | "exit") => {
      const opts = { params: { path: { id: instanceId } }, body: {} };
      if (cmd === "pause") return unwrap(api.POST("/api/v1/instances/{id}/pause", opts));
      if (cmd === "resume") return unwrap(api.POST("/api/v1/instances/{id}/resume", opts));
      return unwrap(api.POST("/api/v1/instances/{id}/exit", opts));
    },
    onSettled: () => {
      qc.invalidateQueries({ queryKey: ["instance", instanceId] });
      qc.invalidateQueries({ queryKey: ["journey"] });
    },
  });
  const d = detail.data;
  return (
    <div className="flex min-h-0 flex-1 flex-col" data-testid="instance-trace">
      <div className="border-b border-slate-200 px-4 py-3">
        <button type="button" onClick={onBack} className="text-xs font-medium text-indigo-700 hover:underline">← Back</button>
        {!d ? (
          <p className="mt-2 text-sm text-slate-500">{detail.isError ? detail.error.message : "Loading…"}</p>
        ) : (
          <>
            <div className="mt-1 flex items-center gap-2">
              <h3 className="truncate text-base font-semibold text-slate-900">{d.customer_id}</h3>
              <InstanceStatusBadge status={d.status} />
            </div>
            <p className="mt-0.5 text-xs text-slate-500">
              version {d.version} · {d.nodes.length ? `at ${d.nodes.join(", ")}` : "at no node"} · since {time(d.created_at)}
            </p>
            {d.reason && <p className="mt-1 text-xs text-slate-600">{d.reason}</p>}
            {(d.status === "active" || d.status === "paused") && (
              <div className="mt-2 flex gap-2">
                {d.status === "active" && <Button className="!py-1 !text-xs" onClick={() => control.mutate("pause")} disabled={control.isPending}>Pause</Button>}
                {d.status === "paused" && <Button className="!py-1 !text-xs" onClick={() => control.mutate("resume")} disabled={control.isPending}>Resume</Button>}
                <Button variant="danger" className="!py-1 !text-xs" disabled={control.isPending}
                  onClick={() => window.confirm(`Take ${d.customer_id} out of the journey?`) && control.mutate("exit")}>Exit</Button>
              </div>
            )}
            {control.isError && <p role="alert" className="mt-1 text-xs text-red-700">{control.error.message}</p>}
          </>
        )}
      </div>
      {d && (
        <ol className="min-h-0 flex-1 overflow-y-auto px-4 py-3" data-testid="trace-timeline">
          {buildTrace(d.steps, d.sends).map((e, i) => <TraceLine key={i} e={e} />)}
        </ol>
      )}
    </div>
  );
}

function TraceLine({ e }: { e: TraceEntry }) {
  const dot = e.kind === "migration" ? "bg-violet-500" : e.kind === "send" ? "bg-sky-500"
    : e.step.result === "failed" ? "bg-rose-500" : e.step.result === "waiting" ? "bg-amber-400" : "bg-slate-400";
  return (
    <li className="relative border-l border-slate-200 pb-3 pl-4 last:pb-0" data-kind={e.kind}>
      <span className={`absolute top-1.5 -left-[5px] h-2.5 w-2.5 rounded-full ring-2 ring-white ${dot}`} />
      <div className="flex items-baseline justify-between gap-2">
        <span className={`text-sm ${e.kind === "migration" ? "font-semibold text-violet-800" : "text-slate-800"}`}>
          {e.kind === "send" ? `${e.send.channel.charAt(0).toUpperCase()}${e.send.channel.slice(1)} send at ${e.send.node_id}` : stepTitle(e.step)}
        </span>
        <time className="shrink-0 text-[11px] text-slate-400 tabular-nums" dateTime={e.at}>{time(e.at)}</time>
      </div>
      {e.kind === "send" ? (
        <p className="text-xs text-slate-500"><span className={e.send.status === "failed" ? "font-medium text-rose-700" : "font-medium text-slate-700"}>{e.send.status}</span>{e.send.delivery ? ` · ${e.send.delivery}` : ""}{e.send.detail ? ` · ${e.send.detail}` : ""}</p>
      ) : (
        <p className="text-xs text-slate-500">
          {e.kind === "migration" && e.fromVersion !== null && e.fromVersion !== e.toVersion && (
            <span className="mr-1 rounded bg-violet-100 px-1.5 font-medium text-violet-800">v{e.fromVersion} → v{e.toVersion}</span>
          )}
          {e.step.detail}
        </p>
      )}
    </li>
  );
}
