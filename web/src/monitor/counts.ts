// Customers at each node right now. The API has no per-node count route
// yet (nor the WebSocket pushes), so the monitor reads the journey's
// active and paused instances page by page (GET /journeys/{id}/instances,
// optionally of one version) and counts them by the nodes their paths are
// at, polling every few seconds. Past MAX_PAGES pages per status the
// counts are a lower bound and say so.
import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import type { Instance } from "../api/types";

/** How often the monitor asks again. */
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

/**
 * useLiveCounts polls the counts of a journey's version (all versions when
 * version is 0), for the monitor and the editor's badges alike.
 */
export function useLiveCounts(journeyId: string, version: number, enabled = true) {
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

/** useVersionBreakdown polls how many customers are in the journey per version. */
export function useVersionBreakdown(journeyId: string) {
  return useQuery({
    queryKey: ["journey", journeyId, "by-version"],
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
