// The header of a journey's screens: back to the list, the journey's name
// and status, and tabs for its canvas, versions and monitor.
import { createContext, useContext } from "react";
import { useJourney } from "../api/queries";
import { Link } from "../router";
import { Icon } from "../shell/Icon";
import { StatusBadge } from "./StatusBadge";

const tabs = [
  { key: "canvas", label: "Canvas", suffix: "" },
  { key: "versions", label: "Versions", suffix: "/versions" },
  { key: "monitor", label: "Monitor", suffix: "/monitor" },
] as const;

/**
 * EmbeddedContext is true inside the embeddable editor, whose host page
 * names the journey and has no other screens: the header keeps only its
 * controls there.
 */
export const EmbeddedContext = createContext(false);

export function JourneyTabs({ journeyId, current, children }: {
  journeyId: string;
  current: (typeof tabs)[number]["key"];
  /** Extra controls at the right end of the header. */
  children?: React.ReactNode;
}) {
  const embedded = useContext(EmbeddedContext);
  const journey = useJourney(journeyId);
  if (embedded) {
    return (
      <header className="flex h-12 shrink-0 items-center gap-2 border-b border-slate-200 bg-white px-4">
        <div className="ml-auto flex items-center gap-2">{children}</div>
      </header>
    );
  }
  const j = journey.data;
  const base = `/journeys/${encodeURIComponent(journeyId)}`;
  return (
    <header className="flex h-14 shrink-0 items-center gap-4 border-b border-slate-200 bg-white px-4">
      <Link href="/journeys" className="rounded p-1 text-slate-500 hover:bg-slate-100 hover:text-slate-900" aria-label="Back to journeys">
        <Icon name="back" className="h-4 w-4" />
      </Link>
      <div className="flex min-w-0 items-center gap-2">
        <h1 className="truncate text-base font-semibold text-slate-900" title={j?.name}>{j?.name ?? "…"}</h1>
        {j && <StatusBadge status={j.status} />}
        {j && j.current_version > 0 && <span className="text-xs text-slate-500">live: v{j.current_version}</span>}
      </div>
      <nav aria-label="Journey" className="ml-4 flex h-full items-stretch gap-1">
        {tabs.map((t) => (
          <Link key={t.key} href={base + t.suffix} aria-current={t.key === current ? "page" : undefined}
            className={`flex items-center border-b-2 px-3 text-sm font-medium ${
              t.key === current ? "border-indigo-600 text-indigo-700" : "border-transparent text-slate-500 hover:text-slate-900"}`}>
            {t.label}
          </Link>
        ))}
      </nav>
      <div className="ml-auto flex items-center gap-2">{children}</div>
    </header>
  );
}
