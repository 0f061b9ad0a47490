// Sign in with an API key: checked with one authenticated GET before it is
// kept (in sessionStorage, for this tab only).
import { useState, type FormEvent } from "react";
import { setApiKey } from "../api/auth";
import { ApiError, verifyKey } from "../api/client";

export function LoginScreen({ onSignedIn }: { onSignedIn: () => void }) {
  const [key, setKey] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const k = key.trim();
    if (!k) {
      setError("Enter an API key.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await verifyKey(k);
      setApiKey(k);
      onSignedIn();
    } catch (err) {
      setError(loginError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="flex min-h-full items-center justify-center bg-gradient-to-br from-slate-900 via-slate-800 to-indigo-950 p-6">
      <form onSubmit={submit} className="w-full max-w-md rounded-xl bg-white p-8 shadow-2xl" aria-labelledby="login-title">
        <div className="mb-6 flex items-center gap-3">
          <img src="/favicon.svg" alt="" className="h-10 w-10" />
          <div>
            <h1 id="login-title" className="text-xl font-semibold text-slate-900">Sign in to Kalcifer</h1>
            <p className="text-sm text-slate-500">Customer journeys, on your own server.</p>
          </div>
        </div>
        <label htmlFor="api-key" className="block text-sm font-medium text-slate-700">API key</label>
        <input id="api-key" type="password" autoComplete="off" autoFocus value={key}
          onChange={(e) => setKey(e.target.value)}
          aria-invalid={error ? true : undefined} aria-describedby={error ? "login-error" : "login-help"}
          className="mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 font-mono text-sm shadow-sm focus:border-indigo-500 focus:ring-2 focus:ring-indigo-500/30 focus:outline-none"
          placeholder="kal_…" />
        {error ? (
          <p id="login-error" role="alert" className="mt-2 text-sm text-red-600">{error}</p>
        ) : (
          <p id="login-help" className="mt-2 text-xs text-slate-500">
            The key printed when the server first started, or the value of KALCIFER_ADMIN_API_KEY.
            It is kept in this tab only.
          </p>
        )}
        <button type="submit" disabled={busy}
          className="mt-6 w-full rounded-md bg-indigo-600 px-4 py-2 text-sm font-semibold text-white shadow-sm hover:bg-indigo-500 disabled:opacity-60">
          {busy ? "Checking…" : "Sign in"}
        </button>
      </form>
    </div>
  );
}

function loginError(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 401) return "This key is not valid for this server. Check it and try again.";
    if (err.status === 403) return "This key cannot use the editor (an ingest key?). Use a viewer, editor or admin key.";
    return `The server refused the key: ${err.message}`;
  }
  return "The server could not be reached. Is kalcifer serve running?";
}
