// One designer turn over server-sent events: the design routes answer
// text/event-stream when asked, with status and delta events while the
// designer works, then one result (the design) or one error event.
import { ApiError, apiToken, apiUrl } from "../api/client";
import type { DesignResponse } from "../api/types";

/** A progress event: a status line, or a piece of the designer's text. */
export type Progress = { type: string; text: string };

/**
 * designTurn POSTs body (JSON, or a form for an upload) to path asking for
 * events, calls onProgress for each status or delta, and resolves with the
 * result. A refusal before the designer starts is a plain JSON error.
 */
export async function designTurn(
  path: string,
  body: Record<string, unknown> | FormData,
  onProgress: (p: Progress) => void,
  signal?: AbortSignal,
): Promise<DesignResponse> {
  const headers: Record<string, string> = { Accept: "text/event-stream" };
  const token = apiToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (!(body instanceof FormData)) headers["Content-Type"] = "application/json";
  const res = await fetch(apiUrl(path), {
    method: "POST",
    headers,
    body: body instanceof FormData ? body : JSON.stringify(body),
    signal,
  });
  if (!res.ok || !res.headers.get("Content-Type")?.startsWith("text/event-stream")) {
    let payload: unknown;
    try {
      payload = await res.json();
    } catch {
      payload = undefined;
    }
    if (!res.ok) throw new ApiError(res.status, payload);
    return payload as DesignResponse; // a server that does not stream answers JSON
  }
  let result: DesignResponse | undefined;
  for await (const ev of readEvents(res.body!)) {
    const data: unknown = JSON.parse(ev.data);
    if (ev.event === "result") result = data as DesignResponse;
    else if (ev.event === "error") throw new ApiError(502, data);
    else onProgress(data as Progress);
  }
  if (!result) throw new Error("the designer's answer ended before its result");
  return result;
}

/** An event of a text/event-stream: its name and its data lines joined. */
export type SSEvent = { event: string; data: string };

/** readEvents parses a text/event-stream body into events as they arrive. */
export async function* readEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<SSEvent> {
  const reader = body.getReader();
  const dec = new TextDecoder();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    buf += dec.decode(value, { stream: !done }).replace(/\r\n?/g, "\n");
    let cut: number;
    while ((cut = buf.indexOf("\n\n")) >= 0) {
      const block = buf.slice(0, cut);
      buf = buf.slice(cut + 2);
      const ev = parseBlock(block);
      if (ev) yield ev;
    }
    if (done) break;
  }
  const last = parseBlock(buf);
  if (last) yield last;
}

function parseBlock(block: string): SSEvent | null {
  let event = "message";
  const data: string[] = [];
  for (const line of block.split("\n")) {
    if (line === "" || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
  return data.length > 0 ? { event, data: data.join("\n") } : null;
}
