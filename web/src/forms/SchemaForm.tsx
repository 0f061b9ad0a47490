// A form generated from a JSON Schema: one field per property, each with
// the editor its type, pattern or name calls for (see widgetFor), its
// description as help, and the server's problems for it underneath.
import type { ErrorDetail } from "../api/types";
import { useEffect, useId, useState } from "react";
import { channelOf, humanize, splitDuration, unitName, widgetFor, type JSONSchema } from "./schema";

/** Values the pickers offer. */
export type Pickers = {
  /** The node's type, for the channel of template and provider pickers. */
  nodeType: string;
  templates?: { id: string; name: string; channel: string }[];
  providers?: { id: string; name: string; channel: string; is_default: boolean }[];
  eventTypes?: string[];
  /** The tenant's segments, for segment_id fields. */
  segments?: { id: string; name: string }[];
  /** Checks a CEL expression as the server's validation does (inline check); absent: no check. */
  checkExpression?: (expression: string) => Promise<{ valid: boolean; error?: string | undefined }>;
};

type Value = Record<string, unknown>;

export type SchemaFormProps = {
  schema: JSONSchema;
  value: Value;
  onChange: (v: Value) => void;
  /** Problems by field path ("duration", "variants.0.key"); "" is the whole form. */
  problems?: Map<string, string[]>;
  pickers: Pickers;
  readOnly?: boolean;
};

export function SchemaForm(props: SchemaFormProps) {
  const whole = props.problems?.get("") ?? [];
  return (
    <div className="space-y-4">
      {whole.length > 0 && <Problems messages={whole} />}
      <ObjectFields {...props} path="" />
    </div>
  );
}

function ObjectFields({ schema, value, onChange, problems, pickers, readOnly, path }: SchemaFormProps & { path: string }) {
  const required = new Set(schema.required ?? []);
  return (
    <>
      {Object.entries(schema.properties ?? {}).map(([name, s]) => (
        <Field key={name} name={name} schema={s} required={required.has(name)} value={value[name]}
          onChange={(v) => {
            const next = { ...value };
            if (v === undefined) delete next[name];
            else next[name] = v;
            onChange(next);
          }}
          problems={problems} pickers={pickers} readOnly={readOnly} path={path ? `${path}.${name}` : name} />
      ))}
    </>
  );
}

type FieldProps = {
  name: string;
  schema: JSONSchema;
  required: boolean;
  value: unknown;
  onChange: (v: unknown) => void;
  problems?: Map<string, string[]> | undefined;
  pickers: Pickers;
  readOnly?: boolean | undefined;
  path: string;
};

const input =
  "block w-full rounded-md border border-slate-300 bg-white px-2.5 py-1.5 text-sm text-slate-900 shadow-sm focus:border-indigo-500 focus:ring-2 focus:ring-indigo-500/30 focus:outline-none disabled:bg-slate-50 disabled:text-slate-500 aria-[invalid=true]:border-red-400";

function Field(p: FieldProps) {
  const id = useId();
  const w = widgetFor(p.name, p.schema);
  const messages = p.problems?.get(p.path) ?? [];
  const invalid: boolean | undefined = messages.length > 0 ? true : undefined;
  const help = p.schema.description;
  // The required mark sits beside the label, not in it, so the field's
  // name is just its name (aria-required says it is required).
  const label = (
    <div className="flex items-baseline justify-between text-xs font-medium text-slate-700">
      <span>
        <label htmlFor={id}>{humanize(p.name)}</label>
        {p.required && <span className="ml-0.5 text-red-500" aria-hidden="true">*</span>}
      </span>
      {w.kind === "cel" && <span className="font-normal text-slate-400">CEL</span>}
    </div>
  );
  const describedBy = `${id}-help`;
  const common = { id, "aria-invalid": invalid, "aria-describedby": describedBy, disabled: p.readOnly, "aria-required": p.required || undefined };

  let editor;
  switch (w.kind) {
    case "enum":
      editor = (
        <select {...common} className={input} value={str(p.value)} onChange={(e) => p.onChange(e.target.value || undefined)}>
          <option value="">{p.schema.default !== undefined ? `Default (${String(p.schema.default)})` : "—"}</option>
          {w.options.map((o) => <option key={o} value={o}>{o}</option>)}
        </select>
      );
      break;
    case "boolean":
      return (
        <div>
          <label className="flex items-start gap-2 text-sm text-slate-700">
            <input {...common} type="checkbox" className="mt-0.5 h-4 w-4 rounded border-slate-300 text-indigo-600"
              checked={p.value === true} onChange={(e) => p.onChange(e.target.checked ? true : undefined)} />
            <span>
              <span className="font-medium">{humanize(p.name)}</span>
              {help && <span id={describedBy} className="mt-0.5 block text-xs text-slate-500">{help}</span>}
            </span>
          </label>
          <Problems messages={messages} />
        </div>
      );
    case "number":
      editor = (
        <input {...common} type="number" className={input} value={typeof p.value === "number" ? p.value : ""}
          min={p.schema.minimum} max={p.schema.maximum} step={w.integer ? 1 : "any"}
          onChange={(e) => p.onChange(e.target.value === "" ? undefined : Number(e.target.value))} />
      );
      break;
    case "duration":
      editor = <DurationInput {...common} units={w.units} value={p.value} onChange={p.onChange} />;
      break;
    case "template":
    case "provider": {
      const channel = channelOf(p.pickers.nodeType);
      const items = (w.kind === "template" ? p.pickers.templates : p.pickers.providers)?.filter((x) => !channel || x.channel === channel) ?? [];
      const current = str(p.value);
      const known = items.some((x) => x.id === current || x.name === current);
      editor = (
        <select {...common} className={input} value={current} onChange={(e) => p.onChange(e.target.value || undefined)}>
          <option value="">{w.kind === "template" ? "None: inline content below" : "The tenant's default"}</option>
          {items.map((x) => (
            <option key={x.id} value={x.name}>
              {x.name}{"is_default" in x && x.is_default ? " (default)" : ""}
            </option>
          ))}
          {current && !known && <option value={current}>{current} (not found)</option>}
        </select>
      );
      break;
    }
    case "segment": {
      const current = str(p.value);
      const items = p.pickers.segments ?? [];
      editor = (
        <select {...common} className={input} value={current} onChange={(e) => p.onChange(e.target.value || undefined)}>
          <option value="">{p.required ? "Choose a segment" : "Every customer"}</option>
          {items.map((x) => <option key={x.id} value={x.id}>{x.name}</option>)}
          {current && !items.some((x) => x.id === current) && <option value={current}>{current} (not found)</option>}
        </select>
      );
      break;
    }
    case "event":
      editor = (
        <>
          <input {...common} className={input} list={`${id}-events`} value={str(p.value)} autoComplete="off"
            onChange={(e) => p.onChange(e.target.value || undefined)} />
          <datalist id={`${id}-events`}>
            {(p.pickers.eventTypes ?? []).map((t) => <option key={t} value={t} />)}
          </datalist>
        </>
      );
      break;
    case "cel":
      editor = (
        <>
          <textarea {...common} rows={3} spellCheck={false} className={`${input} font-mono text-xs`} value={str(p.value)}
            onChange={(e) => p.onChange(e.target.value || undefined)} />
          {p.pickers.checkExpression && !p.readOnly && <CelCheck expression={str(p.value)} check={p.pickers.checkExpression} />}
        </>
      );
      break;
    case "cron":
      editor = (
        <input {...common} className={`${input} font-mono`} placeholder="0 9 * * 1" value={str(p.value)}
          onChange={(e) => p.onChange(e.target.value || undefined)} />
      );
      break;
    case "text":
      editor = w.multiline ? (
        <textarea {...common} rows={p.name === "code" ? 8 : 4} spellCheck={p.name !== "code"}
          className={`${input} ${p.name === "code" || p.name === "html" ? "font-mono text-xs" : ""}`} value={str(p.value)}
          onChange={(e) => p.onChange(e.target.value || undefined)} />
      ) : (
        <input {...common} className={input} value={str(p.value)} maxLength={p.schema.maxLength}
          placeholder={p.schema.default !== undefined ? String(p.schema.default) : undefined}
          onChange={(e) => p.onChange(e.target.value || undefined)} />
      );
      break;
    case "object":
      return (
        <fieldset className="rounded-md border border-slate-200 p-3">
          <legend className="px-1 text-xs font-medium text-slate-700">{humanize(p.name)}</legend>
          <div className="space-y-3">
            <ObjectFields schema={p.schema} value={obj(p.value)} onChange={(v) => p.onChange(Object.keys(v).length ? v : undefined)}
              problems={p.problems} pickers={p.pickers} readOnly={p.readOnly} path={p.path} />
          </div>
          <Problems messages={messages} />
        </fieldset>
      );
    case "stringMap":
      editor = <StringMap id={id} value={obj(p.value)} onChange={p.onChange} readOnly={p.readOnly} />;
      break;
    case "list":
      return (
        <ListField {...p} label={humanize(p.name)} messages={messages} />
      );
    case "json":
      editor = <JsonInput {...common} value={p.value} onChange={p.onChange} />;
      break;
  }
  return (
    <div className="space-y-1">
      {label}
      {editor}
      {help && <p id={describedBy} className="text-xs text-slate-500">{help}</p>}
      <Problems messages={messages} />
    </div>
  );
}

function DurationInput({ units, value, onChange, ...rest }: {
  units: string[];
  value: unknown;
  onChange: (v: unknown) => void;
  id: string;
  disabled?: boolean | undefined;
  "aria-invalid"?: boolean | undefined;
  "aria-describedby"?: string;
}) {
  const parsed = splitDuration(value, units);
  const [unit, setUnit] = useState(parsed?.unit ?? (units.includes("d") ? "d" : units[units.length - 1]!));
  useEffect(() => {
    if (parsed) setUnit(parsed.unit);
  }, [parsed?.unit]); // eslint-disable-line react-hooks/exhaustive-deps
  // A value the units cannot show (typed elsewhere) is kept and shown as text.
  const raw = typeof value === "string" && value !== "" && !parsed;
  return (
    <div className="flex gap-2">
      <input {...rest} type={raw ? "text" : "number"} min={0} step={1} className={input}
        value={raw ? String(value) : parsed?.n ?? ""}
        onChange={(e) => {
          const n = e.target.value.trim();
          if (n === "") onChange(undefined);
          else onChange(/^[0-9]+$/.test(n) ? `${n}${unit}` : n);
        }} />
      <select aria-label="Unit" className={`${input} w-32`} value={unit} disabled={rest.disabled}
        onChange={(e) => {
          setUnit(e.target.value);
          if (parsed) onChange(`${parsed.n}${e.target.value}`);
        }}>
        {units.map((u) => <option key={u} value={u}>{unitName(u)}</option>)}
      </select>
    </div>
  );
}

function StringMap({ id, value, onChange, readOnly }: { id: string; value: Value; onChange: (v: unknown) => void; readOnly?: boolean | undefined }) {
  const rows = Object.entries(value);
  const set = (entries: [string, unknown][]) => onChange(entries.length ? Object.fromEntries(entries) : undefined);
  return (
    <div id={id} className="space-y-1.5">
      {rows.map(([k, v], i) => (
        <div key={i} className="flex gap-1.5">
          <input aria-label="Name" className={input} value={k} disabled={readOnly}
            onChange={(e) => set(rows.map((r, j) => (j === i ? [e.target.value, r[1]] : r)))} />
          <input aria-label={`Value of ${k}`} className={input} value={str(v)} disabled={readOnly}
            onChange={(e) => set(rows.map((r, j) => (j === i ? [r[0], e.target.value] : r)))} />
          <button type="button" aria-label={`Remove ${k}`} disabled={readOnly}
            className="rounded px-2 text-slate-400 hover:bg-slate-100 hover:text-slate-700"
            onClick={() => set(rows.filter((_, j) => j !== i))}>×</button>
        </div>
      ))}
      {!readOnly && (
        <button type="button" className="text-xs font-medium text-indigo-600 hover:text-indigo-500"
          onClick={() => set([...rows, [nextKey(value), ""]])}>+ Add</button>
      )}
    </div>
  );
}

function nextKey(v: Value): string {
  for (let i = 1; ; i++) if (!(`key${i}` in v)) return `key${i}`;
}

function JsonInput({ value, onChange, ...rest }: {
  value: unknown;
  onChange: (v: unknown) => void;
  id: string;
  disabled?: boolean | undefined;
  "aria-invalid"?: boolean | undefined;
  "aria-describedby"?: string;
}) {
  const [text, setText] = useState(() => (value === undefined ? "" : JSON.stringify(value, null, 2)));
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    // Follow outside changes (undo) unless the text already means the value.
    try {
      if (JSON.stringify(text.trim() ? JSON.parse(text) : undefined) === JSON.stringify(value)) return;
    } catch {
      // the text is being typed; replace it
    }
    setText(value === undefined ? "" : JSON.stringify(value, null, 2));
  }, [value]); // eslint-disable-line react-hooks/exhaustive-deps
  return (
    <>
      <textarea {...rest} rows={3} spellCheck={false} className={`${input} font-mono text-xs`} value={text}
        aria-invalid={error ? true : rest["aria-invalid"]}
        onChange={(e) => {
          setText(e.target.value);
          if (e.target.value.trim() === "") {
            setError(null);
            onChange(undefined);
            return;
          }
          try {
            onChange(JSON.parse(e.target.value));
            setError(null);
          } catch {
            setError("Not valid JSON yet: the last valid value is kept.");
          }
        }}
        placeholder='{"plan": "pro"}' />
      {error && <p className="text-xs text-amber-700">{error}</p>}
    </>
  );
}

function ListField(p: FieldProps & { label: string; messages: string[] }) {
  const items = Array.isArray(p.value) ? (p.value as unknown[]) : [];
  const itemSchema = p.schema.items ?? {};
  const max = p.schema.maxItems ?? Infinity;
  const set = (next: unknown[]) => p.onChange(next.length ? next : undefined);
  return (
    <fieldset className="space-y-2">
      <legend className="text-xs font-medium text-slate-700">
        {p.label}{p.required && <span className="ml-0.5 text-red-500" aria-hidden="true">*</span>}
      </legend>
      {p.schema.description && <p className="text-xs text-slate-500">{p.schema.description}</p>}
      {items.map((item, i) => (
        <div key={i} className="relative rounded-md border border-slate-200 bg-slate-50/60 p-3 pr-8">
          <div className="grid grid-cols-2 gap-2">
            <ObjectFields schema={itemSchema} value={obj(item)} pickers={p.pickers} readOnly={p.readOnly}
              problems={p.problems} path={`${p.path}.${i}`}
              onChange={(v) => set(items.map((x, j) => (j === i ? v : x)))} />
          </div>
          {!p.readOnly && (
            <button type="button" aria-label={`Remove item ${i + 1}`}
              className="absolute top-2 right-2 rounded px-1.5 text-slate-400 hover:bg-slate-200 hover:text-slate-700"
              onClick={() => set(items.filter((_, j) => j !== i))}>×</button>
          )}
        </div>
      ))}
      {!p.readOnly && items.length < max && (
        <button type="button" className="text-xs font-medium text-indigo-600 hover:text-indigo-500"
          onClick={() => set([...items, {}])}>+ Add {p.label.toLowerCase().replace(/s$/, "")}</button>
      )}
      <Problems messages={p.messages} />
    </fieldset>
  );
}

/** How long typing pauses before a CEL expression is checked. */
const CEL_CHECK_DELAY_MS = 400;

/** CelCheck checks an expression once typing pauses and shows why it is wrong, if it is. */
function CelCheck({ expression, check }: { expression: string; check: NonNullable<Pickers["checkExpression"]> }) {
  const [result, setResult] = useState<{ expression: string; error: string | null } | null>(null);
  useEffect(() => {
    if (expression.trim() === "") return;
    let stale = false;
    const t = window.setTimeout(() => {
      check(expression).then(
        (r) => { if (!stale) setResult({ expression, error: r.valid ? null : r.error || "not a valid expression" }); },
        () => { if (!stale) setResult(null); }, // the check could not run: say nothing rather than something wrong
      );
    }, CEL_CHECK_DELAY_MS);
    return () => {
      stale = true;
      window.clearTimeout(t);
    };
  }, [expression, check]);
  // A result is shown only for the text it was about.
  if (!result || result.expression !== expression || expression.trim() === "") return null;
  if (result.error === null) return <p className="text-xs text-emerald-700" data-testid="cel-ok">Valid expression.</p>;
  return <p className="text-xs text-red-600" role="alert" data-testid="cel-error">{result.error}</p>;
}

function Problems({ messages }: { messages: string[] }) {
  if (messages.length === 0) return null;
  return (
    <ul className="space-y-0.5" role="alert">
      {messages.map((m, i) => <li key={i} className="text-xs text-red-600">{m}</li>)}
    </ul>
  );
}

function str(v: unknown): string {
  return typeof v === "string" ? v : v === undefined || v === null ? "" : String(v);
}

function obj(v: unknown): Value {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Value) : {};
}

/**
 * problemsByField groups a node's server problems by config field path:
 * "config.duration" → "duration", "config" → "" (the whole form). Others
 * (a missing branch) are left to the caller.
 */
export function problemsByField(details: ErrorDetail[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const d of details) {
    if (d.field !== "config" && !d.field?.startsWith("config.")) continue;
    const key = d.field === "config" ? "" : d.field.slice("config.".length);
    out.set(key, [...(out.get(key) ?? []), cleanMessage(d.message)]);
  }
  return out;
}

/** cleanMessage drops the "node \"x\": config.y: " prefix the form already shows. */
export function cleanMessage(m: string): string {
  return m.replace(/^node "[^"]*"(?: \([a-z_]+\))?: /, "").replace(/^config(\.[A-Za-z0-9_.]+)?: /, "");
}
