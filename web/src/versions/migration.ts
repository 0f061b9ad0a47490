// What a migration's progress means for people, and which commands fit
// its status (the API answers 409 to the others). Pure, unit-tested.
import type { components } from "../api/schema";

export type Migration = components["schemas"]["Migration"];
export type MigrationStatus = Migration["status"];

/** done is the share (0–1) of the migration's instances it has dealt with. */
export function done(m: Pick<Migration, "status" | "progress">): number {
  if (m.status === "completed") return 1;
  const p = m.progress;
  const total = p.total ?? 0;
  if (total <= 0) return 0;
  const dealt = (p.migrated ?? 0) + (p.held ?? 0) + (p.exited ?? 0) + (p.failed ?? 0) + (p.not_selected ?? 0);
  return Math.min(1, dealt / total);
}

/** The commands a person may give a migration. */
export type MigrationCommand = "pause" | "resume" | "abort" | "rollout";

/** commands lists the commands that fit the migration now. */
export function commands(m: Pick<Migration, "status" | "strategy"> & { config?: { rollout_percent?: number } }): MigrationCommand[] {
  const out: MigrationCommand[] = [];
  if (m.status === "running") out.push("pause");
  if (m.status === "paused") out.push("resume");
  const rollout = m.config?.rollout_percent ?? 100;
  if (m.strategy === "gradual" && rollout < 100 && ["running", "paused", "partial"].includes(m.status)) out.push("rollout");
  if (["running", "paused", "partial"].includes(m.status)) out.push("abort");
  return out;
}

/** finished tells a migration nothing more happens to on its own. */
export function finished(status: MigrationStatus): boolean {
  return status === "completed" || status === "aborted";
}
