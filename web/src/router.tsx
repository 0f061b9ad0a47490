// A small path router over the History API: the server answers every app
// path with index.html, so /journeys/jrn_1 can be reloaded or shared.
import { useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from "react";

const changeEvent = "kalcifer:navigate";

function subscribe(fn: () => void): () => void {
  window.addEventListener("popstate", fn);
  window.addEventListener(changeEvent, fn);
  return () => {
    window.removeEventListener("popstate", fn);
    window.removeEventListener(changeEvent, fn);
  };
}

/** usePath is the current location's path, re-rendering on navigation. */
export function usePath(): string {
  return useSyncExternalStore(subscribe, () => window.location.pathname);
}

/** navigate goes to path within the app. */
export function navigate(path: string, opts?: { replace?: boolean }): void {
  if (path === window.location.pathname + window.location.search) return;
  if (opts?.replace) window.history.replaceState(null, "", path);
  else window.history.pushState(null, "", path);
  window.dispatchEvent(new Event(changeEvent));
}

/**
 * matchPath matches path against a pattern such as "/journeys/:id" and
 * returns the decoded parameters, or null.
 */
export function matchPath(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split("/").filter(Boolean);
  const got = path.split("/").filter(Boolean);
  if (want.length !== got.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const g = got[i]!;
    if (w.startsWith(":")) {
      try {
        params[w.slice(1)] = decodeURIComponent(g);
      } catch {
        return null;
      }
    } else if (w !== g) return null;
  }
  return params;
}

/** Link is an anchor that navigates within the app (plain clicks only). */
export function Link({ href, onClick, ...rest }: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }) {
  const handle = (e: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(e);
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(href);
  };
  return <a href={href} onClick={handle} {...rest} />;
}
