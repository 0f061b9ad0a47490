import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { breakdownFromFeed, countsFromFeed } from "./counts";
import { JOIN_TIMEOUT_MS, LiveSocket, RETRY_MS, socketUrl, type TopicState } from "./live";

// FakeSocket stands in for the browser's WebSocket: it records what the
// client sends and lets the test play the server's side.
class FakeSocket {
  static OPEN = 1;
  readyState = 0;
  sent: { topic: string; event: string; ref: string }[] = [];
  closed = false;
  onopen: (() => void) | null = null;
  onmessage: ((m: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;
  send(data: string) { this.sent.push(JSON.parse(data)); }
  close() { this.closed = true; }
  open() { this.readyState = 1; this.onopen?.(); }
  push(frame: object) { this.onmessage?.({ data: JSON.stringify(frame) }); }
  reply(ref: string, status: "ok" | "error") {
    const topic = this.sent.find((f) => f.ref === ref)?.topic ?? "";
    this.push({ topic, event: "phx_reply", payload: { status, response: {} }, ref });
  }
  drop() { this.readyState = 3; this.onclose?.(); }
}

describe("LiveSocket", () => {
  let sockets: FakeSocket[];
  let live: LiveSocket;
  beforeEach(() => {
    vi.useFakeTimers();
    vi.stubGlobal("WebSocket", FakeSocket);
    sockets = [];
    live = new LiveSocket(() => "ws://x/api/v1/socket?token=k", () => {
      const s = new FakeSocket();
      sockets.push(s);
      return s as unknown as WebSocket;
    });
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it("joins once per topic, hands pushes to watchers, and leaves when the last one stops", () => {
    const states: TopicState[] = [];
    const pushes: string[] = [];
    const stopA = live.watch("journey:j1", { onState: (s) => states.push(s), onPush: (e) => pushes.push(e) });
    const stopB = live.watch("journey:j1", { onState: () => {}, onPush: () => {} });
    expect(sockets).toHaveLength(1);
    sockets[0]!.open();
    const joins = sockets[0]!.sent.filter((f) => f.event === "phx_join");
    expect(joins.map((f) => f.topic)).toEqual(["journey:j1"]);
    sockets[0]!.reply(joins[0]!.ref, "ok");
    sockets[0]!.push({ topic: "journey:j1", event: "node_counts", payload: { wait: 2 }, ref: null });
    sockets[0]!.push({ topic: "journey:j2", event: "node_counts", payload: {}, ref: null });
    expect(states).toEqual(["connecting", "live"]);
    expect(pushes).toEqual(["node_counts"]);
    vi.advanceTimersByTime(30_000);
    expect(sockets[0]!.sent.some((f) => f.event === "heartbeat" && f.topic === "phoenix")).toBe(true);
    stopA();
    expect(sockets[0]!.sent.some((f) => f.event === "phx_leave")).toBe(false);
    stopB();
    expect(sockets[0]!.sent.at(-1)).toMatchObject({ topic: "journey:j1", event: "phx_leave" });
    expect(sockets[0]!.closed).toBe(true);
  });

  it("marks a refused join down", () => {
    const states: TopicState[] = [];
    live.watch("journey:other", { onState: (s) => states.push(s), onPush: () => {} });
    sockets[0]!.open();
    sockets[0]!.reply(sockets[0]!.sent[0]!.ref, "error");
    expect(states.at(-1)).toBe("down");
  });

  it("falls back when a join goes unanswered, and goes live if the reply comes after all", () => {
    const states: TopicState[] = [];
    live.watch("journey:j1", { onState: (s) => states.push(s), onPush: () => {} });
    sockets[0]!.open();
    vi.advanceTimersByTime(JOIN_TIMEOUT_MS);
    expect(states.at(-1)).toBe("down");
    sockets[0]!.reply(sockets[0]!.sent[0]!.ref, "ok");
    expect(states.at(-1)).toBe("live");
  });

  it("falls back when the socket closes, then reconnects and joins again", () => {
    const states: TopicState[] = [];
    live.watch("journey:j1", { onState: (s) => states.push(s), onPush: () => {} });
    sockets[0]!.open();
    sockets[0]!.reply(sockets[0]!.sent[0]!.ref, "ok");
    sockets[0]!.drop();
    expect(states.at(-1)).toBe("down");
    vi.advanceTimersByTime(RETRY_MS);
    expect(sockets).toHaveLength(2);
    sockets[1]!.open();
    const join = sockets[1]!.sent.find((f) => f.event === "phx_join")!;
    expect(join.topic).toBe("journey:j1");
    sockets[1]!.reply(join.ref, "ok");
    expect(states.at(-1)).toBe("live");
  });

  it("is down at once without a key", () => {
    const none = new LiveSocket(() => null, () => { throw new Error("never opened"); });
    const states: TopicState[] = [];
    none.watch("journey:j1", { onState: (s) => states.push(s), onPush: () => {} });
    expect(states.at(-1)).toBe("down");
  });
});

describe("socketUrl", () => {
  it("speaks ws or wss as the page does and carries the token", () => {
    expect(socketUrl("http://localhost:4000/journeys", "kal_1")).toBe("ws://localhost:4000/api/v1/socket?token=kal_1");
    expect(socketUrl("https://k.example/", "a b")).toBe("wss://k.example/api/v1/socket?token=a+b");
  });
});

describe("counts from the feed", () => {
  const vc = { customers: 5, versions: { "1": { customers: 2, nodes: { wait: 2 } }, "2": { customers: 3, nodes: { wait: 1, mail: 2 } } } };
  it("reads all versions from node_counts and one version from version_counts", () => {
    expect(countsFromFeed({ wait: 3, mail: 2 }, vc, 0)).toEqual({ byNode: new Map([["wait", 3], ["mail", 2]]), customers: 5, partial: false });
    expect(countsFromFeed({ wait: 3, mail: 2 }, vc, 2)).toEqual({ byNode: new Map([["wait", 1], ["mail", 2]]), customers: 3, partial: false });
    expect(countsFromFeed({}, vc, 7)).toEqual({ byNode: new Map(), customers: 0, partial: false });
    expect(countsFromFeed(undefined, undefined, 0)).toBeUndefined();
  });
  it("turns version_counts into the breakdown, newest first", () => {
    expect(breakdownFromFeed(vc)).toEqual([{ version: 2, customers: 3 }, { version: 1, customers: 2 }]);
  });
});
