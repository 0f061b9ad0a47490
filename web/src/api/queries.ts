// TanStack Query hooks for what several screens read. Keys are arrays
// starting with the resource's name, so a mutation invalidates by prefix.
import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "./client";
import type { NodeType } from "./types";

export const keys = {
  nodeTypes: ["node-types"] as const,
  journeys: (name?: string) => ["journeys", { name: name ?? "" }] as const,
  journey: (id: string) => ["journey", id] as const,
  counts: (id: string) => ["journey", id, "counts"] as const,
  eventTypes: ["event-types"] as const,
  templates: ["templates"] as const,
  providers: ["providers"] as const,
  segments: ["segments"] as const,
};

/** The node type catalogue, and a map of it by type name. */
export function useNodeTypes() {
  return useQuery({
    queryKey: keys.nodeTypes,
    queryFn: () => unwrap(api.GET("/api/v1/node-types")),
    staleTime: Infinity,
    select: (page) => ({ list: page.data, byType: new Map<string, NodeType>(page.data.map((t) => [t.type, t])) }),
  });
}

/** The tenant's journeys whose name contains name. */
export function useJourneys(name: string) {
  return useQuery({
    queryKey: keys.journeys(name),
    queryFn: () => unwrap(api.GET("/api/v1/journeys", { params: { query: { name: name || undefined, limit: 200 } } })),
  });
}

/** One journey. */
export function useJourney(id: string) {
  return useQuery({
    queryKey: keys.journey(id),
    queryFn: () => unwrap(api.GET("/api/v1/journeys/{id}", { params: { path: { id } } })),
  });
}

/**
 * Customers in a journey now (active or paused), summed over its versions
 * from GET /journeys/{id}/instances/by-version.
 */
export function useActiveCount(id: string, enabled = true) {
  return useQuery({
    queryKey: keys.counts(id),
    enabled,
    queryFn: async () => {
      const byVersion = await unwrap(api.GET("/api/v1/journeys/{id}/instances/by-version", { params: { path: { id } } }));
      return Object.values(byVersion).reduce((a, b) => a + b, 0);
    },
    refetchInterval: 10_000,
  });
}

/** The tenant's message templates. */
export function useTemplates() {
  return useQuery({
    queryKey: keys.templates,
    queryFn: () => unwrap(api.GET("/api/v1/templates", { params: { query: { limit: 500 } } })),
    staleTime: 30_000,
  });
}

/** The tenant's provider accounts. */
export function useProviders() {
  return useQuery({
    queryKey: keys.providers,
    queryFn: () => unwrap(api.GET("/api/v1/providers", { params: { query: { limit: 500 } } })),
    staleTime: 30_000,
  });
}

/** The tenant's segments, newest first. */
export function useSegments() {
  return useQuery({
    queryKey: keys.segments,
    queryFn: () => unwrap(api.GET("/api/v1/segments", { params: { query: { limit: 500 } } })),
    staleTime: 30_000,
  });
}

/** The tenant's event types of the last 30 days, most recently seen first. */
export function useEventTypes() {
  return useQuery({
    queryKey: keys.eventTypes,
    queryFn: () => unwrap(api.GET("/api/v1/event-types")),
    staleTime: 60_000,
    select: (page) => page.data.map((e) => e.type),
  });
}

/** checkExpression checks a CEL expression as graph validation does. */
export async function checkExpression(expression: string): Promise<{ valid: boolean; error?: string | undefined }> {
  return unwrap(api.POST("/api/v1/expressions/check", { body: { expression } }));
}
