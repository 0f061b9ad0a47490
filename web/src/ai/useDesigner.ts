// The state of a conversation with the AI designer: the turns so far, the
// progress of the turn under way (streamed), and the latest proposal.
import { useCallback, useRef, useState } from "react";
import { api, unwrap } from "../api/client";
import type { DesignResponse, Journey } from "../api/types";
import { designTurn, type Progress } from "./stream";

/** A turn of the chat as the panel shows it. */
export type Turn =
  | { role: "user"; text: string; file?: string }
  | { role: "assistant"; design: DesignResponse; source: string }
  | { role: "note"; text: string };

export type Designer = ReturnType<typeof useDesigner>;

/**
 * useDesigner holds one conversation. journeyId, when set, makes the first
 * message refine that journey; an uploaded plan always starts a conversation
 * of its own (the upload route designs a new journey).
 */
export function useDesigner(journeyId?: string) {
  const [turns, setTurns] = useState<Turn[]>([]);
  const [conversationId, setConversationId] = useState<string | null>(null);
  const [design, setDesign] = useState<DesignResponse | null>(null);
  /** The text the proposal was read from (its sources are offsets into it). */
  const [source, setSource] = useState("");
  const [busy, setBusy] = useState(false);
  const [progress, setProgress] = useState<{ status: string; text: string } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const abort = useRef<AbortController | null>(null);

  const run = useCallback(async (path: string, body: Record<string, unknown> | FormData, user: Turn, text: string) => {
    setTurns((t) => [...t, user]);
    setBusy(true);
    setError(null);
    setProgress({ status: "Sent to the designer…", text: "" });
    const ctl = new AbortController();
    abort.current = ctl;
    try {
      const d = await designTurn(path, body, (p: Progress) =>
        setProgress((cur) => p.type === "delta"
          ? { status: cur?.status ?? "", text: (cur?.text ?? "") + p.text }
          : { status: p.text, text: cur?.text ?? "" }), ctl.signal);
      setDesign(d);
      setSource(text);
      if (d.conversation_id) setConversationId(d.conversation_id);
      setTurns((t) => [...t, { role: "assistant", design: d, source: text }]);
    } catch (err) {
      if (!ctl.signal.aborted) setError(err);
    } finally {
      setBusy(false);
      setProgress(null);
      abort.current = null;
    }
  }, []);

  /** send asks the designer for a journey, or to change the proposal. */
  const send = useCallback((message: string) => {
    const user: Turn = { role: "user", text: message };
    if (conversationId) {
      return run(`/api/v1/ai/conversations/${encodeURIComponent(conversationId)}/message`, { message }, user, message);
    }
    return run("/api/v1/ai/conversations", journeyId ? { journey_id: journeyId, message } : { message }, user, message);
  }, [conversationId, journeyId, run]);

  /** upload designs a journey from a campaign plan (CSV, XLSX, DOCX, PDF, TXT, MD). */
  const upload = useCallback((file: File, instructions: string) => {
    const form = new FormData();
    form.append("file", file);
    if (instructions) form.append("instructions", instructions);
    return run("/api/v1/ai/upload", form, { role: "user", text: instructions, file: file.name }, instructions);
  }, [run]);

  /** apply saves the proposal as the journey's draft (or a new draft journey). */
  const apply = useCallback(async (opts: { name?: string } = {}): Promise<Journey> => {
    if (!conversationId) throw new Error("there is no proposal to apply");
    const res = await unwrap(api.POST("/api/v1/ai/conversations/{id}/apply", {
      params: { path: { id: conversationId } },
      body: { name: opts.name || undefined },
    }));
    if (!res.journey) throw new Error("the server saved no journey");
    return res.journey;
  }, [conversationId]);

  /** discard drops the proposal; the next message starts a new conversation. */
  const discard = useCallback(() => {
    abort.current?.abort();
    setDesign(null);
    setConversationId(null);
    setSource("");
    setTurns((t) => [...t, { role: "note", text: "Proposal discarded. The next message starts afresh." }]);
  }, []);

  /** applied ends the conversation once its proposal was saved. */
  const applied = useCallback(() => {
    setDesign(null);
    setConversationId(null);
    setSource("");
    setTurns((t) => [...t, { role: "note", text: "Applied." }]);
  }, []);

  const cancel = useCallback(() => abort.current?.abort(), []);

  return { turns, design, source, busy, progress, error, conversationId, send, upload, apply, discard, applied, cancel };
}
