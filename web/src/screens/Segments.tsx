// The segments screen: the tenant's segments on the left; on the right a
// segment's editor (name, the rule's one-line text form with a live count
// of the customers it matches, and its JSON form as a tree) and, for a saved
// one, its count, first members and deletion.
import { useEffect, useState, type FormEvent, type ReactNode } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, ApiError, unwrap } from "../api/client";
import { keys, useSegments } from "../api/queries";
import type { Segment, SegmentRule } from "../api/types";
import { Link, navigate } from "../router";
import type { ScreenProps } from "../routes";
import { Icon } from "../shell/Icon";
import { Button } from "../ui/Button";
import { Dialog } from "../ui/Dialog";
import { ErrorNote } from "./Journeys";

const field =
  "block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm text-slate-900 shadow-sm focus:border-indigo-500 focus:ring-2 focus:ring-indigo-500/30 focus:outline-none";

export default function SegmentsScreen({ params }: ScreenProps) {
  const segments = useSegments();
  const selected = params.id;
  const list = segments.data?.data ?? [];
  const segment = list.find((s) => s.id === selected);

  return (
    <div className="mx-auto max-w-7xl px-8 py-8">
      <header className="flex flex-wrap items-center justify-between gap-4">
        <div>
          <h1 className="text-2xl font-semibold tracking-tight text-slate-900">Segments</h1>
          <p className="mt-1 text-sm text-slate-500">Customers by who they are, what they did and where they belong. Journeys start from them.</p>
        </div>
        <Button variant="primary" onClick={() => navigate("/segments")}><Icon name="plus" className="h-4 w-4" />New segment</Button>
      </header>

      <div className="mt-6 grid grid-cols-1 items-start gap-6 lg:grid-cols-[18rem_minmax(0,1fr)] 2xl:grid-cols-[22rem_minmax(0,1fr)]">
        <nav aria-label="Segments" className="overflow-hidden rounded-lg border border-slate-200 bg-white shadow-sm">
          {segments.isError && <div className="p-3"><ErrorNote error={segments.error} /></div>}
          {segments.isPending && <p className="p-4 text-sm text-slate-400">Loading…</p>}
          {segments.isSuccess && list.length === 0 && (
            <p className="p-4 text-sm text-slate-500">No segment yet: write a rule on the right and save it.</p>
          )}
          <ul className="divide-y divide-slate-100">
            {list.map((s) => (
              <li key={s.id}>
                <Link href={`/segments/${encodeURIComponent(s.id)}`} aria-current={s.id === selected ? "page" : undefined}
                  className={`block px-4 py-3 hover:bg-slate-50 ${s.id === selected ? "bg-indigo-50/70 hover:bg-indigo-50" : ""}`}>
                  <span className={`block truncate text-sm font-medium ${s.id === selected ? "text-indigo-700" : "text-slate-900"}`}>{s.name}</span>
                  <span className="mt-0.5 block truncate font-mono text-xs text-slate-500">{s.rule_text}</span>
                </Link>
              </li>
            ))}
          </ul>
        </nav>

        {selected && segments.isSuccess && !segment ? (
          <div className="rounded-lg border border-slate-200 bg-white p-6 text-sm text-slate-500 shadow-sm">
            There is no segment {selected}. <Link href="/segments" className="text-indigo-600 hover:underline">Create one</Link>.
          </div>
        ) : selected && !segment ? null : (
          <div className="space-y-6">
            <SegmentEditor key={segment?.id ?? "new"} segment={segment} />
            {segment && <Members segment={segment} />}
          </div>
        )}
      </div>
    </div>
  );
}

/** useDebounced is value once it has stayed the same for ms. */
function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

function SegmentEditor({ segment }: { segment: Segment | undefined }) {
  const qc = useQueryClient();
  const [name, setName] = useState(segment?.name ?? "");
  const [description, setDescription] = useState(segment?.description ?? "");
  const [text, setText] = useState(segment?.rule_text ?? "");
  const [deleting, setDeleting] = useState(false);
  const typed = useDebounced(text.trim(), 350);
  const estimate = useQuery({
    queryKey: ["segment-estimate", typed],
    enabled: typed !== "",
    retry: false,
    placeholderData: (prev) => prev,
    queryFn: () => unwrap(api.POST("/api/v1/segments/estimate", { body: { rule_text: typed } })),
  });
  const stale = typed !== text.trim();

  const save = useMutation({
    mutationFn: () => {
      const body = { name: name.trim(), description: description.trim(), rule_text: text.trim() };
      return segment
        ? unwrap(api.PATCH("/api/v1/segments/{id}", { params: { path: { id: segment.id } }, body }))
        : unwrap(api.POST("/api/v1/segments", { body }));
    },
    onSuccess: (s) => {
      qc.invalidateQueries({ queryKey: keys.segments });
      qc.invalidateQueries({ queryKey: ["segment", s.id] });
      navigate(`/segments/${encodeURIComponent(s.id)}`);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  const dirty = !segment || name !== segment.name || description !== segment.description || text.trim() !== segment.rule_text;

  return (
    <form onSubmit={submit} aria-label={segment ? `Segment ${segment.name}` : "New segment"}
      className="rounded-lg border border-slate-200 bg-white shadow-sm">
      <div className="flex items-center justify-between gap-4 border-b border-slate-100 px-6 py-4">
        <div className="min-w-0">
          <h2 className="truncate text-base font-semibold text-slate-900">{segment ? segment.name : "New segment"}</h2>
          {segment && <p className="text-xs text-slate-400">id {segment.id}</p>}
        </div>
        <div className="flex shrink-0 items-center gap-2">
          {segment && (
            <Button variant="ghost" className="text-red-600! hover:bg-red-50!" onClick={() => setDeleting(true)}>
              <Icon name="trash" className="h-4 w-4" />Delete
            </Button>
          )}
          <Button type="submit" variant="primary" disabled={save.isPending || !dirty || !name.trim() || !text.trim()}>
            <Icon name="save" className="h-4 w-4" />{save.isPending ? "Saving…" : segment ? "Save changes" : "Create segment"}
          </Button>
        </div>
      </div>

      <div className="space-y-5 px-6 py-5">
        <div className="grid grid-cols-1 gap-4 md:grid-cols-2">
          <label className="block">
            <span className="text-xs font-medium text-slate-700">Name</span>
            <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={200} className={`mt-1 ${field}`}
              placeholder="Pro customers who ordered lately" />
          </label>
          <label className="block">
            <span className="text-xs font-medium text-slate-700">Description <span className="font-normal text-slate-400">(optional)</span></span>
            <input value={description} onChange={(e) => setDescription(e.target.value)} className={`mt-1 ${field}`} />
          </label>
        </div>

        <div>
          <label htmlFor="segment-rule" className="text-xs font-medium text-slate-700">Rule</label>
          <textarea id="segment-rule" value={text} onChange={(e) => setText(e.target.value)} rows={2} spellCheck={false}
            aria-invalid={estimate.isError && !stale ? true : undefined} aria-describedby="segment-rule-status"
            placeholder={'plan = "pro" and performed order_completed >= 3 in 30d and not tag "churned"'}
            className={`mt-1 ${field} font-mono aria-[invalid=true]:border-red-400`} />
          <div id="segment-rule-status" aria-live="polite" className="mt-2 min-h-6 text-sm">
            <EstimateStatus text={typed} stale={stale} estimate={estimate} />
          </div>
          <p className="mt-1 text-xs text-slate-500">
            Attributes (<code>plan = "pro"</code>, <code>ltv &gt;= 1000</code>, <code>country in ["DE", "FR"]</code>), tags
            (<code>tag "vip"</code>), events (<code>performed order_completed &gt;= 3 in 30d</code>) and other segments
            (<code>segment "seg_…"</code>), joined with <code>and</code>, <code>or</code>, <code>not</code> and parentheses.
          </p>
        </div>

        {estimate.data?.rule && !estimate.isError && (
          <details className="rounded-md border border-slate-200 bg-slate-50/60 px-4 py-3" open>
            <summary className="cursor-pointer text-xs font-semibold tracking-wide text-slate-500 uppercase">The rule, clause by clause</summary>
            <div className="mt-3 text-sm" data-testid="rule-tree"><RuleTree rule={estimate.data.rule} /></div>
          </details>
        )}
        {save.isError && <ErrorNote error={save.error} />}
      </div>

      {segment && <DeleteDialog segment={segment} open={deleting} onOpenChange={setDeleting} />}
    </form>
  );
}

function EstimateStatus({ text, stale, estimate }: {
  text: string;
  stale: boolean;
  estimate: { data?: { count: number }; error: Error | null; isError: boolean; isFetching: boolean };
}) {
  if (text === "") return <span className="text-slate-400">Type a rule to see how many customers match it.</span>;
  if (estimate.isError && !stale && !estimate.isFetching) {
    const err = estimate.error;
    const details = err instanceof ApiError ? err.details : [];
    return (
      <div role="alert" className="rounded-md border border-red-200 bg-red-50 px-3 py-2 text-red-700" data-testid="rule-problem">
        {details.length > 0 ? (
          <ul className="space-y-0.5">
            {details.map((d, i) => (
              <li key={i}>
                <span className="font-semibold" title={d.field}>{clauseName(d)}</span> {d.message}
              </li>
            ))}
          </ul>
        ) : err?.message}
      </div>
    );
  }
  const busy = stale || estimate.isFetching;
  return (
    <span className={`inline-flex items-center gap-2 ${busy ? "text-slate-400" : "text-slate-700"}`}>
      <Icon name="users" className="h-4 w-4" />
      {estimate.data ? (
        <span><strong className="font-semibold tabular-nums" data-testid="estimate-count">{estimate.data.count.toLocaleString()}</strong> customers match now{busy ? " (counting…)" : ""}</span>
      ) : "Counting…"}
    </span>
  );
}

/**
 * clauseName says where a problem is: the column of the text, or the
 * clause's path in the JSON form in words (rule.and[1].value → "clause 2
 * of and › value").
 */
export function clauseName(d: { field?: string; column?: number }): string {
  if (d.column) return `at column ${d.column}:`;
  if (!d.field) return "";
  const parts = d.field.split(".").filter((p, i) => !(i === 0 && p === "rule"));
  const words = parts.map((p) => p.replace(/^(and|or)\[(\d+)\]$/, (_, op: string, i: string) => `clause ${Number(i) + 1} of ${op}`));
  return `${words.join(" › ") || d.field}:`;
}

const opText: Record<string, string> = {
  eq: "=", neq: "≠", lt: "<", lte: "≤", gt: ">", gte: "≥", contains: "contains", starts_with: "starts with", in: "is one of",
  between: "is between", before: "is before", after: "is after", within_last: "within the last", within_next: "within the next",
  exists: "exists", not_exists: "does not exist",
};

function show(v: unknown): string {
  if (Array.isArray(v)) return v.map(show).join(", ");
  return typeof v === "string" ? `“${v}”` : JSON.stringify(v);
}

/** RuleTree shows a rule's JSON form as nested clauses. */
export function RuleTree({ rule }: { rule: SegmentRule }): ReactNode {
  const group = (label: string, items: SegmentRule[]) => (
    <div>
      <span className="text-xs font-semibold tracking-wide text-indigo-700 uppercase">{label}</span>
      <ul className="mt-1 space-y-1 border-l-2 border-indigo-100 pl-4">
        {items.map((r, i) => <li key={i}><RuleTree rule={r} /></li>)}
      </ul>
    </div>
  );
  if (rule.and) return group("all of", rule.and);
  if (rule.or) return group("any of", rule.or);
  if (rule.not) {
    return (
      <div className="flex items-start gap-2">
        <span className="mt-0.5 text-xs font-semibold tracking-wide text-rose-700 uppercase">not</span>
        <div className="min-w-0"><RuleTree rule={rule.not} /></div>
      </div>
    );
  }
  const chip = "rounded bg-white px-1.5 py-0.5 font-mono text-xs text-slate-800 ring-1 ring-slate-200";
  if (rule.attribute !== undefined) {
    const op = rule.op ?? "";
    const value = op === "between" && Array.isArray(rule.value) ? `${show(rule.value[0])} and ${show(rule.value[1])}` : show(rule.value);
    return (
      <span className="text-slate-700">
        <span className={chip}>{rule.attribute}</span> {opText[op] ?? op}
        {op !== "exists" && op !== "not_exists" && <> <strong className="font-medium text-slate-900">{value}</strong></>}
      </span>
    );
  }
  if (rule.tag !== undefined) return <span className="text-slate-700">has the tag <span className={chip}>{rule.tag}</span></span>;
  if (rule.segment !== undefined) {
    return <span className="text-slate-700">is in the segment <Link href={`/segments/${encodeURIComponent(rule.segment)}`} className={`${chip} text-indigo-700 hover:underline`}>{rule.segment}</Link></span>;
  }
  if (rule.performed) {
    const p = rule.performed;
    return (
      <div className="text-slate-700">
        performed <span className={chip}>{p.event}</span>
        {p.at_least && p.at_least > 1 ? <> at least <strong className="font-medium">{p.at_least}</strong> times</> : null}
        {p.within ? <> in the last <strong className="font-medium">{p.within}</strong></> : " ever"}
        {p.where && (
          <div className="mt-1 ml-4 flex items-start gap-2">
            <span className="mt-0.5 text-xs font-semibold tracking-wide text-slate-500 uppercase">where</span>
            <div className="min-w-0"><RuleTree rule={p.where} /></div>
          </div>
        )}
      </div>
    );
  }
  return <code className="text-xs">{JSON.stringify(rule)}</code>;
}

/** Members shows a saved segment's count and first members. */
function Members({ segment }: { segment: Segment }) {
  const id = segment.id;
  const count = useQuery({
    queryKey: ["segment", id, "count", segment.updated_at],
    queryFn: () => unwrap(api.GET("/api/v1/segments/{id}/count", { params: { path: { id } } })),
  });
  const preview = useQuery({
    queryKey: ["segment", id, "preview", segment.updated_at],
    queryFn: () => unwrap(api.GET("/api/v1/segments/{id}/preview", { params: { path: { id }, query: { limit: 10 } } })),
  });
  const members = preview.data?.data ?? [];
  return (
    <section aria-label="Members" className="overflow-hidden rounded-lg border border-slate-200 bg-white shadow-sm">
      <div className="flex items-baseline justify-between gap-4 border-b border-slate-100 px-6 py-4">
        <h2 className="text-base font-semibold text-slate-900">Members</h2>
        <p className="text-sm text-slate-500">
          <strong className="text-lg font-semibold text-slate-900 tabular-nums" data-testid="segment-count">
            {count.data ? count.data.count.toLocaleString() : "…"}
          </strong>{" "}customers now
        </p>
      </div>
      {(count.isError || preview.isError) && <div className="px-6 pb-4"><ErrorNote error={count.error ?? preview.error} /></div>}
      <table className="min-w-full divide-y divide-slate-200 text-sm">
        <thead className="bg-slate-50 text-left text-xs font-semibold tracking-wide text-slate-500 uppercase">
          <tr>
            <th scope="col" className="px-6 py-2.5">Customer</th>
            <th scope="col" className="px-6 py-2.5">Tags</th>
            <th scope="col" className="px-6 py-2.5">Last seen</th>
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100">
          {members.map((c) => (
            <tr key={c.id} className="hover:bg-slate-50">
              <td className="px-6 py-2.5">
                <Link href={`/customers/${encodeURIComponent(c.id)}`} className="font-medium text-slate-900 hover:text-indigo-600">{c.id}</Link>
              </td>
              <td className="px-6 py-2.5"><Tags tags={c.tags} /></td>
              <td className="px-6 py-2.5 whitespace-nowrap text-slate-500">{c.last_seen_at ? new Date(c.last_seen_at).toLocaleString() : "—"}</td>
            </tr>
          ))}
          {preview.isSuccess && members.length === 0 && (
            <tr><td colSpan={3} className="px-6 py-8 text-center text-slate-500">Nobody matches this segment now.</td></tr>
          )}
        </tbody>
      </table>
      {count.data && count.data.count > members.length && members.length > 0 && (
        <p className="border-t border-slate-100 px-6 py-2.5 text-xs text-slate-500">The first {members.length} by customer id.</p>
      )}
    </section>
  );
}

/** Tags shows a customer's tags as small pills. */
export function Tags({ tags }: { tags: string[] }) {
  if (tags.length === 0) return <span className="text-slate-400">—</span>;
  return (
    <span className="flex flex-wrap gap-1">
      {tags.map((t) => (
        <span key={t} className="rounded-full bg-slate-100 px-2 py-0.5 text-xs font-medium text-slate-700 ring-1 ring-slate-200 ring-inset">{t}</span>
      ))}
    </span>
  );
}

function DeleteDialog({ segment, open, onOpenChange }: { segment: Segment; open: boolean; onOpenChange: (o: boolean) => void }) {
  const qc = useQueryClient();
  const all = useSegments().data?.data ?? [];
  const del = useMutation({
    mutationFn: () => unwrap(api.DELETE("/api/v1/segments/{id}", { params: { path: { id: segment.id } } })),
    onSuccess: () => {
      qc.invalidateQueries({ queryKey: keys.segments });
      onOpenChange(false);
      navigate("/segments");
    },
  });
  return (
    <Dialog open={open} onOpenChange={(o) => { del.reset(); onOpenChange(o); }} title={`Delete “${segment.name}”?`}
      description="This cannot be undone. A segment that other segments refer to cannot be deleted.">
      {del.isError && <ErrorNote error={del.error} />}
      {del.error instanceof ApiError && del.error.status === 409 && (
        <p className="mt-2 text-sm text-slate-700">
          Used by:{" "}
          {all.filter((s) => s.id !== segment.id && !!del.error?.message.includes(s.id)).map((s, i) => (
            <span key={s.id}>{i > 0 && ", "}<Link href={`/segments/${encodeURIComponent(s.id)}`} onClick={() => onOpenChange(false)}
              className="font-medium text-indigo-600 hover:underline">{s.name}</Link></span>
          ))}
        </p>
      )}
      <div className="mt-4 flex justify-end gap-2">
        <Button onClick={() => onOpenChange(false)}>Cancel</Button>
        <Button variant="danger" disabled={del.isPending} onClick={() => del.mutate()}>{del.isPending ? "Deleting…" : "Delete segment"}</Button>
      </div>
    </Dialog>
  );
}
