// Provider accounts: the tenant's credentials with each message provider.
// List, add and edit (credentials are write-only: the API never returns
// them, only which are set), make one the default for its channel, send a
// test message, delete. The API has no catalogue of each driver's fields,
// so the config is edited as JSON, checked by the server (422 names the field).
import { useState, type FormEvent } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import { keys, useProviders } from "../api/queries";
import type { components } from "../api/schema";
import type { ProviderAccount } from "../api/types";
import { Icon } from "../shell/Icon";
import { Button } from "../ui/Button";
import { Dialog } from "../ui/Dialog";
import { Field, Select, TextArea, TextInput } from "../ui/Field";
import { ErrorNote } from "./Journeys";
import { ChannelBadge } from "./Templates";

type Channel = components["schemas"]["Channel"];
type TestResult = components["schemas"]["ProviderTestResult"];

/** The drivers of each channel, as docs/providers/README.md lists them; log serves any. */
export const driversByChannel: Record<Channel, string[]> = {
  email: ["smtp", "sendgrid", "ses", "postmark", "log"],
  sms: ["twilio", "vonage", "log"],
  whatsapp: ["twilio", "metawhatsapp", "log"],
  push: ["fcm", "apns", "log"],
};
const channels = Object.keys(driversByChannel) as Channel[];

export default function ProvidersScreen() {
  const providers = useProviders();
  const [editing, setEditing] = useState<ProviderAccount | "new" | null>(null);
  const [testing, setTesting] = useState<ProviderAccount | null>(null);
  const list = providers.data?.data ?? [];
  const qc = useQueryClient();
  const makeDefault = useMutation({
    mutationFn: (a: ProviderAccount) => unwrap(api.PUT("/api/v1/providers/{id}", { params: { path: { id: a.id } }, body: { is_default: true } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.providers }),
  });
  const remove = useMutation({
    mutationFn: (a: ProviderAccount) => unwrap(api.DELETE("/api/v1/providers/{id}", { params: { path: { id: a.id } } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.providers }),
  });

  return (
    <div className="mx-auto max-w-6xl px-8 py-8">
      <header className="flex items-start justify-between gap-6">
        <div className="min-w-0 max-w-2xl">
          <h1 className="text-2xl font-semibold tracking-tight text-slate-900">Providers</h1>
          <p className="mt-1 text-sm text-slate-500">
            The accounts messages are sent through. A channel without a default account records its messages instead of delivering them.
          </p>
        </div>
        <Button variant="primary" className="shrink-0" onClick={() => setEditing("new")}><Icon name="plus" className="h-4 w-4" />Add account</Button>
      </header>
      {providers.isError && <ErrorNote error={providers.error} />}
      {makeDefault.isError && <ErrorNote error={makeDefault.error} />}
      {remove.isError && <ErrorNote error={remove.error} />}
      <div className="mt-6 overflow-hidden rounded-lg border border-slate-200 bg-white shadow-sm">
        <table className="min-w-full divide-y divide-slate-200 text-sm">
          <thead className="bg-slate-50 text-left text-xs font-semibold tracking-wide text-slate-500 uppercase">
            <tr>
              <th scope="col" className="px-4 py-3">Name</th>
              <th scope="col" className="px-4 py-3">Channel</th>
              <th scope="col" className="px-4 py-3">Driver</th>
              <th scope="col" className="px-4 py-3">Credentials</th>
              <th scope="col" className="px-4 py-3">Default</th>
              <th scope="col" className="px-4 py-3"><span className="sr-only">Actions</span></th>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {providers.isPending && <tr><td colSpan={6} className="px-4 py-10 text-center text-slate-400">Loading…</td></tr>}
            {providers.isSuccess && list.length === 0 && (
              <tr><td colSpan={6} className="px-4 py-10 text-center text-slate-500">No accounts yet: every message is recorded by the log provider, not delivered.</td></tr>
            )}
            {list.map((a) => (
              <tr key={a.id}>
                <td className="px-4 py-3">
                  <div className="font-medium text-slate-900">{a.name}</div>
                  <div className="font-mono text-xs text-slate-400">{a.id}</div>
                </td>
                <td className="px-4 py-3"><ChannelBadge channel={a.channel} /></td>
                <td className="px-4 py-3 font-mono text-xs text-slate-700">{a.type}</td>
                <td className="px-4 py-3 text-xs text-slate-600">
                  {a.secrets_set.length > 0 ? a.secrets_set.map((s) => <span key={s} className="mr-1 rounded bg-slate-100 px-1.5 py-0.5 font-mono">{s} ●●●</span>) : <span className="text-slate-400">none</span>}
                </td>
                <td className="px-4 py-3">
                  {a.is_default ? (
                    <span className="rounded-full bg-indigo-50 px-2 py-0.5 text-xs font-medium text-indigo-700 ring-1 ring-indigo-200 ring-inset">default for {a.channel}</span>
                  ) : (
                    <Button variant="ghost" className="text-xs" onClick={() => makeDefault.mutate(a)} disabled={makeDefault.isPending}>Make default</Button>
                  )}
                </td>
                <td className="px-4 py-3 text-right whitespace-nowrap">
                  <Button variant="ghost" onClick={() => setTesting(a)}>Send test</Button>
                  <Button variant="ghost" onClick={() => setEditing(a)}>Edit</Button>
                  <Button variant="ghost" className="text-red-600" aria-label={`Delete ${a.name}`}
                    onClick={() => { if (window.confirm(`Delete ${a.name}? Nodes naming it will fail their sends.`)) remove.mutate(a); }}>
                    <Icon name="trash" className="h-4 w-4" />
                  </Button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {editing && <AccountDialog account={editing === "new" ? undefined : editing} onClose={() => setEditing(null)} />}
      {testing && <TestDialog account={testing} onClose={() => setTesting(null)} />}
    </div>
  );
}

function AccountDialog({ account, onClose }: { account?: ProviderAccount; onClose: () => void }) {
  const [name, setName] = useState(account?.name ?? "");
  const [channel, setChannel] = useState<Channel>(account?.channel ?? "email");
  const [type, setType] = useState(account?.type ?? "smtp");
  const [config, setConfig] = useState(() => JSON.stringify(account?.config ?? {}, null, 2));
  const [isDefault, setIsDefault] = useState(account?.is_default ?? false);
  const qc = useQueryClient();
  const save = useMutation({
    mutationFn: () => {
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(config || "{}") as Record<string, unknown>;
      } catch (err) {
        throw new Error(`The config is not JSON: ${(err as Error).message}`);
      }
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("The config must be a JSON object.");
      return account
        ? unwrap(api.PUT("/api/v1/providers/{id}", { params: { path: { id: account.id } }, body: { name, config: parsed, is_default: isDefault } }))
        : unwrap(api.POST("/api/v1/providers", { body: { name, channel, type, config: parsed, is_default: isDefault } }));
    },
    onSuccess: () => {
      qc.invalidateQueries({ queryKey: keys.providers });
      onClose();
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  return (
    <Dialog open onOpenChange={(o) => !o && onClose()} title={account ? `Edit ${account.name}` : "Add a provider account"}
      description={account ? "Type and channel are fixed; make a new account to change them." : "One set of credentials with one provider, for one channel."}>
      <form onSubmit={submit} className="space-y-4">
        <Field id="prv-name" label="Name">
          <TextInput id="prv-name" value={name} onChange={(e) => setName(e.target.value)} required placeholder="transactional" />
        </Field>
        <div className="grid grid-cols-2 gap-4">
          <Field id="prv-channel" label="Channel">
            <Select id="prv-channel" value={channel} disabled={!!account}
              onChange={(e) => { const c = e.target.value as Channel; setChannel(c); setType(driversByChannel[c][0]!); }}>
              {channels.map((c) => <option key={c} value={c}>{c}</option>)}
            </Select>
          </Field>
          <Field id="prv-type" label="Driver">
            <Select id="prv-type" value={type} disabled={!!account} onChange={(e) => setType(e.target.value)}>
              {(account ? [account.type] : driversByChannel[channel]).map((t) => <option key={t} value={t}>{t}</option>)}
            </Select>
          </Field>
        </div>
        <Field id="prv-config" label="Config (JSON)"
          hint={<>The fields of the <span className="font-mono">{type}</span> driver: see docs/providers/{type === "log" ? "README" : type}.md. {account && account.secrets_set.length > 0
            ? <>Credentials are write-only: {account.secrets_set.join(", ")} {account.secrets_set.length === 1 ? "is" : "are"} set and kept unless you add {account.secrets_set.length === 1 ? "it" : "them"} here (or change where the account points).</>
            : "Credentials you enter are sealed at rest and never shown again."}</>}>
          <TextArea id="prv-config" rows={7} value={config} onChange={(e) => setConfig(e.target.value)} className="font-mono text-xs" spellCheck={false} />
        </Field>
        <label className="flex items-center gap-2 text-sm text-slate-700">
          <input type="checkbox" checked={isDefault} onChange={(e) => setIsDefault(e.target.checked)} className="h-4 w-4 rounded border-slate-300" />
          Default account for {account?.channel ?? channel}
        </label>
        {save.isError && <ErrorNote error={save.error} />}
        <div className="flex justify-end gap-2 pt-2">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" disabled={save.isPending || name.trim() === ""}>{save.isPending ? "Saving…" : account ? "Save" : "Add account"}</Button>
        </div>
      </form>
    </Dialog>
  );
}

function TestDialog({ account, onClose }: { account: ProviderAccount; onClose: () => void }) {
  const [to, setTo] = useState("");
  const test = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/providers/{id}/test", { params: { path: { id: account.id } }, body: { to } })),
  });
  const placeholder = { email: "you@example.com", sms: "+15551234567", whatsapp: "+15551234567", push: "device token" }[account.channel];
  return (
    <Dialog open onOpenChange={(o) => !o && onClose()} title={`Send a test through ${account.name}`}
      description="One real message, sent once and never retried.">
      <form onSubmit={(e) => { e.preventDefault(); test.mutate(); }} className="space-y-4">
        <Field id="prv-to" label="To">
          <TextInput id="prv-to" value={to} onChange={(e) => setTo(e.target.value)} required placeholder={placeholder} />
        </Field>
        {test.isError && <ErrorNote error={test.error} />}
        {test.data && <TestOutcome r={test.data} />}
        <div className="flex justify-end gap-2">
          <Button onClick={onClose}>Close</Button>
          <Button type="submit" variant="primary" disabled={test.isPending || to.trim() === ""}>{test.isPending ? "Sending…" : "Send test"}</Button>
        </div>
      </form>
    </Dialog>
  );
}

function TestOutcome({ r }: { r: TestResult }) {
  const ok = r.status === "sent" || r.status === "logged";
  return (
    <div role="status" className={`rounded-md px-3 py-2 text-sm ${ok ? "bg-emerald-50 text-emerald-800" : "bg-red-50 text-red-800"}`}>
      <span className="font-semibold">{r.status}</span>{r.detail ? `: ${r.detail}` : ""}
    </div>
  );
}
