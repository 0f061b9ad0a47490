// The typed API client: openapi-fetch over the generated schema, so every
// path, parameter and body is checked by tsc against api/openapi.json.
import createClient, { type Middleware } from "openapi-fetch";
import type { paths } from "./schema";
import type { ErrorBody, ErrorDetail } from "./types";
import { clearApiKey, getApiKey } from "./auth";

/** An error answer of the API, with its code, message and details. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: ErrorDetail[];

  constructor(status: number, body: unknown) {
    const e = isErrorBody(body) ? body.error : undefined;
    super(e?.message ?? `the server answered ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.code = e?.code ?? "unknown";
    this.details = e?.details ?? [];
  }
}

function isErrorBody(body: unknown): body is ErrorBody {
  return typeof body === "object" && body !== null && "error" in body &&
    typeof (body as { error: unknown }).error === "object";
}

/** Listeners told when the server refuses the key (401), to show the login. */
const unauthorizedListeners = new Set<() => void>();

/** Calls fn whenever a request is refused with 401; returns the unsubscribe. */
export function onUnauthorized(fn: () => void): () => void {
  unauthorizedListeners.add(fn);
  return () => unauthorizedListeners.delete(fn);
}

/**
 * Where the API lives and which key calls it: the page's own origin and the
 * signed-in key, unless configureApi says otherwise (an embedded editor
 * talks to a Kalcifer server on another origin with a token it was given).
 */
const target: { baseUrl: string; token: string | null } = { baseUrl: "", token: null };

/** configureApi points every API call at baseUrl (no trailing slash) with token. */
export function configureApi(opts: { baseUrl?: string; token?: string | null }): void {
  if (opts.baseUrl !== undefined) target.baseUrl = opts.baseUrl.replace(/\/+$/, "");
  if (opts.token !== undefined) target.token = opts.token;
}

/** apiUrl is the absolute URL of an API path such as "/api/v1/ai/upload". */
export function apiUrl(path: string): string {
  return target.baseUrl + path;
}

/** apiToken is the key API calls send: the configured token, else the signed-in key. */
export function apiToken(): string | null {
  return target.token ?? getApiKey();
}

const auth: Middleware = {
  async onRequest({ request }) {
    const key = apiToken();
    if (key) request.headers.set("Authorization", `Bearer ${key}`);
    if (target.baseUrl === "") return request;
    const u = new URL(request.url);
    // The body is read into memory: a Request made from another's body
    // stream would be a streaming upload, which browsers send over HTTP/2
    // only (Chrome fails it with ERR_ALPN_NEGOTIATION_FAILED on HTTP/1.1).
    const body = request.method === "GET" || request.method === "HEAD" ? undefined : await request.arrayBuffer();
    return new Request(target.baseUrl + u.pathname + u.search, {
      method: request.method, headers: request.headers, body, signal: request.signal,
    });
  },
  onResponse({ response }) {
    if (response.status === 401) {
      clearApiKey();
      unauthorizedListeners.forEach((fn) => fn());
    }
    return response;
  },
};

/** The client every screen uses. The base URL is the page's own origin. */
export const api = createClient<paths>({ baseUrl: "" });
api.use(auth);

/**
 * unwrap turns an openapi-fetch result into its data, throwing ApiError
 * for an error answer, so TanStack Query sees failures as errors.
 */
export async function unwrap<T>(
  p: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await p;
  if (!response.ok || error !== undefined) throw new ApiError(response.status, error);
  return data as T;
}

/**
 * verifyKey checks key with a cheap authenticated GET (the node types
 * catalogue, which every ranked role may read) without storing it.
 */
export async function verifyKey(key: string): Promise<void> {
  const res = await fetch("/api/v1/node-types", { headers: { Authorization: `Bearer ${key}` } });
  if (!res.ok) {
    let body: unknown;
    try {
      body = await res.json();
    } catch {
      body = undefined;
    }
    throw new ApiError(res.status, body);
  }
}
