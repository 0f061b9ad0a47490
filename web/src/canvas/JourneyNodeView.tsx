// One journey node on the canvas: its group's colour, title, summary,
// problems and live count; an input handle on top (not for entries) and
// one labelled output handle per branch at the bottom.
import { memo } from "react";
import { Handle, Position, type NodeProps } from "@xyflow/react";
import type { NodeType } from "../api/types";
import { branchesOf, DEFAULT_BRANCH, hasInput } from "./branches";
import { groupLook, summary, typeTitle } from "./look";
import { NODE_HEIGHT, NODE_WIDTH, type JourneyNode } from "./model";
import { createContext, useContext } from "react";
import { branchOf } from "./rules";
import { useEditor } from "./store";

/** The node type catalogue, for the node views. */
export const NodeTypesContext = createContext<Map<string, NodeType>>(new Map());

function JourneyNodeViewInner({ id, data, selected }: NodeProps<JourneyNode>) {
  const types = useContext(NodeTypesContext);
  const t = types.get(data.type);
  const look = groupLook[t?.group ?? "logic"];
  const branches = branchesOf(t, data.config);
  const problems = data.problems?.length ?? 0;
  const labelled = branches.length > 1 || (branches.length === 1 && branches[0] !== DEFAULT_BRANCH);
  // A connected branch is named on its edge; the handle names only the
  // branches still open, so each name shows once.
  const connected = useEditor((s) => s.edges.filter((e) => e.source === id).map(branchOf).join("\n"));
  const used = new Set(connected.split("\n"));
  return (
    <div data-testid={`node-${id}`} data-node-type={data.type}
      className={`group relative flex overflow-visible rounded-lg border bg-white shadow-sm transition-shadow ${
        problems ? "border-red-400 ring-2 ring-red-200" : selected ? "border-indigo-500 ring-2 ring-indigo-200" : "border-slate-200 hover:shadow-md"}`}
      style={{ width: NODE_WIDTH, height: NODE_HEIGHT }}>
      <div className={`w-1.5 shrink-0 rounded-l-lg ${look.accent}`} />
      <div className="min-w-0 flex-1 px-3 py-2">
        <div className="flex items-center justify-between gap-2">
          <span className={`truncate rounded px-1.5 py-0.5 text-[10px] font-semibold tracking-wide uppercase ${look.chip}`}>
            {typeTitle(data.type)}
          </span>
          {problems > 0 && (
            <span className="shrink-0 rounded-full bg-red-600 px-1.5 text-[10px] font-bold text-white"
              title={data.problems!.map((p) => p.message).join("\n")} data-testid="node-problems">
              {problems} {problems === 1 ? "problem" : "problems"}
            </span>
          )}
          {data.count !== undefined && problems === 0 && (
            <span className="flex shrink-0 items-center gap-1 rounded-full bg-indigo-600 px-2 text-[11px] font-semibold text-white tabular-nums"
              title={`${data.count} customer${data.count === 1 ? "" : "s"} here now`} data-testid="node-count">
              {data.count}
            </span>
          )}
        </div>
        <div className="mt-1 truncate text-sm font-semibold text-slate-900">{data.label || typeTitle(data.type)}</div>
        <div className="truncate text-xs text-slate-500">{summary(data.type, data.config)}</div>
      </div>
      {hasInput(t) && (
        <Handle type="target" position={Position.Top} id="in"
          className="!h-3 !w-3 !border-2 !border-white !bg-slate-400" />
      )}
      {branches.map((b, i) => {
        const left = `${((i + 1) / (branches.length + 1)) * 100}%`;
        return (
          <div key={b}>
            <Handle type="source" position={Position.Bottom} id={b} style={{ left }}
              className="!h-3 !w-3 !border-2 !border-white !bg-indigo-500" data-testid={`handle-${id}-${b}`}
              title={b === DEFAULT_BRANCH ? "next" : b} />
            {labelled && !used.has(b) && (
              <span className="pointer-events-none absolute -bottom-5 -translate-x-1/2 rounded bg-white/90 px-1 text-[10px] font-medium whitespace-nowrap text-slate-600"
                style={{ left }}>{b === DEFAULT_BRANCH ? "next" : b.replace(/_/g, " ")}</span>
            )}
          </div>
        );
      })}
    </div>
  );
}

export const JourneyNodeView = memo(JourneyNodeViewInner);
