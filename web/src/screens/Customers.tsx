// The customers screens: the list (filtered by attribute equalities and a
// tag, a page at a time) and one customer's profile, recent events and
// journeys, with GDPR erasure.
import { useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import { useJourneys } from "../api/queries";
import type { Customer } from "../api/types";
import { Link, navigate } from "../router";
import type { ScreenProps } from "../routes";
import { Icon } from "../shell/Icon";
import { Button } from "../ui/Button";
import { Dialog } from "../ui/Dialog";
import { StatusBadge } from "../ui/StatusBadge";
import { ErrorNote } from "./Journeys";
import { Tags } from "./Segments";

const field =
  "block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm text-slate-900 shadow-sm focus:border-indigo-500 focus:ring-2 focus:ring-indigo-500/30 focus:outline-none";
const pageSize = 25;

/**
 * parseFilter reads "plan=pro address.city=Lyon" into the query's
 * attr.* parameters; a word without "=" is an error.
 */
export function parseFilter(text: string): { query: Record<string, string> } | { error: string } {
  const query: Record<string, string> = {};
  for (const part of text.trim().split(/\s+/).filter(Boolean)) {
    const eq = part.indexOf("=");
    if (eq <= 0) return { error: `“${part}” is not attribute=value` };
    query[`attr.${part.slice(0, eq)}`] = part.slice(eq + 1);
  }
  return { query };
}

/**
 * flatten lists an attributes object's leaves by dotted path (address.city),
 * the way filters and segment rules name them; arrays stay whole.
 */
export function flatten(obj: Record<string, unknown>, prefix = ""): [string, unknown][] {
  return Object.entries(obj).flatMap(([k, v]) =>
    v !== null && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length > 0
      ? flatten(v as Record<string, unknown>, `${prefix}${k}.`)
      : [[`${prefix}${k}`, v] as [string, unknown]]);
}

/** shown is an attribute value as text: strings bare, the rest as JSON. */
function shown(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

function when(t: string | undefined): string {
  return t ? new Date(t).toLocaleString() : "—";
}

export default function CustomersScreen({ params }: ScreenProps) {
  return params.id ? <CustomerProfile id={params.id} /> : <CustomerList />;
}

function CustomerList() {
  const [filter, setFilter] = useState("");
  const [tag, setTag] = useState("");
  const [applied, setApplied] = useState({ filter: "", tag: "" });
  // The cursors of the pages before the current one, and the current one's.
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors[cursors.length - 1];
  const parsed = parseFilter(applied.filter);
  const list = useQuery({
    queryKey: ["customers", applied, cursor ?? ""],
    enabled: "query" in parsed,
    placeholderData: (prev) => prev,
    queryFn: () => {
      const attrs = "query" in parsed ? parsed.query : {};
      // attr.<path> parameters have open names the generated type cannot spell.
      const query = { ...attrs, tag: applied.tag || undefined, limit: pageSize, cursor } as { tag?: string; limit?: number; cursor?: string };
      return unwrap(api.GET("/api/v1/customers", { params: { query } }));
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setApplied({ filter: filter.trim(), tag: tag.trim() });
    setCursors([]);
  };
  const rows = list.data?.data ?? [];

  return (
    <div className="mx-auto max-w-7xl px-8 py-8">
      <header>
        <h1 className="text-2xl font-semibold tracking-tight text-slate-900">Customers</h1>
        <p className="mt-1 text-sm text-slate-500">Profiles built from identify calls, imports and events.</p>
      </header>

      <form onSubmit={submit} className="mt-6 flex flex-wrap items-end gap-3" aria-label="Filter customers">
        <label className="block min-w-72 flex-1 lg:max-w-md">
          <span className="text-xs font-medium text-slate-700">Attributes</span>
          <input value={filter} onChange={(e) => setFilter(e.target.value)} placeholder="plan=pro address.city=Lyon"
            className={`mt-1 font-mono ${field}`} spellCheck={false} />
        </label>
        <label className="block w-48">
          <span className="text-xs font-medium text-slate-700">Tag</span>
          <input value={tag} onChange={(e) => setTag(e.target.value)} placeholder="vip" className={`mt-1 ${field}`} />
        </label>
        <Button type="submit" variant="primary" className="py-[9px]"><Icon name="search" className="h-4 w-4" />Search</Button>
      </form>
      {"error" in parsed && <ErrorNote error={new Error(parsed.error)} />}
      {list.isError && <ErrorNote error={list.error} />}

      <div className="mt-4 overflow-hidden rounded-lg border border-slate-200 bg-white shadow-sm">
        <table className="min-w-full divide-y divide-slate-200 text-sm">
          <thead className="bg-slate-50 text-left text-xs font-semibold tracking-wide text-slate-500 uppercase">
            <tr>
              <th scope="col" className="px-4 py-3">Customer</th>
              <th scope="col" className="px-4 py-3">Attributes</th>
              <th scope="col" className="px-4 py-3">Tags</th>
              <th scope="col" className="px-4 py-3">Last seen</th>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {rows.map((c) => <CustomerRow key={c.id} customer={c} />)}
            {list.isSuccess && rows.length === 0 && (
              <tr><td colSpan={4} className="px-4 py-10 text-center text-slate-500">
                {applied.filter || applied.tag ? "No customer matches these filters." : "No customer yet: identify one, import a file or send an event."}
              </td></tr>
            )}
            {list.isPending && "query" in parsed && (
              <tr><td colSpan={4} className="px-4 py-10 text-center text-slate-400">Loading…</td></tr>
            )}
          </tbody>
        </table>
        <div className="flex items-center justify-between border-t border-slate-100 px-4 py-2.5 text-sm text-slate-500">
          <span>Page {cursors.length + 1}</span>
          <div className="flex gap-2">
            <Button disabled={cursors.length === 0} onClick={() => setCursors(cursors.slice(0, -1))}>Previous</Button>
            <Button disabled={!list.data?.next_cursor}
              onClick={() => list.data?.next_cursor && setCursors([...cursors, list.data.next_cursor])}>Next</Button>
          </div>
        </div>
      </div>
    </div>
  );
}

function CustomerRow({ customer: c }: { customer: Customer }) {
  const attrs = flatten(c.attributes);
  return (
    <tr className="hover:bg-slate-50">
      <td className="px-4 py-3">
        <Link href={`/customers/${encodeURIComponent(c.id)}`} className="font-medium text-slate-900 hover:text-indigo-600">{c.id}</Link>
      </td>
      <td className="max-w-md px-4 py-3">
        <span className="block truncate font-mono text-xs text-slate-600">
          {attrs.length === 0 ? "—" : attrs.map(([k, v]) => `${k}=${typeof v === "string" && /\s/.test(v) ? JSON.stringify(v) : shown(v)}`).join("  ")}
        </span>
      </td>
      <td className="px-4 py-3"><Tags tags={c.tags} /></td>
      <td className="px-4 py-3 whitespace-nowrap text-slate-500">{when(c.last_seen_at)}</td>
    </tr>
  );
}

function CustomerProfile({ id }: { id: string }) {
  const path = { params: { path: { id } } };
  const [erasing, setErasing] = useState(false);
  const profile = useQuery({
    queryKey: ["customer", id],
    retry: false,
    queryFn: () => unwrap(api.GET("/api/v1/customers/{id}/profile", path)),
  });
  const events = useQuery({
    queryKey: ["customer", id, "events"],
    queryFn: () => unwrap(api.GET("/api/v1/customers/{id}/events", { params: { path: { id }, query: { limit: 20 } } })),
  });
  const journeys = useQuery({
    queryKey: ["customer", id, "journeys"],
    queryFn: () => unwrap(api.GET("/api/v1/customers/{id}/journeys", path)),
  });
  const names = new Map((useJourneys("").data?.data ?? []).map((j) => [j.id, j.name]));
  const c = profile.data;
  const card = "overflow-hidden rounded-lg border border-slate-200 bg-white shadow-sm";
  const cardTitle = "border-b border-slate-100 px-5 py-3 text-sm font-semibold text-slate-900";

  return (
    <div className="mx-auto max-w-7xl px-8 py-8">
      <Link href="/customers" className="inline-flex items-center gap-1 text-sm text-slate-500 hover:text-slate-900">
        <Icon name="back" className="h-4 w-4" />Customers
      </Link>
      <header className="mt-2 flex flex-wrap items-center justify-between gap-4">
        <div className="min-w-0">
          <h1 className="truncate text-2xl font-semibold tracking-tight text-slate-900">{id}</h1>
          {c && <div className="mt-2"><Tags tags={c.tags} /></div>}
        </div>
        {c && (
          <Button className="text-red-600! hover:bg-red-50!" onClick={() => setErasing(true)}>
            <Icon name="trash" className="h-4 w-4" />Erase customer
          </Button>
        )}
      </header>
      {profile.isError && <ErrorNote error={profile.error} />}

      <div className="mt-6 grid grid-cols-1 items-start gap-6 lg:grid-cols-[minmax(0,2fr)_minmax(0,3fr)]">
        <div className="space-y-6">
          <section className={card} aria-label="Profile">
            <h2 className={cardTitle}>Profile</h2>
            {c ? (
              <dl className="divide-y divide-slate-100 text-sm">
                {[["First seen", when(c.first_seen_at)], ["Last seen", when(c.last_seen_at)], ["Created", when(c.created_at)]].map(([k, v]) => (
                  <div key={k} className="flex justify-between gap-4 px-5 py-2">
                    <dt className="text-slate-500">{k}</dt><dd className="text-slate-800 tabular-nums">{v}</dd>
                  </div>
                ))}
              </dl>
            ) : <p className="px-5 py-4 text-sm text-slate-400">{profile.isPending ? "Loading…" : "No profile."}</p>}
          </section>
          {c && (
            <section className={card} aria-label="Attributes">
              <h2 className={cardTitle}>Attributes</h2>
              {Object.keys(c.attributes).length === 0 ? <p className="px-5 py-4 text-sm text-slate-400">None.</p> : (
                <dl className="divide-y divide-slate-100 text-sm">
                  {flatten(c.attributes).map(([k, v]) => (
                    <div key={k} className="grid grid-cols-[minmax(0,2fr)_minmax(0,3fr)] gap-4 px-5 py-2">
                      <dt className="truncate font-mono text-xs leading-5 text-slate-500" title={k}>{k}</dt>
                      <dd className="text-sm leading-5 break-words text-slate-800">{shown(v)}</dd>
                    </div>
                  ))}
                </dl>
              )}
            </section>
          )}
        </div>

        <div className="space-y-6">
          <section className={card} aria-label="Journeys">
            <h2 className={cardTitle}>Journeys now</h2>
            {journeys.isError && <div className="px-5 pb-3"><ErrorNote error={journeys.error} /></div>}
            <ul className="divide-y divide-slate-100 text-sm">
              {(journeys.data?.data ?? []).map((i) => (
                <li key={i.id} className="flex items-center justify-between gap-4 px-5 py-2.5">
                  <Link href={`/journeys/${encodeURIComponent(i.journey_id)}`} className="truncate font-medium text-slate-900 hover:text-indigo-600">{names.get(i.journey_id) ?? i.journey_id}</Link>
                  <span className="flex shrink-0 items-center gap-3 text-slate-500">
                    <span className="tabular-nums">v{i.version}</span>
                    <StatusBadge status={i.status === "paused" ? "paused" : "active"} />
                    <span className="whitespace-nowrap">since {when(i.created_at)}</span>
                  </span>
                </li>
              ))}
              {journeys.isSuccess && journeys.data.data.length === 0 && <li className="px-5 py-4 text-slate-400">In no journey now.</li>}
            </ul>
          </section>
          <section className={card} aria-label="Recent events">
            <h2 className={cardTitle}>Recent events</h2>
            {events.isError && <div className="px-5 pb-3"><ErrorNote error={events.error} /></div>}
            <ul className="divide-y divide-slate-100 text-sm">
              {(events.data?.data ?? []).map((e) => (
                <li key={e.id} className="px-5 py-2.5">
                  <div className="flex items-baseline justify-between gap-4">
                    <span className="font-medium text-slate-900">{e.event_type}</span>
                    <span className="shrink-0 text-xs whitespace-nowrap text-slate-500">{when(e.timestamp)}</span>
                  </div>
                  {e.data && Object.keys(e.data).length > 0 && (
                    <p className="mt-0.5 truncate font-mono text-xs text-slate-500">{JSON.stringify(e.data)}</p>
                  )}
                </li>
              ))}
              {events.isSuccess && events.data.data.length === 0 && <li className="px-5 py-4 text-slate-400">No event stored.</li>}
            </ul>
          </section>
        </div>
      </div>
      <EraseDialog id={id} open={erasing} onOpenChange={setErasing} />
    </div>
  );
}

function EraseDialog({ id, open, onOpenChange }: { id: string; open: boolean; onOpenChange: (o: boolean) => void }) {
  const qc = useQueryClient();
  const erase = useMutation({
    mutationFn: () => unwrap(api.DELETE("/api/v1/customers/{id}", { params: { path: { id } } })),
    onSuccess: () => {
      qc.removeQueries({ queryKey: ["customer", id] });
      qc.invalidateQueries({ queryKey: ["customers"] });
      onOpenChange(false);
      navigate("/customers");
    },
  });
  return (
    <Dialog open={open} onOpenChange={(o) => { erase.reset(); onOpenChange(o); }} title={`Erase ${id}?`}
      description="This is irreversible. The customer leaves every journey; their profile and events are deleted and their journey history and sends are pseudonymised. Needs an admin key.">
      {erase.isError && <ErrorNote error={erase.error} />}
      <div className="mt-4 flex justify-end gap-2">
        <Button onClick={() => onOpenChange(false)}>Cancel</Button>
        <Button variant="danger" disabled={erase.isPending} onClick={() => erase.mutate()}>{erase.isPending ? "Erasing…" : "Erase for good"}</Button>
      </div>
    </Dialog>
  );
}
