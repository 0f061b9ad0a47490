// Customers at each node right now, for a live journey: its active and
// paused instances, read page by page (GET /journeys/{id}/instances, the
// API has no per-node count yet) and counted by the nodes their paths are
// at. Polled until the WebSocket pushes exist.
import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import { keys } from "../api/queries";

/** Pages read per status before the count is reported as a lower bound. */
const MAX_PAGES = 10;
const PAGE = 500;

export type NodeCounts = { byNode: Map<string, number>; customers: number; partial: boolean };

export function useNodeCounts(journeyId: string, enabled: boolean) {
  return useQuery({
    queryKey: keys.nodeCounts(journeyId),
    enabled,
    refetchInterval: 3000,
    queryFn: async (): Promise<NodeCounts> => {
      const byNode = new Map<string, number>();
      let customers = 0;
      let partial = false;
      for (const status of ["active", "paused"] as const) {
        let cursor: string | undefined;
        for (let page = 0; page < MAX_PAGES; page++) {
          const res = await unwrap(api.GET("/api/v1/journeys/{id}/instances", {
            params: { path: { id: journeyId }, query: { status, limit: PAGE, cursor } },
          }));
          for (const inst of res.data) {
            customers++;
            for (const n of new Set(inst.nodes)) byNode.set(n, (byNode.get(n) ?? 0) + 1);
          }
          cursor = res.next_cursor || undefined;
          if (!cursor) break;
          if (page === MAX_PAGES - 1) partial = true;
        }
      }
      return { byNode, customers, partial };
    },
  });
}
