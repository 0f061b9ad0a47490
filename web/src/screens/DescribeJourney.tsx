// "Describe a journey": one message to the AI designer, whose graph is
// saved as a new draft journey (POST /ai/conversations, then .../apply).
// The full chat panel is a screen of its own.
import { useState, type FormEvent } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import { navigate } from "../router";
import { Button } from "../ui/Button";
import { Dialog } from "../ui/Dialog";
import { ErrorNote } from "./Journeys";

export function DescribeJourney({ open, onOpenChange }: { open: boolean; onOpenChange: (o: boolean) => void }) {
  const [text, setText] = useState("");
  const [name, setName] = useState("");
  const qc = useQueryClient();
  const design = useMutation({
    mutationFn: async () => {
      // Answered as JSON (not server-sent events): the client sends no
      // Accept: text/event-stream.
      const d = await unwrap(api.POST("/api/v1/ai/conversations", { body: { message: text.trim() } }));
      if (typeof d === "string" || !d.conversation_id) throw new Error("the designer answered without a conversation to apply");
      const applied = await unwrap(api.POST("/api/v1/ai/conversations/{id}/apply", {
        params: { path: { id: d.conversation_id } },
        body: { name: name.trim() || undefined },
      }));
      if (!applied.journey) throw new Error("the designer saved no journey");
      return { journey: applied.journey, design: d };
    },
    onSuccess: ({ journey }) => {
      qc.invalidateQueries({ queryKey: ["journeys"] });
      onOpenChange(false);
      navigate(`/journeys/${encodeURIComponent(journey.id)}`);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    design.mutate();
  };
  return (
    <Dialog open={open} onOpenChange={onOpenChange} title="Describe a journey"
      description="Say what should happen in plain language; the designer drafts the journey and opens it on the canvas.">
      <form onSubmit={submit}>
        <label htmlFor="describe-name" className="block text-sm font-medium text-slate-700">Name</label>
        <input id="describe-name" value={name} onChange={(e) => setName(e.target.value)} placeholder="Welcome series"
          className="mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 text-sm shadow-sm focus:border-indigo-500 focus:ring-2 focus:ring-indigo-500/30 focus:outline-none" />
        <label htmlFor="describe-text" className="mt-4 block text-sm font-medium text-slate-700">What should happen?</label>
        <textarea id="describe-text" rows={5} value={text} onChange={(e) => setText(e.target.value)}
          placeholder="When a customer signs up, send a welcome email. If they don't open it within 3 days, send an SMS reminder; if they do, wait a week and send an upsell email."
          className="mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 text-sm shadow-sm focus:border-indigo-500 focus:ring-2 focus:ring-indigo-500/30 focus:outline-none" />
        {design.isError && <ErrorNote error={design.error} />}
        <div className="mt-6 flex justify-end gap-2">
          <Button onClick={() => onOpenChange(false)}>Cancel</Button>
          <Button type="submit" variant="primary" disabled={design.isPending || text.trim() === ""}>
            {design.isPending ? "Designing…" : "Design it"}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
