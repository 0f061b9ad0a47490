import type { JourneyStatus } from "../api/types";

const colors: Record<JourneyStatus, string> = {
  draft: "bg-slate-100 text-slate-700 ring-slate-300",
  active: "bg-emerald-50 text-emerald-700 ring-emerald-300",
  paused: "bg-amber-50 text-amber-800 ring-amber-300",
  archived: "bg-zinc-100 text-zinc-500 ring-zinc-300",
};

export function StatusBadge({ status }: { status: JourneyStatus }) {
  return (
    <span className={`inline-flex items-center gap-1 rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset ${colors[status]}`}>
      {status === "active" && <span className="h-1.5 w-1.5 rounded-full bg-emerald-500" aria-hidden="true" />}
      {status}
    </span>
  );
}
