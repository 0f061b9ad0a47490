// Customers at each node right now. They come from the live feed
// (live.ts: node_counts and version_counts, pushed every second); while the
// socket is down, the monitor reads the journey's active and paused
// instances page by page instead (GET /journeys/{id}/instances, optionally
// of one version) and counts them by the nodes their paths are at, polling
// every few seconds. Past MAX_PAGES pages per status the polled counts are
// a lower bound and say so.
import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import type { Instance } from "../api/types";
import { useLiveTopic } from "./live";

/** How often the monitor asks again while the live feed is down. */
export const POLL_MS = 3000;
const PAGE = 500;
const MAX_PAGES = 10;

/** Counts per node, how many customers were counted, and whether pages were left unread. */
export type NodeCounts = { byNode: Map<string, number>; customers: number; partial: boolean };

/**
 * countByNode counts instances per node: an instance whose parallel paths
 * wait at several nodes counts once at each; at one node, once.
 */
export function countByNode(instances: Pick<Instance, "nodes">[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const inst of instances) {
    for (const n of new Set(inst.nodes ?? [])) out.set(n, (out.get(n) ?? 0) + 1);
  }
  return out;
}

/** The payload of version_counts (docs/LIVE.md). */
export type VersionCountsPayload = {
  customers: number;
  versions: Record<string, { customers: number; nodes: Record<string, number> }>;
};

/**
 * countsFromFeed reads the counts of a version (all versions when version
 * is 0) from the last node_counts and version_counts pushes.
 */
export function countsFromFeed(nodeCounts: unknown, versionCounts: unknown, version: number): NodeCounts | undefined {
  const vc = versionCounts as VersionCountsPayload | undefined;
  if (!vc || typeof vc !== "object" || !vc.versions) return undefined;
  if (version === 0) {
    if (!nodeCounts || typeof nodeCounts !== "object") return undefined;
    return { byNode: new Map(Object.entries(nodeCounts as Record<string, number>)), customers: vc.customers, partial: false };
  }
  const v = vc.versions[String(version)];
  return { byNode: new Map(Object.entries(v?.nodes ?? {})), customers: v?.customers ?? 0, partial: false };
}

/** What the monitor shows of a count: its data, whether it is being fetched, when it changed, and how it came. */
export type LiveResult<T> = { data: T | undefined; isFetching: boolean; dataUpdatedAt: number; via: "socket" | "polling" };

/**
 * useLiveCounts follows the counts of a journey's version (all versions
 * when version is 0), for the monitor and the editor's badges alike: from
 * the live feed, or polled while it is down.
 */
export function useLiveCounts(journeyId: string, version: number, enabled = true): LiveResult<NodeCounts> {
  const live = useLiveTopic(`journey:${journeyId}`, enabled);
  const socket = live.state === "live";
  const polled = usePolledCounts(journeyId, version, enabled && live.state === "down");
  if (socket) {
    return { data: countsFromFeed(live.last.get("node_counts"), live.last.get("version_counts"), version),
      isFetching: false, dataUpdatedAt: live.updatedAt, via: "socket" };
  }
  return { data: polled.data, isFetching: polled.isFetching, dataUpdatedAt: polled.dataUpdatedAt, via: "polling" };
}

function usePolledCounts(journeyId: string, version: number, enabled: boolean) {
  return useQuery({
    queryKey: ["journey", journeyId, "monitor-counts", version],
    enabled,
    refetchInterval: POLL_MS,
    queryFn: async (): Promise<NodeCounts> => {
      const all: Instance[] = [];
      let partial = false;
      for (const status of ["active", "paused"] as const) {
        let cursor: string | undefined;
        for (let page = 0; ; page++) {
          if (page === MAX_PAGES) {
            partial = true;
            break;
          }
          const res = await unwrap(api.GET("/api/v1/journeys/{id}/instances", {
            params: { path: { id: journeyId }, query: { status, limit: PAGE, cursor, version: version || undefined } },
          }));
          all.push(...res.data);
          cursor = res.next_cursor || undefined;
          if (!cursor) break;
        }
      }
      return { byNode: countByNode(all), customers: all.length, partial };
    },
  });
}

/**
 * useVersionBreakdown follows how many customers are in the journey per
 * version: from the live feed's version_counts, or polled while it is down.
 */
export function useVersionBreakdown(journeyId: string): LiveResult<{ version: number; customers: number }[]> {
  const live = useLiveTopic(`journey:${journeyId}`);
  const polled = usePolledBreakdown(journeyId, live.state === "down");
  const vc = live.last.get("version_counts") as VersionCountsPayload | undefined;
  if (live.state === "live") {
    return { data: vc ? breakdownFromFeed(vc) : undefined, isFetching: false, dataUpdatedAt: live.updatedAt, via: "socket" };
  }
  return { data: polled.data, isFetching: polled.isFetching, dataUpdatedAt: polled.dataUpdatedAt, via: "polling" };
}

/** breakdownFromFeed turns version_counts into rows sorted by version, newest first. */
export function breakdownFromFeed(vc: VersionCountsPayload): { version: number; customers: number }[] {
  return versionBreakdown(Object.fromEntries(Object.entries(vc.versions).map(([v, n]) => [`v${v}`, n.customers])));
}

function usePolledBreakdown(journeyId: string, enabled: boolean) {
  return useQuery({
    queryKey: ["journey", journeyId, "by-version"],
    enabled,
    refetchInterval: POLL_MS,
    queryFn: async () => {
      const raw = await unwrap(api.GET("/api/v1/journeys/{id}/instances/by-version", { params: { path: { id: journeyId } } }));
      return versionBreakdown(raw);
    },
  });
}

/** versionBreakdown turns {"v1": 3, "v2": 5} into rows sorted by version, newest first. */
export function versionBreakdown(raw: Record<string, number>): { version: number; customers: number }[] {
  return Object.entries(raw)
    .map(([k, n]) => ({ version: Number(k.replace(/^v/, "")), customers: n }))
    .filter((r) => Number.isInteger(r.version) && r.version > 0)
    .sort((a, b) => b.version - a.version);
}
