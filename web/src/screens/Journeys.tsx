// The journeys list: search, create, duplicate, pause/resume, archive and
// delete (drafts); an empty tenant is offered a demo journey and the AI
// designer instead.
import { useState, type FormEvent } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import * as Menu from "@radix-ui/react-dropdown-menu";
import { api, ApiError, unwrap } from "../api/client";
import { useActiveCount, useJourneys } from "../api/queries";
import type { Journey } from "../api/types";
import { Link, navigate } from "../router";
import { Icon } from "../shell/Icon";
import { usePortalContainer } from "../ui/portal";
import { Button } from "../ui/Button";
import { Dialog } from "../ui/Dialog";
import { StatusBadge } from "../ui/StatusBadge";
import { demoJourney } from "./demo";
import { DescribeJourney } from "./DescribeJourney";

export function JourneysScreen() {
  const [search, setSearch] = useState("");
  const journeys = useJourneys(search.trim());
  const [creating, setCreating] = useState(false);
  const [describing, setDescribing] = useState(false);
  const list = journeys.data?.data ?? [];
  const emptyTenant = journeys.isSuccess && list.length === 0 && search.trim() === "";

  return (
    <div className="mx-auto max-w-6xl px-8 py-8">
      <header className="flex flex-wrap items-center justify-between gap-4">
        <div>
          <h1 className="text-2xl font-semibold tracking-tight text-slate-900">Journeys</h1>
          <p className="mt-1 text-sm text-slate-500">Every journey of this tenant, and who is in it now.</p>
        </div>
        <div className="flex items-center gap-2">
          <Button onClick={() => setDescribing(true)}><Icon name="sparkle" className="h-4 w-4" />Describe a journey</Button>
          <Button variant="primary" onClick={() => setCreating(true)}><Icon name="plus" className="h-4 w-4" />New journey</Button>
        </div>
      </header>

      {emptyTenant ? (
        <EmptyTenant onDescribe={() => setDescribing(true)} />
      ) : (
        <section className="mt-6">
          <div className="relative max-w-sm">
            <span className="pointer-events-none absolute inset-y-0 left-3 flex items-center text-slate-400">
              <Icon name="search" className="h-4 w-4" />
            </span>
            <input type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="Search by name"
              aria-label="Search journeys"
              className="block w-full rounded-md border border-slate-300 bg-white py-2 pr-3 pl-9 text-sm shadow-sm focus:border-indigo-500 focus:ring-2 focus:ring-indigo-500/30 focus:outline-none" />
          </div>
          {journeys.isError && <ErrorNote error={journeys.error} />}
          <div className="mt-4 overflow-hidden rounded-lg border border-slate-200 bg-white shadow-sm">
            <table className="min-w-full divide-y divide-slate-200 text-sm">
              <thead className="bg-slate-50 text-left text-xs font-semibold tracking-wide text-slate-500 uppercase">
                <tr>
                  <th scope="col" className="px-4 py-3">Name</th>
                  <th scope="col" className="px-4 py-3">Status</th>
                  <th scope="col" className="px-4 py-3 text-right">Version</th>
                  <th scope="col" className="px-4 py-3 text-right">Customers in it now</th>
                  <th scope="col" className="px-4 py-3">Updated</th>
                  <th scope="col" className="px-4 py-3"><span className="sr-only">Actions</span></th>
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-100">
                {list.map((j) => <JourneyRow key={j.id} journey={j} />)}
                {journeys.isSuccess && list.length === 0 && (
                  <tr><td colSpan={6} className="px-4 py-10 text-center text-slate-500">No journey matches “{search}”.</td></tr>
                )}
                {journeys.isPending && (
                  <tr><td colSpan={6} className="px-4 py-10 text-center text-slate-400">Loading…</td></tr>
                )}
              </tbody>
            </table>
          </div>
        </section>
      )}

      <NewJourneyDialog open={creating} onOpenChange={setCreating} />
      <DescribeJourney open={describing} onOpenChange={setDescribing} />
    </div>
  );
}

function JourneyRow({ journey: j }: { journey: Journey }) {
  const live = j.status === "active" || j.status === "paused";
  const count = useActiveCount(j.id, live);
  return (
    <tr className="hover:bg-slate-50">
      <td className="px-4 py-3">
        <Link href={`/journeys/${encodeURIComponent(j.id)}`} className="font-medium text-slate-900 hover:text-indigo-600">
          {j.name}
        </Link>
        {j.description && <p className="mt-0.5 max-w-md truncate text-xs text-slate-500">{j.description}</p>}
      </td>
      <td className="px-4 py-3"><StatusBadge status={j.status} /></td>
      <td className="px-4 py-3 text-right tabular-nums text-slate-700">{j.current_version > 0 ? `v${j.current_version}` : "—"}</td>
      <td className="px-4 py-3 text-right tabular-nums text-slate-700" data-testid="active-count">
        {live ? (count.data ?? "…") : "—"}
      </td>
      <td className="px-4 py-3 whitespace-nowrap text-slate-500">{new Date(j.updated_at).toLocaleString()}</td>
      <td className="px-4 py-3 text-right"><RowActions journey={j} /></td>
    </tr>
  );
}

/** The lifecycle actions the API has routes for. */
function RowActions({ journey: j }: { journey: Journey }) {
  const qc = useQueryClient();
  const [error, setError] = useState<string | null>(null);
  const id = j.id;
  const path = { params: { path: { id } } };
  const act = useMutation({
    mutationFn: async (action: "duplicate" | "pause" | "resume" | "archive" | "delete") => {
      switch (action) {
        case "duplicate":
          return unwrap(api.POST("/api/v1/journeys/{id}/duplicate", { ...path, body: {} }));
        case "pause":
          return unwrap(api.POST("/api/v1/journeys/{id}/pause", { ...path, body: {} }));
        case "resume":
          return unwrap(api.POST("/api/v1/journeys/{id}/resume", { ...path, body: {} }));
        case "archive":
          return unwrap(api.POST("/api/v1/journeys/{id}/archive", { ...path, body: {} }));
        case "delete":
          return unwrap(api.DELETE("/api/v1/journeys/{id}", path));
      }
    },
    onSuccess: () => qc.invalidateQueries({ queryKey: ["journeys"] }),
    onError: (err) => setError(err instanceof Error ? err.message : String(err)),
  });
  const portal = usePortalContainer();
  const item = "flex cursor-default items-center gap-2 rounded px-2 py-1.5 text-sm text-slate-700 outline-none data-[highlighted]:bg-slate-100";
  return (
    <>
      <Menu.Root>
        <Menu.Trigger asChild>
          <Button variant="ghost" aria-label={`Actions for ${j.name}`} className="px-2">•••</Button>
        </Menu.Trigger>
        <Menu.Portal container={portal}>
          <Menu.Content align="end" sideOffset={4} className="z-30 min-w-44 rounded-md border border-slate-200 bg-white p-1 shadow-lg">
            <Menu.Item className={item} onSelect={() => navigate(`/journeys/${encodeURIComponent(id)}`)}>Open</Menu.Item>
            <Menu.Item className={item} onSelect={() => navigate(`/journeys/${encodeURIComponent(id)}/versions`)}>Versions</Menu.Item>
            {j.current_version > 0 && <Menu.Item className={item} onSelect={() => navigate(`/journeys/${encodeURIComponent(id)}/monitor`)}>Monitor</Menu.Item>}
            <Menu.Item className={item} onSelect={() => navigate(`/journeys/${encodeURIComponent(id)}/design`)}><Icon name="sparkle" className="h-4 w-4" />Change with AI</Menu.Item>
            <Menu.Item className={item} onSelect={() => act.mutate("duplicate")}><Icon name="copy" className="h-4 w-4" />Duplicate</Menu.Item>
            {j.status === "active" && <Menu.Item className={item} onSelect={() => act.mutate("pause")}><Icon name="pause" className="h-4 w-4" />Pause</Menu.Item>}
            {j.status === "paused" && <Menu.Item className={item} onSelect={() => act.mutate("resume")}><Icon name="play" className="h-4 w-4" />Resume</Menu.Item>}
            {j.status !== "archived" && <Menu.Item className={item} onSelect={() => act.mutate("archive")}><Icon name="archive" className="h-4 w-4" />Archive</Menu.Item>}
            {j.status === "draft" && (
              <Menu.Item className={`${item} text-red-600`} onSelect={() => act.mutate("delete")}><Icon name="trash" className="h-4 w-4" />Delete draft</Menu.Item>
            )}
          </Menu.Content>
        </Menu.Portal>
      </Menu.Root>
      {error && (
        <p role="alert" className="mt-1 max-w-xs text-left text-xs text-red-600">{error}</p>
      )}
    </>
  );
}

function EmptyTenant({ onDescribe }: { onDescribe: () => void }) {
  const qc = useQueryClient();
  const demo = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/journeys", { body: demoJourney })),
    onSuccess: (j) => {
      qc.invalidateQueries({ queryKey: ["journeys"] });
      navigate(`/journeys/${encodeURIComponent(j.id)}`);
    },
  });
  return (
    <section className="mt-10 rounded-xl border border-dashed border-slate-300 bg-white px-8 py-12 text-center">
      <h2 className="text-lg font-semibold text-slate-900">No journeys yet</h2>
      <p className="mx-auto mt-2 max-w-lg text-sm text-slate-500">
        Start from the welcome journey: on sign-up send a welcome email, then wait up to 3 days for it to be opened —
        opened: wait a week and send an upsell; not opened: send an SMS reminder.
      </p>
      <div className="mt-6 flex justify-center gap-3">
        <Button variant="primary" onClick={() => demo.mutate()} disabled={demo.isPending}>
          {demo.isPending ? "Creating…" : "Create a demo journey"}
        </Button>
        <Button onClick={onDescribe}><Icon name="sparkle" className="h-4 w-4" />Describe a journey</Button>
      </div>
      {demo.isError && <ErrorNote error={demo.error} />}
    </section>
  );
}

function NewJourneyDialog({ open, onOpenChange }: { open: boolean; onOpenChange: (o: boolean) => void }) {
  const [name, setName] = useState("");
  const qc = useQueryClient();
  const create = useMutation({
    mutationFn: (n: string) => unwrap(api.POST("/api/v1/journeys", { body: { name: n } })),
    onSuccess: (j) => {
      qc.invalidateQueries({ queryKey: ["journeys"] });
      onOpenChange(false);
      setName("");
      navigate(`/journeys/${encodeURIComponent(j.id)}`);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate(name.trim());
  };
  return (
    <Dialog open={open} onOpenChange={onOpenChange} title="New journey" description="It starts as an empty draft; build it on the canvas.">
      <form onSubmit={submit}>
        <label htmlFor="journey-name" className="block text-sm font-medium text-slate-700">Name</label>
        <input id="journey-name" autoFocus value={name} onChange={(e) => setName(e.target.value)}
          className="mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 text-sm shadow-sm focus:border-indigo-500 focus:ring-2 focus:ring-indigo-500/30 focus:outline-none" />
        {create.isError && <ErrorNote error={create.error} />}
        <div className="mt-6 flex justify-end gap-2">
          <Button onClick={() => onOpenChange(false)}>Cancel</Button>
          <Button type="submit" variant="primary" disabled={create.isPending || name.trim() === ""}>Create</Button>
        </div>
      </form>
    </Dialog>
  );
}

/** ErrorNote shows an API error's message, and its details when there are some. */
export function ErrorNote({ error }: { error: unknown }) {
  const message = error instanceof Error ? error.message : String(error);
  const details = error instanceof ApiError ? error.details : [];
  return (
    <div role="alert" className="mt-3 rounded-md border border-red-200 bg-red-50 px-3 py-2 text-left text-sm text-red-700">
      {message}
      {details.length > 0 && (
        <ul className="mt-1 list-disc pl-5">
          {details.map((d, i) => <li key={i}>{d.field ? `${d.field}: ` : ""}{d.message}</li>)}
        </ul>
      )}
    </div>
  );
}
