// The right-hand panel: the selected node's label and config (a form
// generated from its type's JSON Schema) with the server's problems, or,
// with nothing selected, the journey's own problems and a hint.
import { useMemo } from "react";
import type { ErrorDetail, NodeType } from "../api/types";
import { cleanMessage, problemsByField, SchemaForm, type Pickers } from "../forms/SchemaForm";
import type { JSONSchema } from "../forms/schema";
import { Icon } from "../shell/Icon";
import { Button } from "../ui/Button";
import { typeTitle } from "./look";
import { useEditor, useEditorStore } from "./store";

export function PropertiesPanel({ types, pickers, journeyProblems, readOnly }: {
  types: Map<string, NodeType>;
  pickers: Omit<Pickers, "nodeType">;
  /** Problems the server reported that name no node. */
  journeyProblems: ErrorDetail[];
  readOnly: boolean;
}) {
  const selectedId = useEditor((s) => s.selectedId);
  const node = useEditor((s) => s.nodes.find((n) => n.id === s.selectedId));
  const store = useEditorStore();
  const t = node ? types.get(node.data.type) : undefined;
  const problems = useMemo(() => problemsByField(node?.data.problems ?? []), [node?.data.problems]);
  const otherProblems = (node?.data.problems ?? []).filter((d) => d.field !== "config" && !d.field?.startsWith("config."));

  return (
    <aside aria-label="Properties" className="w-80 shrink-0 overflow-y-auto border-l border-slate-200 bg-white">
      {!node || !selectedId ? (
        <div className="p-4">
          <h2 className="text-sm font-semibold text-slate-900">Properties</h2>
          <p className="mt-1 text-sm text-slate-500">{readOnly ? "Select a node to see its settings." : "Select a node to edit it."}</p>
          {journeyProblems.length > 0 && (
            <div role="alert" className="mt-4 rounded-md border border-red-200 bg-red-50 p-3">
              <h3 className="text-xs font-semibold text-red-800">The journey has problems</h3>
              <ul className="mt-1 list-disc space-y-0.5 pl-4 text-xs text-red-700">
                {journeyProblems.map((d, i) => <li key={i}>{d.message}</li>)}
              </ul>
            </div>
          )}
          {!readOnly && (
            <dl className="mt-6 space-y-2 text-xs text-slate-500">
              <div><dt className="inline font-semibold text-slate-600">Connect:</dt> <dd className="inline">drag from a node's bottom handle (one per branch) to another node's top.</dd></div>
              <div><dt className="inline font-semibold text-slate-600">Delete:</dt> <dd className="inline">select a node or edge and press Delete.</dd></div>
              <div><dt className="inline font-semibold text-slate-600">Undo / redo:</dt> <dd className="inline">Ctrl+Z / Ctrl+Shift+Z.</dd></div>
              <div><dt className="inline font-semibold text-slate-600">Save:</dt> <dd className="inline">Ctrl+S.</dd></div>
            </dl>
          )}
        </div>
      ) : (
        <div className="p-4" data-testid="properties">
          <div className="flex items-start justify-between gap-2">
            <div className="min-w-0">
              <h2 className="text-sm font-semibold text-slate-900">{typeTitle(node.data.type)}</h2>
              <p className="text-xs text-slate-400">id {node.id}</p>
            </div>
            {!readOnly && (
              <Button variant="ghost" className="px-2 text-slate-500" aria-label="Delete node"
                onClick={() => store.getState().removeNode(node.id)}><Icon name="trash" className="h-4 w-4" /></Button>
            )}
          </div>
          {t?.description && <p className="mt-2 text-xs text-slate-500">{t.description}</p>}
          {t?.not_runnable && (
            <p className="mt-2 rounded-md bg-amber-50 p-2 text-xs text-amber-800">{t.not_runnable}</p>
          )}
          {otherProblems.length > 0 && (
            <ul role="alert" className="mt-3 space-y-1 rounded-md border border-red-200 bg-red-50 p-2">
              {otherProblems.map((d, i) => <li key={i} className="text-xs text-red-700">{cleanMessage(d.message)}</li>)}
            </ul>
          )}
          <div className="mt-4 space-y-1">
            <label htmlFor="node-label" className="text-xs font-medium text-slate-700">Label</label>
            <input id="node-label" disabled={readOnly} value={node.data.label ?? ""} placeholder={typeTitle(node.data.type)}
              onChange={(e) => store.getState().setLabel(node.id, e.target.value)}
              className="block w-full rounded-md border border-slate-300 px-2.5 py-1.5 text-sm shadow-sm focus:border-indigo-500 focus:ring-2 focus:ring-indigo-500/30 focus:outline-none disabled:bg-slate-50" />
          </div>
          <div className="mt-4 border-t border-slate-100 pt-4">
            {t ? (
              <SchemaForm key={node.id} schema={t.config_schema as JSONSchema} value={node.data.config} readOnly={readOnly}
                onChange={(c) => store.getState().setConfig(node.id, c)} problems={problems}
                pickers={{ ...pickers, nodeType: node.data.type }} />
            ) : (
              <p className="text-sm text-red-600">Unknown node type “{node.data.type}”: this server does not know it.</p>
            )}
          </div>
        </div>
      )}
    </aside>
  );
}
