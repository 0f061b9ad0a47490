// The live feed (docs/LIVE.md): one WebSocket per page at /api/v1/socket,
// Phoenix-style frames, shared by every component that watches a topic.
// A topic is "live" once its join is answered ok; it is "down" when the
// socket cannot be opened, closes, or refuses the join — the callers then
// poll the REST API instead, and the socket is tried again after a while.
import { useEffect, useState } from "react";
import { apiToken, apiUrl } from "../api/client";

/** One message of the protocol. */
export type Frame = { topic: string; event: string; payload: unknown; ref: string | null };

/** Where a watched topic stands. */
export type TopicState = "connecting" | "live" | "down";

type Watcher = { onState: (s: TopicState) => void; onPush: (event: string, payload: unknown) => void };

/** How often a heartbeat is sent (the server closes a socket silent for 60 s). */
export const HEARTBEAT_MS = 30_000;
/** How long a join may go unanswered before its topic counts as down. */
export const JOIN_TIMEOUT_MS = 5_000;
/** How long after a failure the socket is tried again, at first and at most. */
export const RETRY_MS = 5_000;
const RETRY_MAX_MS = 60_000;

/** socketUrl is the WebSocket address of the API, with the key as its token parameter. */
export function socketUrl(base: string, token: string): string {
  const u = new URL(apiUrl("/api/v1/socket"), base);
  u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
  u.searchParams.set("token", token);
  return u.toString();
}

/**
 * LiveSocket multiplexes topics over one WebSocket: it opens the socket
 * when the first topic is watched, joins each topic once, closes the socket
 * when nobody watches anything, and reconnects after a failure.
 */
export class LiveSocket {
  private ws: WebSocket | null = null;
  private watchers = new Map<string, Set<Watcher>>();
  private states = new Map<string, TopicState>();
  private joins = new Map<string, string>(); // ref → topic
  private ref = 0;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private backoff = RETRY_MS;

  constructor(private readonly url: () => string | null, private readonly open: (url: string) => WebSocket) {}

  /** watch follows topic until the returned function is called. */
  watch(topic: string, w: Watcher): () => void {
    let set = this.watchers.get(topic);
    if (!set) {
      set = new Set();
      this.watchers.set(topic, set);
      this.states.set(topic, "connecting");
      if (this.ws?.readyState === WebSocket.OPEN) this.join(topic);
    }
    set.add(w);
    w.onState(this.states.get(topic) ?? "connecting");
    this.connect();
    return () => {
      set.delete(w);
      if (set.size > 0) return;
      this.watchers.delete(topic);
      this.states.delete(topic);
      if (this.ws?.readyState === WebSocket.OPEN) this.send(topic, "phx_leave");
      if (this.watchers.size === 0) this.shutdown();
    };
  }

  private connect() {
    if (this.ws || this.retry || this.watchers.size === 0) return;
    const url = this.url();
    if (!url) {
      this.fail();
      return;
    }
    let ws: WebSocket;
    try {
      ws = this.open(url);
    } catch {
      this.fail();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.backoff = RETRY_MS;
      for (const topic of this.watchers.keys()) this.join(topic);
      this.heartbeat = setInterval(() => this.send("phoenix", "heartbeat"), HEARTBEAT_MS);
    };
    ws.onmessage = (m) => this.receive(String(m.data));
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.fail();
    };
  }

  private join(topic: string) {
    const ref = this.send(topic, "phx_join");
    this.joins.set(ref, topic);
    // An unanswered join falls back like a refused one (its reply, if it
    // comes later, still makes the topic live).
    setTimeout(() => {
      if (this.joins.get(ref) === topic && this.states.get(topic) === "connecting") this.setState(topic, "down");
    }, JOIN_TIMEOUT_MS);
  }

  private send(topic: string, event: string): string {
    const ref = String(++this.ref);
    this.ws?.send(JSON.stringify({ topic, event, payload: {}, ref }));
    return ref;
  }

  private receive(data: string) {
    let f: Frame;
    try {
      f = JSON.parse(data) as Frame;
    } catch {
      return;
    }
    if (f.event === "phx_reply") {
      const topic = f.ref !== null ? this.joins.get(f.ref) : undefined;
      if (topic === undefined) return;
      this.joins.delete(f.ref!);
      const ok = (f.payload as { status?: string } | null)?.status === "ok";
      this.setState(topic, ok ? "live" : "down");
      return;
    }
    for (const w of this.watchers.get(f.topic) ?? []) w.onPush(f.event, f.payload);
  }

  private setState(topic: string, s: TopicState) {
    if (!this.watchers.has(topic)) return;
    this.states.set(topic, s);
    for (const w of this.watchers.get(topic) ?? []) w.onState(s);
  }

  /** fail marks every topic down and tries again later. */
  private fail() {
    clearInterval(this.heartbeat);
    this.joins.clear();
    for (const topic of this.watchers.keys()) this.setState(topic, "down");
    if (this.watchers.size === 0 || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.connect();
    }, this.backoff);
    this.backoff = Math.min(this.backoff * 2, RETRY_MAX_MS);
  }

  private shutdown() {
    clearInterval(this.heartbeat);
    clearTimeout(this.retry);
    this.retry = undefined;
    const ws = this.ws;
    this.ws = null;
    this.joins.clear();
    ws?.close(1000);
  }
}

/** The page's socket: the API's address and the signed-in key. */
export const liveSocket = new LiveSocket(
  () => {
    const token = apiToken();
    if (!token || typeof WebSocket === "undefined") return null;
    return socketUrl(globalThis.location?.href ?? "http://localhost/", token);
  },
  (url) => new WebSocket(url),
);

/** What useLiveTopic returns: the topic's state and its last push of each event. */
export type LiveTopic = { state: TopicState; last: ReadonlyMap<string, unknown>; updatedAt: number };

/**
 * useLiveTopic watches topic (when enabled) and keeps the last payload of
 * each event pushed on it.
 */
export function useLiveTopic(topic: string, enabled = true, socket: LiveSocket = liveSocket): LiveTopic {
  const [live, setLive] = useState<LiveTopic>({ state: enabled ? "connecting" : "down", last: new Map(), updatedAt: 0 });
  useEffect(() => {
    if (!enabled) {
      setLive({ state: "down", last: new Map(), updatedAt: 0 });
      return;
    }
    setLive({ state: "connecting", last: new Map(), updatedAt: 0 });
    return socket.watch(topic, {
      onState: (state) => setLive((l) => (l.state === state ? l : { ...l, state })),
      onPush: (event, payload) => setLive((l) => {
        const last = new Map(l.last);
        last.set(event, payload);
        return { ...l, last, updatedAt: Date.now() };
      }),
    });
  }, [topic, enabled, socket]);
  return live;
}
