// The end-to-end harness: builds the Go binary, runs a real `kalcifer
// serve` on a free port with a temporary SQLite data directory and an admin
// key, and drives Debian's chromium with playwright-core (never a browser
// download). Everything it makes lives in a temporary directory it removes.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, mkdirSync, openSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const webDir = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const repoDir = path.dirname(webDir);
export const screenshotDir = path.join(webDir, "e2e", "screenshots");
export const adminKey = "e2e-admin-key-0123456789abcdef0123456789";

const chromiumPath = process.env.CHROMIUM_PATH || "/usr/bin/chromium";

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitReady(base, proc, logFile) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`kalcifer serve exited with ${proc.exitCode}; see ${logFile}`);
    try {
      const res = await fetch(`${base}/health/ready`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`kalcifer serve was not ready within 60 s; see ${logFile}`);
}

/**
 * start builds and runs the server and a browser. The returned object's
 * stop() ends both and removes the temporary directory. env adds to the
 * server's environment (e.g. KALCIFER_CORS_ORIGINS).
 */
export async function start({ env = {} } = {}) {
  const tmp = mkdtempSync(path.join(os.tmpdir(), "kalcifer-e2e-"));
  const bin = path.join(tmp, "kalcifer");
  // The binary embeds web/dist: build the app from the current sources first.
  execFileSync("npm", ["run", "--silent", "build"], { cwd: webDir, stdio: ["ignore", "ignore", "inherit"] });
  execFileSync("go", ["build", "-o", bin, "./cmd/kalcifer"], { cwd: repoDir, stdio: "inherit" });
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const logFile = path.join(tmp, "server.log");
  const log = openSync(logFile, "a");
  const server = spawn(bin, ["serve"], {
    cwd: tmp,
    env: {
      ...process.env,
      KALCIFER_ADDR: `127.0.0.1:${port}`,
      KALCIFER_DATA_DIR: path.join(tmp, "data"),
      KALCIFER_ADMIN_API_KEY: adminKey,
      ...env,
    },
    stdio: ["ignore", log, log],
  });
  await waitReady(base, server, logFile);

  const profile = path.join(tmp, "profile");
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
      "--disable-sync", "--disable-quic", "--no-first-run"],
    viewport: { width: 1280, height: 800 },
  });
  mkdirSync(screenshotDir, { recursive: true });

  return {
    base,
    context,
    logFile,
    /** api calls the server's API with the admin key. */
    async api(method, p, body) {
      const res = await fetch(base + p, {
        method,
        headers: { Authorization: `Bearer ${adminKey}`, ...(body ? { "Content-Type": "application/json" } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${text}`);
      return text ? JSON.parse(text) : undefined;
    },
    async stop() {
      await context.close().catch(() => {});
      server.kill("SIGTERM");
      await new Promise((r) => (server.exitCode !== null ? r() : server.once("exit", r)));
      if (!process.env.KEEP_E2E_TMP) rmSync(tmp, { recursive: true, force: true });
    },
  };
}

/**
 * signIn opens the app at base and signs in with the admin key, waiting for
 * the journeys list.
 */
export async function signIn(page, base) {
  await page.goto(base + "/");
  await page.getByLabel("API key").fill(adminKey);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Journeys", exact: true }).waitFor();
}

/**
 * shotBoth saves a screenshot at 1280×800 and at 1920×1080 (name-1280,
 * name-1920), letting the canvas refit to the larger size (settle, when
 * given, waits for something more first), then goes back to 1280×800.
 */
export async function shotBoth(page, name, settle) {
  await shot(page, `${name}-1280`);
  await page.setViewportSize({ width: 1920, height: 1080 });
  await settle?.();
  await page.waitForTimeout(500);
  await shot(page, `${name}-1920`);
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.waitForTimeout(300);
}

/** shot saves a screenshot of page as e2e/screenshots/name.png. */
export async function shot(page, name) {
  await page.screenshot({ path: path.join(screenshotDir, `${name}.png`) });
}
