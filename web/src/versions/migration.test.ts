import { describe, expect, it } from "vitest";
import { commands, done, finished } from "./migration";

describe("migration progress", () => {
  it("counts every instance dealt with against the total", () => {
    expect(done({ status: "running", progress: { total: 10, migrated: 4, held: 1, exited: 1, failed: 0, not_selected: 2 } })).toBe(0.8);
    expect(done({ status: "running", progress: { total: 0 } })).toBe(0);
    expect(done({ status: "completed", progress: { total: 0 } })).toBe(1);
  });

  it("offers only the commands that fit the status", () => {
    expect(commands({ status: "running", strategy: "migrate_all", config: {} })).toEqual(["pause", "abort"]);
    expect(commands({ status: "paused", strategy: "gradual", config: { rollout_percent: 20 } })).toEqual(["resume", "rollout", "abort"]);
    expect(commands({ status: "partial", strategy: "gradual", config: { rollout_percent: 50 } })).toEqual(["rollout", "abort"]);
    expect(commands({ status: "completed", strategy: "gradual", config: { rollout_percent: 100 } })).toEqual([]);
    expect(finished("aborted") && finished("completed") && !finished("partial")).toBe(true);
  });
});
