import { Suspense, useEffect, useState } from "react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { clearApiKey, getApiKey } from "./api/auth";
import { ApiError, onUnauthorized } from "./api/client";
import { matchPath, navigate, usePath } from "./router";
import { screens } from "./routes";
import { AppShell } from "./shell/AppShell";
import { LoginScreen } from "./screens/Login";

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // A refused or missing resource will not fix itself by asking again.
      retry: (n, err) => n < 2 && !(err instanceof ApiError && err.status < 500),
      refetchOnWindowFocus: false,
    },
  },
});

export function App() {
  const [signedIn, setSignedIn] = useState(() => getApiKey() !== null);
  useEffect(() => onUnauthorized(() => {
    queryClient.clear();
    setSignedIn(false);
  }), []);
  const signOut = () => {
    clearApiKey();
    queryClient.clear();
    setSignedIn(false);
    navigate("/");
  };
  return (
    <QueryClientProvider client={queryClient}>
      {signedIn ? <SignedIn onSignOut={signOut} /> : (
        <LoginScreen onSignedIn={() => setSignedIn(true)} />
      )}
    </QueryClientProvider>
  );
}

/** SignedIn shows the screen the path names, in the app's frame. */
function SignedIn({ onSignOut }: { onSignOut: () => void }) {
  const path = usePath();
  for (const s of screens) {
    const params = matchPath(s.path, path);
    if (!params) continue;
    const Screen = s.component;
    return (
      <AppShell onSignOut={onSignOut} compact={s.fullBleed ?? false}>
        <Suspense fallback={<div className="p-8 text-sm text-slate-500">Loading…</div>}>
          <Screen params={params} />
        </Suspense>
      </AppShell>
    );
  }
  return (
    <AppShell onSignOut={onSignOut} compact={false}>
      <div className="p-10">
        <h1 className="text-xl font-semibold text-slate-900">Page not found</h1>
        <p className="mt-2 text-sm text-slate-600">Nothing lives at {path}.</p>
      </div>
    </AppShell>
  );
}
