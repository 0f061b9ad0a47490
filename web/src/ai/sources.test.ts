import { describe, expect, it } from "vitest";
import type { DesignResponse } from "../api/types";
import { highlight, sourcesOf } from "./sources";

const base: DesignResponse = { graph: { nodes: [], edges: [] }, explanation: "", follow_up_questions: [], unrecognized: [], engine: "offline" };

describe("sourcesOf", () => {
  it("is empty when the server sends no sources", () => {
    expect(sourcesOf(base)).toEqual([]);
  });
  it("keeps well-formed spans only", () => {
    const d = { ...base, sources: [{ node_id: "a", start: 0, end: 4, text: "When" }, { node_id: "b", start: "x" }, null] };
    expect(sourcesOf(d as DesignResponse)).toEqual([{ node_id: "a", start: 0, end: 4, text: "When" }]);
  });
});

describe("highlight", () => {
  it("cuts at byte offsets, counting multi-byte characters as UTF-8", () => {
    // "send" twice: the offsets name the second; "é" is 2 bytes and "→" 3.
    const msg = "Café: send a welcome email → send an SMS";
    const start = new TextEncoder().encode("Café: send a welcome email → ").length;
    expect(start).toBe(32);
    expect(highlight(msg, { start, end: start + 4, text: "send" })).toEqual({
      before: "Café: send a welcome email → ", mark: "send", after: " an SMS",
    });
  });
  it("falls back to the text when the offsets are into another text", () => {
    expect(highlight("wait 3 days then send", { start: 100, end: 106, text: "3 days" })).toEqual({
      before: "wait ", mark: "3 days", after: " then send",
    });
  });
  it("is null when the text is not in the message", () => {
    expect(highlight("hello", { start: 0, end: 3, text: "bye" })).toBeNull();
  });
});
