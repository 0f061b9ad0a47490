// A journey's versions: the history with changelog and author, a visual
// diff of any two versions on the canvas, publish and rollback (with the
// node mapping), and the migrations they start. New versions come from the
// editor (POST /journeys/{id}/versions).
import { useMemo, useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import { useJourney } from "../api/queries";
import type { components } from "../api/schema";
import { GraphView, type ViewEdge, type ViewNode } from "../canvas/GraphView";
import type { ScreenProps } from "../routes";
import { Button } from "../ui/Button";
import { JourneyTabs } from "../ui/JourneyTabs";
import { countMarks, describeField, isEmptyDiff, markDiff, type MarkedGraph } from "../versions/diff";
import { MigrationDetail, MigrationList, useMigrations } from "../versions/MigrationPanel";
import { PublishDialog } from "../versions/PublishDialog";

type Version = components["schemas"]["Version"];

/** who names a version's author: an API key by a short id, a person as is. */
function who(author: string): string {
  if (!author) return "unknown";
  return author.startsWith("key:") ? `API key ${author.slice(4, 16)}…` : author;
}

function when(iso?: string): string {
  return iso ? new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }) : "";
}

export default function VersionsScreen({ params }: ScreenProps) {
  const id = params.id!;
  const journey = useJourney(id);
  const versions = useQuery({
    queryKey: ["versions", id],
    queryFn: () => unwrap(api.GET("/api/v1/journeys/{id}/versions", { params: { path: { id } } })),
  });
  const migrations = useMigrations(id);
  const list = versions.data?.data ?? [];
  const current = journey.data?.current_version ?? 0;

  // The pair compared: chosen, or the newest against the one before it.
  const [pair, setPair] = useState<{ from: number; to: number } | null>(null);
  const newest = list[0]?.version ?? 0;
  const from = pair?.from ?? (newest > 1 ? newest - 1 : newest);
  const to = pair?.to ?? newest;

  const [publishing, setPublishing] = useState<{ version: number; rollback: boolean } | null>(null);
  const [migrationId, setMigrationId] = useState<string | null>(null);
  const shownMigration = migrationId ?? migrations.data?.data[0]?.id ?? null;
  const byNumber = (v: number) => list.find((x) => x.version === v);

  return (
    <div className="flex h-full flex-col">
      <JourneyTabs journeyId={id} current="versions" />
      <div className="flex min-h-0 flex-1">
        <aside className="flex w-[22rem] shrink-0 flex-col overflow-y-auto border-r border-slate-200 bg-white">
          <section className="p-4">
            <h2 className="text-xs font-semibold tracking-wide text-slate-500 uppercase">History</h2>
            {versions.isError && <p role="alert" className="mt-2 text-sm text-red-700">{versions.error.message}</p>}
            {versions.isSuccess && list.length === 0 && (
              <p className="mt-2 text-sm text-slate-500">No version yet: activating the journey publishes version 1.</p>
            )}
            <ol className="mt-2 space-y-2" data-testid="version-history">
              {list.map((v) => (
                <VersionCard key={v.version} v={v} current={v.version === current}
                  comparing={v.version === from || v.version === to}
                  onCompare={() => setPair({ from: current && current !== v.version ? current : Math.max(1, v.version - 1), to: v.version })}
                  onPublish={() => setPublishing({ version: v.version, rollback: v.status === "published" })} />
              ))}
            </ol>
          </section>
          <section className="border-t border-slate-200 p-4">
            <h2 className="text-xs font-semibold tracking-wide text-slate-500 uppercase">Migrations</h2>
            <div className="mt-2">
              <MigrationList migrations={migrations.data?.data ?? []} selected={shownMigration} onSelect={setMigrationId} />
            </div>
            {shownMigration && (
              <div className="mt-3 rounded-lg border border-slate-200 p-3">
                <MigrationDetail journeyId={id} migrationId={shownMigration} />
              </div>
            )}
          </section>
        </aside>

        <section className="flex min-w-0 flex-1 flex-col">
          {list.length > 0 ? (
            <DiffPane journeyId={id} from={byNumber(from)} to={byNumber(to)} versions={list}
              onChange={(f, t) => setPair({ from: f, to: t })} />
          ) : (
            <div className="flex flex-1 items-center justify-center text-sm text-slate-500">Nothing to compare yet.</div>
          )}
        </section>
      </div>

      {publishing && (
        <PublishDialog journeyId={id} version={publishing.version} rollback={publishing.rollback}
          fromGraph={byNumber(current)?.graph} toGraph={byNumber(publishing.version)?.graph}
          open onOpenChange={(o) => !o && setPublishing(null)}
          onPublished={(mid) => mid && setMigrationId(mid)} />
      )}
    </div>
  );
}

function VersionCard({ v, current, comparing, onCompare, onPublish }: {
  v: Version;
  current: boolean;
  comparing: boolean;
  onCompare: () => void;
  onPublish: () => void;
}) {
  return (
    <li data-testid={`version-${v.version}`}
      className={`rounded-lg border p-3 ${comparing ? "border-indigo-300 bg-indigo-50/40" : "border-slate-200"}`}>
      <div className="flex items-center gap-2">
        <span className="text-sm font-semibold text-slate-900">Version {v.version}</span>
        {current ? (
          <span className="rounded-full bg-emerald-50 px-2 py-0.5 text-xs font-medium text-emerald-700 ring-1 ring-emerald-200">live</span>
        ) : (
          <span className={`rounded-full px-2 py-0.5 text-xs font-medium ring-1 ${v.status === "draft"
            ? "bg-slate-100 text-slate-600 ring-slate-200" : "bg-white text-slate-500 ring-slate-200"}`}>{v.status}</span>
        )}
      </div>
      <p className="mt-1 text-sm text-slate-700">{v.changelog || <span className="text-slate-400 italic">No changelog</span>}</p>
      <p className="mt-1 text-xs text-slate-500">{who(v.author)} · {when(v.published_at ?? v.created_at)}</p>
      <div className="mt-2 flex gap-2">
        <Button variant="ghost" className="!px-2 !py-1 !text-xs" onClick={onCompare}>Compare</Button>
        {!current && (
          <Button variant={v.status === "draft" ? "primary" : "secondary"} className="!px-2 !py-1 !text-xs" onClick={onPublish}>
            {v.status === "draft" ? "Publish…" : "Roll back…"}
          </Button>
        )}
      </div>
    </li>
  );
}

function DiffPane({ journeyId, from, to, versions, onChange }: {
  journeyId: string;
  from: Version | undefined;
  to: Version | undefined;
  versions: Version[];
  onChange: (from: number, to: number) => void;
}) {
  const diff = useQuery({
    queryKey: ["diff", journeyId, from?.version, to?.version],
    enabled: !!from && !!to,
    queryFn: () => unwrap(api.GET("/api/v1/journeys/{id}/versions/{v}/diff/{v2}", {
      params: { path: { id: journeyId, v: from!.version, v2: to!.version } },
    })),
  });
  const marked: MarkedGraph | null = useMemo(
    () => (diff.data && from && to ? markDiff(from.graph, to.graph, diff.data) : null), [diff.data, from, to]);
  const view = useMemo(() => {
    if (!marked) return null;
    // Both versions' own positions, where they do not collide (GraphView
    // lays the union out again when they do).
    const nodes: ViewNode[] = marked.nodes.map((n) => ({ id: n.id, type: n.type, label: n.label, config: n.config ?? undefined, mark: n.mark,
      position: { x: n.position?.x ?? 0, y: n.position?.y ?? 0 } }));
    const edges: ViewEdge[] = marked.edges.map((e) => ({ id: e.id, source: e.source, target: e.target, branch: e.branch, mark: e.mark }));
    return { nodes, edges };
  }, [marked]);
  const marks = marked ? countMarks(marked) : null;
  const pick = (label: string, value: number | undefined, set: (v: number) => void) => (
    <label className="flex items-center gap-1.5 text-sm text-slate-600">
      {label}
      <select value={value ?? ""} onChange={(e) => set(Number(e.target.value))} aria-label={`Compare ${label.toLowerCase()}`}
        className="rounded-md border border-slate-300 bg-white px-2 py-1 text-sm text-slate-900">
        {versions.map((v) => <option key={v.version} value={v.version}>v{v.version}</option>)}
      </select>
    </label>
  );
  const changed = marked?.nodes.filter((n) => n.mark !== "unchanged") ?? [];
  return (
    <>
      <div className="flex flex-wrap items-center gap-4 border-b border-slate-200 bg-white px-4 py-2">
        {pick("From", from?.version, (v) => onChange(v, to?.version ?? v))}
        {pick("To", to?.version, (v) => onChange(from?.version ?? v, v))}
        {marks && (
          <div className="ml-auto flex items-center gap-3 text-xs text-slate-600" data-testid="diff-legend">
            <Legend color="bg-emerald-500" label={`${marks.added} added`} />
            <Legend color="bg-rose-500" label={`${marks.removed} removed`} />
            <Legend color="bg-amber-500" label={`${marks.changed} changed`} />
            <Legend color="bg-slate-300" label={`${marks.unchanged} unchanged`} />
          </div>
        )}
      </div>
      <div className="relative min-h-0 flex-1 bg-slate-50">
        {diff.isError && <p role="alert" className="p-4 text-sm text-red-700">{diff.error.message}</p>}
        {view && <GraphView nodes={view.nodes} edges={view.edges} testId="diff-canvas" />}
      </div>
      <div className="h-36 shrink-0 overflow-y-auto border-t border-slate-200 bg-white px-4 py-3" data-testid="diff-changes">
        <h3 className="text-xs font-semibold tracking-wide text-slate-500 uppercase">
          Changes from v{from?.version} to v{to?.version}
        </h3>
        {diff.data && isEmptyDiff(diff.data) && <p className="mt-2 text-sm text-slate-500">The two versions are the same journey.</p>}
        <ul className="mt-2 grid grid-cols-1 gap-x-8 gap-y-1 text-sm xl:grid-cols-2">
          {changed.map((n) => (
            <li key={`${n.mark}-${n.id}`} className="min-w-0">
              <span className={`font-medium ${n.mark === "added" ? "text-emerald-700" : n.mark === "removed" ? "text-rose-700" : "text-amber-700"}`}>
                {n.mark} {n.id}
              </span>
              <span className="text-slate-500"> ({n.type})</span>
              {n.fields.map((f) => <div key={f.field} className="truncate pl-3 font-mono text-xs text-slate-600">{describeField(f)}</div>)}
            </li>
          ))}
          {(diff.data?.changed_settings ?? []).map((f) => (
            <li key={f.field} className="truncate font-mono text-xs text-slate-600">{describeField(f)}</li>
          ))}
          {(diff.data?.changed_edges?.length ?? 0) > 0 && (
            <li className="text-slate-500">{diff.data!.changed_edges!.length} edge{diff.data!.changed_edges!.length === 1 ? "" : "s"} added or removed</li>
          )}
        </ul>
      </div>
    </>
  );
}

function Legend({ color, label }: { color: string; label: string }) {
  return <span className="flex items-center gap-1.5"><span className={`h-2.5 w-2.5 rounded-sm ${color}`} />{label}</span>;
}
