#!/usr/bin/env node
// A client of Kalcifer's live feed (docs/LIVE.md): joins journey:{id} and
// prints every push, one line each: "<event> <payload JSON>".
//
//   KALCIFER_URL=http://localhost:4000 KALCIFER_API_KEY=kal_… node examples/live-client.mjs JOURNEY_ID
//
// Node 22 and later have a global WebSocket; on Node 20 run it with
// --experimental-websocket, or `npm install ws`. LIVE_EXIT_AFTER=<event>
// exits after the first push of that event (tests use it).
const WebSocketImpl = globalThis.WebSocket ?? (await import("ws")).default;

const journey = process.argv[2];
const base = process.env.KALCIFER_URL ?? "http://localhost:4000";
const key = process.env.KALCIFER_API_KEY;
const exitAfter = process.env.LIVE_EXIT_AFTER;
if (!journey || !key) {
  console.error("usage: KALCIFER_API_KEY=… node live-client.mjs JOURNEY_ID");
  process.exit(2);
}

const url = new URL("/api/v1/socket", base);
url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
url.searchParams.set("token", key); // browsers cannot send headers; Node's ws could
const socket = new WebSocketImpl(url);
let ref = 0;
const send = (topic, event, payload = {}) => socket.send(JSON.stringify({ topic, event, payload, ref: String(++ref) }));

socket.addEventListener("open", () => {
  send(`journey:${journey}`, "phx_join");
  // The server closes a socket that says nothing for 60 s.
  setInterval(() => send("phoenix", "heartbeat"), 30_000).unref();
});
socket.addEventListener("message", (msg) => {
  const { topic, event, payload } = JSON.parse(msg.data);
  if (event === "phx_reply") {
    if (payload.status !== "ok") {
      console.error(`refused: ${topic}: ${payload.response.reason}`);
      process.exit(1);
    }
    if (topic !== "phoenix") console.log(`joined ${topic}`);
    return;
  }
  console.log(`${event} ${JSON.stringify(payload)}`);
  if (event === exitAfter) {
    socket.close();
    process.exit(0);
  }
});
socket.addEventListener("close", (e) => {
  console.error(`closed: ${e.code} ${e.reason}`);
  process.exit(e.code === 1000 ? 0 : 1);
});
