// The app's frame: the left navigation (one line per screen with `nav` in
// routes.tsx) and the content area.
import type { ReactNode } from "react";
import { Link, matchPath, usePath } from "../router";
import { screens } from "../routes";
import { Icon } from "./Icon";

/**
 * AppShell frames a screen. compact narrows the navigation to its icons,
 * for screens that need the width (the canvas).
 */
export function AppShell({ children, onSignOut, compact }: { children: ReactNode; onSignOut: () => void; compact: boolean }) {
  const path = usePath();
  return (
    <div className="flex h-full">
      <nav aria-label="Main" className={`flex shrink-0 flex-col border-r border-slate-200 bg-slate-900 text-slate-300 ${compact ? "w-14" : "w-56"}`}>
        <Link href="/" className={`flex items-center gap-2 py-5 text-white ${compact ? "justify-center" : "px-5"}`} aria-label="Kalcifer home">
          <img src="/favicon.svg" alt="" className="h-7 w-7" />
          {!compact && <span className="text-lg font-semibold tracking-tight">Kalcifer</span>}
        </Link>
        <ul className={`flex-1 space-y-1 ${compact ? "px-2" : "px-3"}`}>
          {screens.filter((s) => s.nav).map((s) => {
            const active = s.path === "/" ? path === "/" || path.startsWith("/journeys") : !!matchPath(s.path, path) || path.startsWith(`${s.path}/`);
            return (
              <li key={s.path}>
                <Link href={s.path} aria-current={active ? "page" : undefined} title={compact ? s.nav!.label : undefined}
                  aria-label={compact ? s.nav!.label : undefined}
                  className={`flex items-center gap-3 rounded-md py-2 text-sm font-medium ${compact ? "justify-center px-2" : "px-3"} ${
                    active ? "bg-slate-800 text-white" : "hover:bg-slate-800/60 hover:text-white"}`}>
                  <Icon name={s.nav!.icon} />
                  {!compact && s.nav!.label}
                </Link>
              </li>
            );
          })}
        </ul>
        <button type="button" onClick={onSignOut} title={compact ? "Sign out" : undefined} aria-label={compact ? "Sign out" : undefined}
          className={`flex items-center gap-3 rounded-md py-2 text-sm text-slate-400 hover:bg-slate-800/60 hover:text-white ${compact ? "m-2 justify-center px-2" : "m-3 px-3"}`}>
          <Icon name="logout" />
          {!compact && "Sign out"}
        </button>
      </nav>
      <main className="min-w-0 flex-1 overflow-auto bg-slate-50">{children}</main>
    </div>
  );
}
