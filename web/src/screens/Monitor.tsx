// The monitor: customers at each node of a version right now as badges on
// the canvas (from the live feed, polled while it is down), customers per
// version, the customers at a node, a customer search, and one customer's
// trace.
import { useMemo, useState, type FormEvent } from "react";
import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import { useJourney } from "../api/queries";
import type { Instance } from "../api/types";
import { GraphView, type ViewNode } from "../canvas/GraphView";
import { POLL_MS, useLiveCounts, useVersionBreakdown } from "../monitor/counts";
import { InstanceStatusBadge, InstanceTrace } from "../monitor/InstanceTrace";
import type { ScreenProps } from "../routes";
import { Icon } from "../shell/Icon";
import { Button } from "../ui/Button";
import { JourneyTabs } from "../ui/JourneyTabs";

export default function MonitorScreen({ params }: ScreenProps) {
  const id = params.id!;
  const journey = useJourney(id);
  const breakdown = useVersionBreakdown(id);
  const current = journey.data?.current_version ?? 0;
  const [chosen, setChosen] = useState<number | null>(null);
  const version = chosen ?? current;
  const [node, setNode] = useState<string | null>(null);
  const [instance, setInstance] = useState<string | null>(null);
  const [search, setSearch] = useState("");
  const [customer, setCustomer] = useState("");

  const graph = useQuery({
    queryKey: ["version", id, version],
    enabled: version > 0,
    staleTime: Infinity,
    queryFn: () => unwrap(api.GET("/api/v1/journeys/{id}/versions/{v}", { params: { path: { id, v: version } } })),
  });
  const counts = useLiveCounts(id, version);
  const nodes: ViewNode[] = useMemo(() => (graph.data?.graph.nodes ?? []).map((n) => ({
    id: n.id, type: n.type, label: n.label, config: n.config ?? undefined,
    position: { x: n.position?.x ?? 0, y: n.position?.y ?? 0 },
    count: counts.data ? counts.data.byNode.get(n.id) ?? 0 : undefined,
  })), [graph.data, counts.data]);
  const edges = useMemo(() => (graph.data?.graph.edges ?? []).map((e) => ({ id: e.id, source: e.source, target: e.target, branch: e.branch })),
    [graph.data]);

  const found = useQuery({
    queryKey: ["journey", id, "customer", customer],
    enabled: customer !== "",
    queryFn: () => unwrap(api.GET("/api/v1/journeys/{id}/instances", { params: { path: { id }, query: { customer_id: customer, limit: 50 } } })),
  });
  const atNode = useQuery({
    queryKey: ["journey", id, "at-node", version, node],
    enabled: node !== null,
    refetchInterval: POLL_MS,
    queryFn: () => unwrap(api.GET("/api/v1/journeys/{id}/instances", {
      params: { path: { id }, query: { node_id: node!, version, status: "active", limit: 100 } },
    })),
  });
  const onSearch = (e: FormEvent) => {
    e.preventDefault();
    setCustomer(search.trim());
    setNode(null);
    setInstance(null);
  };
  const versions = breakdown.data ?? [];
  const total = versions.reduce((a, b) => a + b.customers, 0);

  return (
    <div className="flex h-full flex-col">
      <JourneyTabs journeyId={id} current="monitor">
        <span className="flex items-center gap-1.5 text-xs text-slate-500" data-testid="live">
          <span className={`h-2 w-2 rounded-full ${counts.via === "polling" ? "bg-amber-500" : counts.isFetching ? "bg-emerald-400" : "bg-emerald-600"}`} />
          <span data-testid="live-via">{counts.via === "socket" ? "live" : `polling every ${POLL_MS / 1000} s`}</span>
          {counts.dataUpdatedAt > 0 && ` · ${new Date(counts.dataUpdatedAt).toLocaleTimeString()}`}
        </span>
      </JourneyTabs>
      <div className="flex min-h-0 flex-1">
        <section className="relative min-w-0 flex-1 bg-slate-50">
          {current === 0 && journey.isSuccess ? (
            <div className="flex h-full items-center justify-center text-sm text-slate-500">
              This journey has never been activated: nobody is in it.
            </div>
          ) : (
            <GraphView nodes={nodes} edges={edges} selectedId={node} testId="monitor-canvas"
              onNodeClick={(n) => { setNode(n); setInstance(null); setCustomer(""); }} />
          )}
          <div className="absolute top-3 left-3 rounded-lg border border-slate-200 bg-white/95 px-3 py-2 text-sm shadow-sm">
            <span className="font-semibold text-slate-900 tabular-nums" data-testid="version-customers">{counts.data?.customers ?? "…"}</span>
            <span className="text-slate-500"> customer{counts.data?.customers === 1 ? "" : "s"} on version {version || "—"}</span>
            {counts.data?.partial && <span className="ml-1 text-amber-700">(at least: too many to count here)</span>}
          </div>
        </section>

        <aside className="flex w-[22rem] shrink-0 flex-col border-l border-slate-200 bg-white">
          {instance ? (
            <InstanceTrace instanceId={instance} onBack={() => setInstance(null)} />
          ) : (
            <div className="min-h-0 flex-1 overflow-y-auto">
              <section className="border-b border-slate-200 p-4">
                <h2 className="text-xs font-semibold tracking-wide text-slate-500 uppercase">Customers per version</h2>
                <ul className="mt-2 space-y-1" data-testid="version-breakdown">
                  {versions.length === 0 && <li className="text-sm text-slate-500">Nobody is in the journey now.</li>}
                  {versions.map((v) => (
                    <li key={v.version}>
                      <button type="button" onClick={() => { setChosen(v.version); setNode(null); }}
                        className={`flex w-full items-center gap-3 rounded-md px-2 py-1.5 text-left text-sm ${
                          v.version === version ? "bg-indigo-50 text-indigo-900" : "hover:bg-slate-100"}`}>
                        <span className="w-20 font-medium">v{v.version}{v.version === current ? " · live" : ""}</span>
                        <span className="h-1.5 flex-1 overflow-hidden rounded-full bg-slate-100">
                          <span className="block h-full rounded-full bg-indigo-500" style={{ width: `${total ? (v.customers / total) * 100 : 0}%` }} />
                        </span>
                        <span className="w-10 text-right tabular-nums">{v.customers}</span>
                      </button>
                    </li>
                  ))}
                </ul>
                {chosen !== null && chosen !== current && current > 0 && (
                  <Button variant="ghost" className="mt-1 !px-2 !text-xs" onClick={() => setChosen(null)}>Back to the live version</Button>
                )}
              </section>

              <section className="border-b border-slate-200 p-4">
                <h2 className="text-xs font-semibold tracking-wide text-slate-500 uppercase">Find a customer</h2>
                <form onSubmit={onSearch} className="mt-2 flex gap-2">
                  <div className="relative flex-1">
                    <span className="pointer-events-none absolute inset-y-0 left-2.5 flex items-center text-slate-400"><Icon name="search" className="h-4 w-4" /></span>
                    <input type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="Customer id"
                      aria-label="Customer id"
                      className="block w-full rounded-md border border-slate-300 py-1.5 pr-2 pl-8 text-sm focus:border-indigo-500 focus:outline-none" />
                  </div>
                  <Button type="submit">Find</Button>
                </form>
                {customer && (
                  <InstanceList title={`Journeys of ${customer} here`} query={found} onOpen={setInstance}
                    empty={`${customer} has never been in this journey.`} />
                )}
              </section>

              <section className="p-4">
                <h2 className="text-xs font-semibold tracking-wide text-slate-500 uppercase">
                  {node ? `At ${node} now` : "Customers at a node"}
                </h2>
                {node ? (
                  <InstanceList query={atNode} onOpen={setInstance} empty="Nobody is at this node now." />
                ) : (
                  <p className="mt-2 text-sm text-slate-500">Click a node on the canvas to see who is there.</p>
                )}
              </section>
            </div>
          )}
        </aside>
      </div>
    </div>
  );
}

function InstanceList({ title, query, onOpen, empty }: {
  title?: string;
  query: { data?: { data: Instance[]; next_cursor?: string | null }; isError: boolean; error: Error | null; isPending: boolean };
  onOpen: (id: string) => void;
  empty: string;
}) {
  const list = query.data?.data ?? [];
  return (
    <div className="mt-2">
      {title && <p className="text-xs text-slate-500">{title}</p>}
      {query.isError && <p role="alert" className="text-sm text-red-700">{query.error?.message}</p>}
      {query.data && list.length === 0 && <p className="text-sm text-slate-500">{empty}</p>}
      <ul className="mt-1 divide-y divide-slate-100" data-testid="instance-list">
        {list.map((i) => (
          <li key={i.id}>
            <button type="button" onClick={() => onOpen(i.id)}
              className="flex w-full items-center justify-between gap-2 py-1.5 text-left text-sm hover:bg-slate-50">
              <span className="min-w-0">
                <span className="block truncate font-medium text-slate-900">{i.customer_id}</span>
                <span className="block truncate text-xs text-slate-500">v{i.version} · {i.nodes.join(", ") || "ended"}</span>
              </span>
              <InstanceStatusBadge status={i.status} />
            </button>
          </li>
        ))}
      </ul>
      {query.data?.next_cursor && <p className="mt-1 text-xs text-slate-500">Showing the newest {list.length}.</p>}
    </div>
  );
}
