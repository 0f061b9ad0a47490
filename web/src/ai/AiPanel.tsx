// The AI panel beside the canvas: chat with the designer (its progress
// streamed as it works), upload a campaign plan, read its follow-up
// questions and what it did not understand, see what the proposal changes,
// and apply or discard it. The canvas beside it shows the change node by
// node (DiffCanvas); a node selected there shows where in the message it
// was read from, when the server sends source spans.
import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { ErrorNote } from "../screens/Journeys";
import { Icon } from "../shell/Icon";
import { Button } from "../ui/Button";
import type { GraphChange } from "./diff";
import { highlight, sourcesOf } from "./sources";
import type { Designer, Turn } from "./useDesigner";

const accept = ".csv,.xlsx,.docx,.pdf,.txt,.md";

export function AiPanel({ designer, change, selectedId, onApply, applying, applyError }: {
  designer: Designer;
  /** What the proposal changes, or null without one. */
  change: GraphChange | null;
  /** The node selected on the canvas, to show its source text. */
  selectedId: string | null;
  onApply: () => void;
  applying?: boolean;
  applyError?: unknown;
}) {
  const [text, setText] = useState("");
  const fileInput = useRef<HTMLInputElement>(null);
  const log = useRef<HTMLDivElement>(null);
  const d = designer;

  useEffect(() => {
    log.current?.scrollTo({ top: log.current.scrollHeight });
  }, [d.turns.length, d.progress?.text, d.progress?.status]);

  const submit = (e?: FormEvent) => {
    e?.preventDefault();
    const m = text.trim();
    if (!m || d.busy) return;
    setText("");
    void d.send(m);
  };
  const onKey = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === "Enter" && !e.shiftKey) {
      e.preventDefault();
      submit();
    }
  };
  const onFile = (f: File | undefined) => {
    if (!f) return;
    const instructions = text.trim();
    setText("");
    void d.upload(f, instructions);
    if (fileInput.current) fileInput.current.value = "";
  };

  return (
    <aside aria-label="AI designer" className="flex h-full w-[26rem] shrink-0 flex-col border-l border-slate-200 bg-white">
      <header className="flex items-center justify-between border-b border-slate-200 px-4 py-3">
        <div className="flex items-center gap-2">
          <Icon name="sparkle" className="h-5 w-5 text-indigo-600" />
          <h2 className="text-sm font-semibold text-slate-900">AI designer</h2>
        </div>
        {d.design && <span className="rounded bg-slate-100 px-2 py-0.5 font-mono text-xs text-slate-600" title="The designer that answered">{d.design.engine}</span>}
      </header>

      <div ref={log} className="flex-1 space-y-3 overflow-y-auto px-4 py-4" aria-live="polite">
        {d.turns.length === 0 && !d.busy && <Intro />}
        {d.turns.map((t, i) => <TurnView key={i} turn={t} latest={t.role === "assistant" && t.design === d.design}
          onAsk={(q) => setText(q)} />)}
        {d.progress && (
          <div role="status" className="rounded-lg border border-indigo-100 bg-indigo-50/60 px-3 py-2 text-sm text-indigo-900">
            <div className="flex items-center gap-2">
              <span className="h-2 w-2 animate-pulse rounded-full bg-indigo-500" aria-hidden="true" />
              <span>{d.progress.status || "Designing…"}</span>
              <button type="button" onClick={d.cancel} className="ml-auto text-xs text-indigo-700 underline">Stop</button>
            </div>
            {d.progress.text && <p className="mt-1 whitespace-pre-wrap text-slate-700">{d.progress.text}</p>}
          </div>
        )}
        {d.error != null && <ErrorNote error={d.error} />}
      </div>

      {change && d.design && (
        <section aria-label="Proposed change" className="border-t border-slate-200 bg-slate-50 px-4 py-3">
          <div className="flex flex-wrap items-center gap-2 text-xs">
            <span className="font-semibold text-slate-700">Proposed change</span>
            <Count n={change.counts.added} label="added" className="bg-emerald-100 text-emerald-800" />
            <Count n={change.counts.changed} label="changed" className="bg-amber-100 text-amber-800" />
            <Count n={change.counts.removed} label="removed" className="bg-red-100 text-red-800" />
          </div>
          <SourceOf designer={d} selectedId={selectedId} />
          {applyError != null && <ErrorNote error={applyError} />}
          <div className="mt-3 flex gap-2">
            <Button variant="primary" onClick={onApply} disabled={applying || d.busy}>
              {applying ? "Applying…" : "Apply"}
            </Button>
            <Button onClick={d.discard} disabled={applying}>Discard</Button>
          </div>
        </section>
      )}

      <form onSubmit={submit} className="border-t border-slate-200 px-4 py-3">
        <label htmlFor="ai-message" className="sr-only">Message to the designer</label>
        <textarea id="ai-message" rows={3} value={text} onChange={(e) => setText(e.target.value)} onKeyDown={onKey}
          placeholder={d.conversationId ? "Ask for a change: “wait 2 days instead”…" : "Describe the journey, or attach a campaign plan…"}
          className="block w-full resize-none rounded-md border border-slate-300 px-3 py-2 text-sm shadow-sm focus:border-indigo-500 focus:ring-2 focus:ring-indigo-500/30 focus:outline-none" />
        <div className="mt-2 flex items-center justify-between gap-2">
          <input ref={fileInput} type="file" accept={accept} className="hidden" aria-label="Campaign plan file"
            onChange={(e) => onFile(e.target.files?.[0])} />
          <Button variant="ghost" onClick={() => fileInput.current?.click()} disabled={d.busy}
            title="CSV, XLSX, DOCX, PDF, TXT or MD, up to 10 MiB; the text above goes with it as instructions">
            Attach plan…
          </Button>
          <Button type="submit" variant="primary" disabled={d.busy || text.trim() === ""}>
            {d.busy ? "Designing…" : d.conversationId ? "Refine" : "Design"}
          </Button>
        </div>
      </form>
    </aside>
  );
}

function Intro() {
  return (
    <div className="rounded-lg border border-dashed border-slate-300 px-4 py-5 text-sm text-slate-600">
      <p className="font-medium text-slate-800">Describe what should happen, in plain language.</p>
      <p className="mt-2">For example: “When a customer signs up, send a welcome email. If they don’t open it within 3 days,
        send an SMS reminder.” Or attach a campaign plan (CSV, XLSX, DOCX, PDF).</p>
      <p className="mt-2 text-slate-500">The proposal is shown on the canvas first; nothing changes until you apply it.</p>
    </div>
  );
}

function Count({ n, label, className }: { n: number; label: string; className: string }) {
  return <span className={`rounded-full px-2 py-0.5 font-medium ${n === 0 ? "bg-slate-100 text-slate-400" : className}`}>{n} {label}</span>;
}

function TurnView({ turn, latest, onAsk }: { turn: Turn; latest: boolean; onAsk: (q: string) => void }) {
  if (turn.role === "note") return <p className="text-center text-xs text-slate-400">{turn.text}</p>;
  if (turn.role === "user") {
    return (
      <div className="ml-8 rounded-lg bg-indigo-600 px-3 py-2 text-sm whitespace-pre-wrap text-white">
        {turn.file && <div className="mb-1 flex items-center gap-1 text-xs font-medium text-indigo-100">📎 {turn.file}</div>}
        {turn.text || (turn.file ? <span className="text-indigo-200 italic">no instructions</span> : null)}
      </div>
    );
  }
  const d = turn.design;
  return (
    <div className={`mr-4 rounded-lg border px-3 py-2 text-sm ${latest ? "border-slate-200 bg-white shadow-sm" : "border-slate-100 bg-slate-50 text-slate-500"}`}>
      <p className="whitespace-pre-wrap text-slate-800">{d.explanation}</p>
      {d.unrecognized.length > 0 && (
        <div className="mt-2 rounded-md bg-amber-50 px-2 py-1.5">
          <p className="text-xs font-semibold text-amber-900">Not understood, left out:</p>
          <ul className="mt-1 list-disc space-y-0.5 pl-4 text-xs text-amber-900">
            {d.unrecognized.map((u, i) => <li key={i}>{u}</li>)}
          </ul>
        </div>
      )}
      {d.follow_up_questions.length > 0 && (
        <div className="mt-2">
          <p className="text-xs font-semibold text-slate-600">Questions:</p>
          <ul className="mt-1 space-y-1">
            {d.follow_up_questions.map((q, i) => (
              <li key={i}>
                <button type="button" onClick={() => onAsk(q)} title="Answer in the message box"
                  className="text-left text-xs text-indigo-700 hover:underline">{q}</button>
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}

/** SourceOf shows where the selected node was read from, when the server says. */
function SourceOf({ designer, selectedId }: { designer: Designer; selectedId: string | null }) {
  if (!designer.design || !selectedId) {
    return <p className="mt-2 text-xs text-slate-500">Select a node on the canvas to see what changed{designer.design && sourcesOf(designer.design).length > 0 ? " and where it came from" : ""}.</p>;
  }
  const spans = sourcesOf(designer.design).filter((s) => s.node_id === selectedId);
  if (spans.length === 0) {
    return <p className="mt-2 text-xs text-slate-500">No source text for <span className="font-mono">{selectedId}</span>.</p>;
  }
  return (
    <div className="mt-2" data-testid="node-source">
      <p className="text-xs font-semibold text-slate-600">Read from:</p>
      {spans.map((s, i) => {
        const h = highlight(designer.source, s);
        return (
          <p key={i} className="mt-1 max-h-28 overflow-y-auto rounded border border-slate-200 bg-white px-2 py-1 text-xs whitespace-pre-wrap text-slate-500">
            {h ? <>{h.before}<mark className="rounded bg-yellow-200 px-0.5 text-slate-900">{h.mark}</mark>{h.after}</> : <mark className="bg-yellow-200 text-slate-900">{s.text}</mark>}
          </p>
        );
      })}
    </div>
  );
}
