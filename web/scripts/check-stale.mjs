// Fails when the committed generated files are stale: the API types
// (src/api/schema.d.ts, from ../api/openapi.json) and the built app (dist/,
// embedded in the Go binary). It regenerates both in place, then asks git
// whether anything differs from the commit. CI runs it through `npm run check`.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import path from "node:path";

const web = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const run = (cmd, args) => execFileSync(cmd, args, { cwd: web, stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" });

run("npm", ["run", "--silent", "gen:api"]);
run("npm", ["run", "--silent", "build"]);

const generated = ["src/api/schema.d.ts", "dist"];
let status;
try {
  status = run("git", ["status", "--porcelain", "--untracked-files=all", "--", ...generated]);
} catch {
  console.error("check: git is needed to compare the generated files with the commit");
  process.exit(2);
}
if (status.trim() !== "") {
  console.error("check: these generated files differ from the commit:\n" + status);
  console.error("Run `npm run gen:api && npm run build` in web/ and commit the result.");
  process.exit(1);
}
console.log("check: src/api/schema.d.ts and dist/ match the commit");
