// Source spans: where in the person's message the designer read each node
// (the design result's `sources`, byte offsets into the message). A server
// without them answers no `sources`; then nothing is highlighted.
import type { DesignResponse } from "../api/types";

/** A span as the API sends it (generated type when the schema has sources). */
export type SourceSpan = DesignResponse extends { sources?: (infer S)[] }
  ? S
  : { node_id?: string; part?: string; start: number; end: number; text: string };

/** sourcesOf is the design's source spans, or none when the server sends none. */
export function sourcesOf(d: DesignResponse): SourceSpan[] {
  const raw = (d as { sources?: unknown }).sources;
  if (!Array.isArray(raw)) return [];
  return raw.filter((s): s is SourceSpan =>
    typeof s === "object" && s !== null && typeof s.start === "number" && typeof s.end === "number" &&
    typeof s.text === "string");
}

/** A message cut around its highlighted span. */
export type Highlighted = { before: string; mark: string; after: string };

/**
 * highlight cuts message around span: byte offsets into its UTF-8, checked
 * against the span's text (offsets into another text, such as an uploaded
 * document, do not match it); failing that, the first place the text
 * occurs; null when it is not in the message at all.
 */
export function highlight(message: string, span: { start: number; end: number; text: string }): Highlighted | null {
  const bytes = new TextEncoder().encode(message);
  if (span.start >= 0 && span.end <= bytes.length && span.start <= span.end) {
    const dec = new TextDecoder("utf-8", { fatal: true });
    try {
      const before = dec.decode(bytes.subarray(0, span.start));
      const mark = dec.decode(bytes.subarray(span.start, span.end));
      if (mark === span.text) return { before, mark, after: dec.decode(bytes.subarray(span.end)) };
    } catch {
      // offsets inside a character: not offsets into this message
    }
  }
  const at = span.text === "" ? -1 : message.indexOf(span.text);
  if (at < 0) return null;
  return { before: message.slice(0, at), mark: span.text, after: message.slice(at + span.text.length) };
}
