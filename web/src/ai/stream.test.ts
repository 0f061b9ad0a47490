import { describe, expect, it } from "vitest";
import { readEvents } from "./stream";

function body(chunks: string[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return new ReadableStream({
    start(c) {
      for (const ch of chunks) c.enqueue(enc.encode(ch));
      c.close();
    },
  });
}

async function all(chunks: string[]) {
  const out = [];
  for await (const ev of readEvents(body(chunks))) out.push(ev);
  return out;
}

describe("readEvents", () => {
  it("parses events split anywhere across chunks", async () => {
    const evs = await all(['event: status\ndata: {"type":"status","te', 'xt":"reading"}\n', "\nevent: result\ndata: {}\n\n"]);
    expect(evs).toEqual([{ event: "status", data: '{"type":"status","text":"reading"}' }, { event: "result", data: "{}" }]);
  });
  it("joins data lines, skips comments, accepts CRLF and a last event without a blank line", async () => {
    const evs = await all([": keep-alive\r\n\r\ndata: a\r\ndata: b\r\n\r\nevent: error\ndata: {\"x\":1}"]);
    expect(evs).toEqual([{ event: "message", data: "a\nb" }, { event: "error", data: '{"x":1}' }]);
  });
  it("decodes a multi-byte character split between chunks", async () => {
    const enc = new TextEncoder().encode("data: é\n\n");
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(enc.slice(0, 7));
        c.enqueue(enc.slice(7));
        c.close();
      },
    });
    const out = [];
    for await (const ev of readEvents(stream)) out.push(ev);
    expect(out).toEqual([{ event: "message", data: "é" }]);
  });
});
