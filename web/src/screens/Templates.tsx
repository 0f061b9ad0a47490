// Message templates: the list, and an editor for one template's Liquid
// content per channel, with a rendered preview (POST .../preview on the
// draft as typed), its versions, and delete.
import { useEffect, useMemo, useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import { keys, useTemplates } from "../api/queries";
import type { components } from "../api/schema";
import type { Template } from "../api/types";
import { Icon } from "../shell/Icon";
import { Button } from "../ui/Button";
import { Field, Select, TextArea, TextInput } from "../ui/Field";
import { ErrorNote } from "./Journeys";

type Channel = components["schemas"]["Channel"];
type Content = components["schemas"]["TemplateContent"];
type Preview = components["schemas"]["TemplatePreview"];

const channels: Channel[] = ["email", "sms", "whatsapp", "push"];

/** The content fields each channel takes, in form order. */
export const channelFields: Record<Channel, (keyof Content)[]> = {
  email: ["subject", "html", "text"],
  sms: ["body"],
  whatsapp: ["body"],
  push: ["title", "body", "data"],
};

const fieldHelp: Partial<Record<keyof Content, string>> = {
  subject: "Required.",
  html: "The HTML part; html or text is required.",
  text: "The plain-text part; left empty, a send derives it from the HTML.",
  body: "Required.",
  title: "Required.",
  data: "One key=value per line; each value is Liquid.",
};

/** A template as the form edits it: every field a string (push data as lines). */
type Draft = { name: string; channel: Channel } & Record<Exclude<keyof Content, "data">, string> & { data: string };

const emptyDraft: Draft = { name: "", channel: "email", subject: "", html: "", text: "", body: "", title: "", data: "" };

function toDraft(t: Template): Draft {
  return {
    name: t.name, channel: t.channel, subject: t.subject ?? "", html: t.html ?? "", text: t.text ?? "",
    body: t.body ?? "", title: t.title ?? "",
    data: Object.entries(t.data ?? {}).map(([k, v]) => `${k}=${v}`).join("\n"),
  };
}

/** contentOf is the draft's content for its channel: only the fields it takes, empty ones left out. */
export function contentOf(d: Draft): Content {
  const out: Content = {};
  for (const f of channelFields[d.channel]) {
    if (f === "data") {
      const data = parseData(d.data);
      if (Object.keys(data).length > 0) out.data = data;
    } else if (d[f] !== "") out[f] = d[f];
  }
  return out;
}

/** parseData reads key=value lines (blank lines skipped; the first = splits). */
export function parseData(lines: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of lines.split("\n")) {
    if (line.trim() === "") continue;
    const eq = line.indexOf("=");
    if (eq <= 0) out[line.trim()] = "";
    else out[line.slice(0, eq).trim()] = line.slice(eq + 1);
  }
  return out;
}

export default function TemplatesScreen() {
  const templates = useTemplates();
  const [selected, setSelected] = useState<string | "new" | null>(null);
  const list = templates.data?.data ?? [];
  const current = list.find((t) => t.id === selected);

  return (
    <div className="flex h-full min-h-0">
      <section aria-label="Templates" className="flex w-80 shrink-0 flex-col border-r border-slate-200 bg-white">
        <header className="flex items-center justify-between px-5 pt-6 pb-4">
          <div>
            <h1 className="text-xl font-semibold tracking-tight text-slate-900">Templates</h1>
            <p className="mt-0.5 text-xs text-slate-500">Liquid messages the send nodes render.</p>
          </div>
          <Button variant="primary" onClick={() => setSelected("new")}><Icon name="plus" className="h-4 w-4" />New</Button>
        </header>
        {templates.isError && <div className="px-5"><ErrorNote error={templates.error} /></div>}
        <ul className="flex-1 overflow-y-auto px-3 pb-4">
          {templates.isPending && <li className="px-2 py-6 text-sm text-slate-400">Loading…</li>}
          {templates.isSuccess && list.length === 0 && (
            <li className="px-2 py-6 text-sm text-slate-500">No templates yet. Create one to use it in a send node.</li>
          )}
          {list.map((t) => (
            <li key={t.id}>
              <button type="button" onClick={() => setSelected(t.id)} aria-current={t.id === selected ? "true" : undefined}
                className={`mb-1 flex w-full items-center justify-between gap-2 rounded-md px-3 py-2 text-left ${t.id === selected ? "bg-indigo-50 ring-1 ring-indigo-200" : "hover:bg-slate-50"}`}>
                <span className="min-w-0">
                  <span className="block truncate text-sm font-medium text-slate-900">{t.name}</span>
                  <span className="block truncate text-xs text-slate-500">{t.subject ?? t.title ?? t.body ?? ""}</span>
                </span>
                <span className="flex shrink-0 flex-col items-end gap-1">
                  <ChannelBadge channel={t.channel} />
                  <span className="text-[11px] text-slate-400">v{t.version}</span>
                </span>
              </button>
            </li>
          ))}
        </ul>
      </section>
      <div className="min-w-0 flex-1 overflow-y-auto">
        {selected === "new" ? (
          <TemplateEditor key="new" onSaved={(t) => setSelected(t.id)} onDeleted={() => setSelected(null)} />
        ) : current ? (
          <TemplateEditor key={current.id + ":" + current.version} template={current} onSaved={(t) => setSelected(t.id)} onDeleted={() => setSelected(null)} />
        ) : (
          <div className="flex h-full items-center justify-center p-10 text-sm text-slate-500">
            {list.length > 0 ? "Select a template to edit it, or create a new one." : "Create a template to get started."}
          </div>
        )}
      </div>
    </div>
  );
}

export function ChannelBadge({ channel }: { channel: string }) {
  const color: Record<string, string> = {
    email: "bg-sky-50 text-sky-700 ring-sky-200", sms: "bg-violet-50 text-violet-700 ring-violet-200",
    whatsapp: "bg-emerald-50 text-emerald-700 ring-emerald-200", push: "bg-orange-50 text-orange-700 ring-orange-200",
  };
  return <span className={`rounded-full px-2 py-0.5 text-[11px] font-medium ring-1 ring-inset ${color[channel] ?? "bg-slate-50 text-slate-600 ring-slate-200"}`}>{channel}</span>;
}

function TemplateEditor({ template, onSaved, onDeleted }: { template?: Template; onSaved: (t: Template) => void; onDeleted: () => void }) {
  const [draft, setDraft] = useState<Draft>(() => (template ? toDraft(template) : emptyDraft));
  const set = <K extends keyof Draft>(k: K, v: Draft[K]) => setDraft((d) => ({ ...d, [k]: v }));
  const qc = useQueryClient();
  const save = useMutation({
    mutationFn: () => {
      const content = contentOf(draft);
      return template
        ? unwrap(api.PUT("/api/v1/templates/{id}", { params: { path: { id: template.id } }, body: { name: draft.name, ...content } }))
        : unwrap(api.POST("/api/v1/templates", { body: { name: draft.name, channel: draft.channel, ...content } }));
    },
    onSuccess: (t) => {
      qc.invalidateQueries({ queryKey: keys.templates });
      qc.invalidateQueries({ queryKey: ["template-versions", t.id] });
      onSaved(t);
    },
  });
  const remove = useMutation({
    mutationFn: () => unwrap(api.DELETE("/api/v1/templates/{id}", { params: { path: { id: template!.id } } })),
    onSuccess: () => {
      qc.invalidateQueries({ queryKey: keys.templates });
      onDeleted();
    },
  });
  const [confirmDelete, setConfirmDelete] = useState(false);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };

  return (
    // Side by side only when the content area is wide enough (a container
    // query: the list beside it takes room the viewport width does not show).
    <div className="@container">
    <div className="mx-auto grid max-w-6xl gap-6 px-8 py-6 @5xl:grid-cols-[minmax(0,1fr)_minmax(0,26rem)]">
      <form onSubmit={submit} className="space-y-4 rounded-lg border border-slate-200 bg-white p-6 shadow-sm" aria-label="Template">
        <div className="flex items-center justify-between">
          <h2 className="text-lg font-semibold text-slate-900">{template ? template.name : "New template"}</h2>
          {template && <span className="text-xs text-slate-500">version {template.version} · <span className="font-mono">{template.id}</span></span>}
        </div>
        <div className="grid grid-cols-[minmax(0,1fr)_10rem] gap-4">
          <Field id="tpl-name" label="Name" hint="Unique in the tenant; send nodes name templates by id or name.">
            <TextInput id="tpl-name" value={draft.name} onChange={(e) => set("name", e.target.value)} required placeholder="welcome-email" />
          </Field>
          <Field id="tpl-channel" label="Channel" hint={template ? "Fixed once created." : undefined}>
            <Select id="tpl-channel" value={draft.channel} disabled={!!template} onChange={(e) => set("channel", e.target.value as Channel)}>
              {channels.map((c) => <option key={c} value={c}>{c}</option>)}
            </Select>
          </Field>
        </div>
        {channelFields[draft.channel].map((f) => (
          <Field key={f} id={`tpl-${f}`} label={label(f)} hint={fieldHelp[f]}>
            {f === "subject" || f === "title" ? (
              <TextInput id={`tpl-${f}`} value={draft[f]} onChange={(e) => set(f, e.target.value)} className="font-mono" />
            ) : (
              <TextArea id={`tpl-${f}`} rows={f === "html" ? 10 : 4} value={draft[f]} onChange={(e) => set(f, e.target.value)}
                className="font-mono text-[13px]" spellCheck={false} />
            )}
          </Field>
        ))}
        {save.isError && <ErrorNote error={save.error} />}
        {remove.isError && <ErrorNote error={remove.error} />}
        <div className="flex items-center justify-between border-t border-slate-100 pt-4">
          <div>
            {template && !confirmDelete && <Button variant="ghost" className="text-red-600" onClick={() => setConfirmDelete(true)}><Icon name="trash" className="h-4 w-4" />Delete</Button>}
            {template && confirmDelete && (
              <span className="flex items-center gap-2 text-sm text-slate-700">
                Delete “{template.name}”? Nodes naming it will fail their sends.
                <Button variant="danger" onClick={() => remove.mutate()} disabled={remove.isPending}>Delete</Button>
                <Button onClick={() => setConfirmDelete(false)}>Keep</Button>
              </span>
            )}
          </div>
          <Button type="submit" variant="primary" disabled={save.isPending || draft.name.trim() === ""}>
            {save.isPending ? "Saving…" : template ? "Save new version" : "Create template"}
          </Button>
        </div>
      </form>
      <div className="space-y-6">
        {template ? <PreviewPane template={template} draft={draft} /> : (
          <p className="rounded-lg border border-dashed border-slate-300 p-4 text-sm text-slate-500">Create the template to preview it with sample data.</p>
        )}
        {template && <Versions template={template} />}
      </div>
    </div>
    </div>
  );
}

function label(f: keyof Content): string {
  return { subject: "Subject", html: "HTML", text: "Plain text", body: "Body", title: "Title", data: "Data" }[f];
}

const defaultSample = JSON.stringify({ customer: { id: "cus_1", first_name: "Ada", email: "ada@example.com", plan: "pro" } }, null, 2);

function PreviewPane({ template, draft }: { template: Template; draft: Draft }) {
  const [sample, setSample] = useState(defaultSample);
  const content = useMemo(() => contentOf(draft), [draft]);
  const preview = useMutation({
    mutationFn: () => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(sample);
      } catch (err) {
        throw new Error(`The sample data is not JSON: ${(err as Error).message}`);
      }
      return unwrap(api.POST("/api/v1/templates/{id}/preview", {
        params: { path: { id: template.id } },
        body: { sample: parsed as components["schemas"]["PreviewSample"], template: content },
      }));
    },
  });
  // Render once on open, so the pane is never blank.
  useEffect(() => {
    preview.mutate();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [template.id]);
  return (
    <section aria-label="Preview" className="rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
      <div className="flex items-center justify-between">
        <h3 className="text-sm font-semibold text-slate-900">Preview</h3>
        <Button onClick={() => preview.mutate()} disabled={preview.isPending}>{preview.isPending ? "Rendering…" : "Render"}</Button>
      </div>
      <div className="mt-3">
        <Field id="tpl-sample" label="Sample data" hint="customer, event, journey and instance, as a send sees them.">
          <TextArea id="tpl-sample" rows={5} value={sample} onChange={(e) => setSample(e.target.value)} className="font-mono text-xs" spellCheck={false} />
        </Field>
      </div>
      {preview.isError && <ErrorNote error={preview.error} />}
      {preview.data && <Rendered p={preview.data} />}
    </section>
  );
}

function Rendered({ p }: { p: Preview }) {
  return (
    <div className="mt-4 space-y-3" data-testid="template-preview">
      {p.warnings.length > 0 && (
        <ul className="rounded-md bg-amber-50 px-3 py-2 text-xs text-amber-900">
          {p.warnings.map((w, i) => <li key={i}>{w.field ? `${w.field} ` : ""}line {w.line}:{w.column}: {w.message}</li>)}
        </ul>
      )}
      {p.subject !== undefined && <Part label="Subject"><span className="font-medium">{p.subject}</span></Part>}
      {p.title !== undefined && <Part label="Title"><span className="font-medium">{p.title}</span></Part>}
      {p.html !== undefined && (
        <Part label="HTML">
          {/* Rendered in a sandboxed frame without scripts: the template's HTML never runs in the app. */}
          <iframe title="HTML preview" sandbox="" srcDoc={p.html} className="h-56 w-full rounded border border-slate-200 bg-white" />
        </Part>
      )}
      {p.text !== undefined && <Part label="Plain text"><pre className="font-sans whitespace-pre-wrap">{p.text}</pre></Part>}
      {p.body !== undefined && <Part label="Body"><pre className="font-sans whitespace-pre-wrap">{p.body}</pre></Part>}
      {p.data && Object.keys(p.data).length > 0 && (
        <Part label="Data"><pre className="font-mono text-xs">{JSON.stringify(p.data, null, 2)}</pre></Part>
      )}
    </div>
  );
}

function Part({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div>
      <div className="text-[11px] font-semibold tracking-wide text-slate-500 uppercase">{label}</div>
      <div className="mt-1 text-sm text-slate-800">{children}</div>
    </div>
  );
}

function Versions({ template }: { template: Template }) {
  const versions = useQuery({
    queryKey: ["template-versions", template.id, template.version],
    queryFn: () => unwrap(api.GET("/api/v1/templates/{id}/versions", { params: { path: { id: template.id } } })),
  });
  return (
    <section aria-label="Versions" className="rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
      <h3 className="text-sm font-semibold text-slate-900">Versions</h3>
      {versions.isError && <ErrorNote error={versions.error} />}
      <ol className="mt-2 divide-y divide-slate-100">
        {[...(versions.data?.data ?? [])].sort((a, b) => b.version - a.version).map((v) => (
          <li key={v.version} className="flex items-baseline gap-3 py-2 text-sm">
            <span className="w-8 shrink-0 font-medium text-slate-800">v{v.version}</span>
            <span className="min-w-0 flex-1">
              <span className="block truncate text-xs text-slate-700">{v.subject ?? v.title ?? v.body ?? ""}</span>
              <span className="block truncate text-xs text-slate-400" title={v.author}>by {v.author}</span>
            </span>
            <time className="shrink-0 text-xs text-slate-500" dateTime={v.created_at}>
              {new Date(v.created_at).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" })}
            </time>
          </li>
        ))}
      </ol>
    </section>
  );
}
