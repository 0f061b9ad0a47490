// The app's frame: the left navigation (one line per screen with `nav` in
// routes.tsx) and the content area.
import type { ReactNode } from "react";
import { Link, matchPath, usePath } from "../router";
import { screens } from "../routes";
import { Icon } from "./Icon";

export function AppShell({ children, onSignOut }: { children: ReactNode; onSignOut: () => void }) {
  const path = usePath();
  return (
    <div className="flex h-full">
      <nav aria-label="Main" className="flex w-56 shrink-0 flex-col border-r border-slate-200 bg-slate-900 text-slate-300">
        <Link href="/" className="flex items-center gap-2 px-5 py-5 text-white">
          <img src="/favicon.svg" alt="" className="h-7 w-7" />
          <span className="text-lg font-semibold tracking-tight">Kalcifer</span>
        </Link>
        <ul className="flex-1 space-y-1 px-3">
          {screens.filter((s) => s.nav).map((s) => {
            const active = s.path === "/" ? path === "/" || path.startsWith("/journeys") : !!matchPath(s.path, path);
            return (
              <li key={s.path}>
                <Link href={s.path} aria-current={active ? "page" : undefined}
                  className={`flex items-center gap-3 rounded-md px-3 py-2 text-sm font-medium ${
                    active ? "bg-slate-800 text-white" : "hover:bg-slate-800/60 hover:text-white"}`}>
                  <Icon name={s.nav!.icon} />
                  {s.nav!.label}
                </Link>
              </li>
            );
          })}
        </ul>
        <button type="button" onClick={onSignOut}
          className="m-3 flex items-center gap-3 rounded-md px-3 py-2 text-sm text-slate-400 hover:bg-slate-800/60 hover:text-white">
          <Icon name="logout" />
          Sign out
        </button>
      </nav>
      <main className="min-w-0 flex-1 overflow-auto bg-slate-50">{children}</main>
    </div>
  );
}
