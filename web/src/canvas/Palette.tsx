// The palette: node types grouped as the API groups them. Drag one onto the
// canvas (or press Enter on it to add it in view). Types the server cannot
// run are shown disabled with the server's reason.
import type { DragEvent } from "react";
import type { NodeType } from "../api/types";
import { groupLook, groupOrder, typeTitle } from "./look";

/** The drag-and-drop payload's MIME type: the node type name. */
export const DRAG_TYPE = "application/x-kalcifer-node-type";

export function Palette({ types, disabledReason, onAdd }: {
  types: NodeType[];
  /** Why a type cannot be added now (e.g. a second entry), or null. */
  disabledReason: (t: NodeType) => string | null;
  onAdd: (t: NodeType) => void;
}) {
  const start = (e: DragEvent, t: NodeType) => {
    e.dataTransfer.setData(DRAG_TYPE, t.type);
    e.dataTransfer.effectAllowed = "move";
  };
  return (
    <aside aria-label="Node types" className="w-52 shrink-0 overflow-y-auto border-r border-slate-200 bg-white">
      <div className="px-4 pt-4 pb-2">
        <h2 className="text-xs font-semibold tracking-wide text-slate-500 uppercase">Add a step</h2>
        <p className="mt-0.5 text-xs text-slate-400">Drag onto the canvas.</p>
      </div>
      {groupOrder.map((g) => {
        const inGroup = types.filter((t) => t.group === g);
        if (inGroup.length === 0) return null;
        return (
          <section key={g} className="px-3 pb-3" aria-labelledby={`palette-${g}`}>
            <h3 id={`palette-${g}`} className="px-1 pb-1 text-[11px] font-semibold text-slate-400 uppercase">{groupLook[g].label}</h3>
            <ul className="space-y-1">
              {inGroup.map((t) => {
                const reason = t.not_runnable ?? disabledReason(t);
                const disabled = reason !== null;
                return (
                  <li key={t.type}>
                    <div role="button" tabIndex={disabled ? -1 : 0} aria-disabled={disabled || undefined}
                      draggable={!disabled} onDragStart={(e) => start(e, t)}
                      onKeyDown={(e) => { if (!disabled && (e.key === "Enter" || e.key === " ")) { e.preventDefault(); onAdd(t); } }}
                      onDoubleClick={() => !disabled && onAdd(t)}
                      title={t.not_runnable ?? (disabled ? reason ?? "" : t.description)}
                      data-testid={`palette-${t.type}`}
                      className={`flex items-start gap-2 rounded-md border px-2 py-1.5 text-sm select-none ${
                        disabled ? "cursor-not-allowed border-transparent text-slate-400"
                          : "cursor-grab border-slate-200 bg-white text-slate-700 hover:border-indigo-300 hover:bg-indigo-50/40 active:cursor-grabbing"}`}>
                      <span className={`mt-1.5 h-2 w-2 shrink-0 rounded-full ${disabled ? "bg-slate-300" : groupLook[g].accent}`} />
                      <span className="min-w-0">
                        <span className="block font-medium">{typeTitle(t.type)}</span>
                        {t.not_runnable && (
                          <span className="block text-[11px] leading-snug text-slate-400">{shortReason(t)}</span>
                        )}
                        {!t.not_runnable && disabled && (
                          <span className="block text-[11px] leading-snug text-slate-400">{reason}</span>
                        )}
                      </span>
                    </div>
                  </li>
                );
              })}
            </ul>
          </section>
        );
      })}
    </aside>
  );
}

/**
 * shortReason is the first clause of a not_runnable reason, without the
 * type's name: "segment_entry cannot enrol customers yet: …" → "Cannot
 * enrol customers yet". The whole reason is the item's tooltip.
 */
export function shortReason(t: NodeType): string {
  const first = (t.not_runnable ?? "").split(":")[0]!.replace(new RegExp(`^${t.type}\\s+`), "").trim();
  return first.charAt(0).toUpperCase() + first.slice(1);
}
