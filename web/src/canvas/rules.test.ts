import { describe, expect, test } from "vitest";
import type { NodeType } from "../api/types";
import catalogue from "../testdata/node-types.json";
import { branchesOf, requiredBranchesOf } from "./branches";
import { additionProblem, connectionProblem, missingBranches, reaches, type RuleEdge, type RuleNode } from "./rules";

// The node types as a real server serves them (GET /api/v1/node-types).
const types = new Map((catalogue.data as NodeType[]).map((t) => [t.type, t]));
const node = (id: string, type: string, config: Record<string, unknown> = {}): RuleNode => ({ id, data: { type, config } });
const edge = (source: string, target: string, branch = "default"): RuleEdge => ({ source, target, sourceHandle: branch, data: { branch } });

const nodes = [
  node("entry", "event_entry", { event_type: "signed_up" }),
  node("mail", "send_email"),
  node("wait", "wait_for_event", { event_type: "email_opened", timeout: "3d" }),
  node("cond", "condition"),
  node("sms", "send_sms"),
  node("exit", "journey_exit"),
];
const edges = [edge("entry", "mail"), edge("mail", "wait")];
const problem = (source: string, target: string, branch: string | null = "default", es = edges) =>
  connectionProblem({ source, target, sourceHandle: branch }, nodes, es, types);

describe("branches", () => {
  test("fixed, optional and config-named branches", () => {
    expect(branchesOf(types.get("condition"), {})).toEqual(["true", "false"]);
    expect(branchesOf(types.get("send_email"), {})).toEqual(["default", "failed"]);
    expect(requiredBranchesOf(types.get("send_email"), {})).toEqual(["default"]);
    expect(branchesOf(types.get("wait_for_event"), {})).toEqual(["event_received", "timed_out"]);
    expect(branchesOf(types.get("wait_for_event"), { event_branch: "opened", timeout_branch: "ignored" })).toEqual(["opened", "ignored"]);
    expect(branchesOf(types.get("ab_split"), { variants: [{ key: "a", weight: 1 }, { key: "b", weight: 1 }, { weight: 2 }] })).toEqual(["a", "b"]);
    expect(branchesOf(types.get("goal_reached"), {})).toEqual(["default"]);
    expect(branchesOf(types.get("goal_reached"), { exit_after_goal: true })).toEqual([]);
    expect(branchesOf(types.get("journey_exit"), {})).toEqual([]);
    expect(branchesOf(undefined, {})).toEqual([]);
  });
});

describe("connection rules", () => {
  test("a branch the node has may connect", () => {
    expect(problem("wait", "sms", "timed_out")).toBeNull();
    expect(problem("wait", "exit", "event_received")).toBeNull();
    expect(problem("mail", "exit", "failed")).toBeNull();
    expect(problem("cond", "sms", "true")).toBeNull();
    expect(problem("mail", "sms", null)).toBeNull(); // no handle: the default branch
  });

  test("only branches the node type has", () => {
    expect(problem("wait", "sms", "default")).toMatch(/no branch "default".*event_received, timed_out/);
    expect(problem("cond", "sms", "maybe")).toMatch(/no branch "maybe"/);
    expect(problem("exit", "sms")).toMatch(/ends the journey/);
  });

  test("nothing leads into an entry, and nothing to itself", () => {
    expect(problem("sms", "entry")).toMatch(/entry node starts the journey/);
    expect(problem("sms", "sms")).toMatch(/cannot lead to itself/);
  });

  test("no cycles", () => {
    expect(problem("wait", "mail", "timed_out")).toMatch(/cycle/);
    const longer = [...edges, edge("wait", "cond", "timed_out"), edge("cond", "sms", "true")];
    expect(problem("sms", "mail", "default", longer)).toMatch(/cycle/);
    expect(problem("sms", "exit", "default", longer)).toBeNull();
    expect(reaches("entry", "wait", edges)).toBe(true);
    expect(reaches("wait", "entry", edges)).toBe(false);
  });

  test("no duplicate edge on the same branch, but a default branch may fork", () => {
    expect(problem("entry", "mail")).toMatch(/already connected/);
    expect(problem("entry", "sms")).toBeNull();
  });

  test("one entry per journey; types the server cannot run are refused on their own", () => {
    expect(additionProblem(types.get("webhook_entry")!, nodes, types)).toMatch(/already has its entry/);
    expect(additionProblem(types.get("webhook_entry")!, nodes.slice(1), types)).toBeNull();
    expect(additionProblem(types.get("wait")!, nodes, types)).toBeNull();
    expect(types.get("segment_entry")!.not_runnable).toBeTruthy();
  });

  test("missing required branches are listed per node", () => {
    const missing = missingBranches(nodes, edges, types, requiredBranchesOf);
    expect(missing.get("wait")).toEqual(["event_received", "timed_out"]);
    expect(missing.get("cond")).toEqual(["true", "false"]);
    expect(missing.get("sms")).toEqual(["default"]);
    expect(missing.has("mail")).toBe(false);
    expect(missing.has("exit")).toBe(false);
  });
});
