// Embedding: examples/embed.html, served by a static server on another
// origin, loads the library build's <kalcifer-editor> and renders a
// journey of a kalcifer serve that allows that origin (KALCIFER_CORS_ORIGINS);
// the same page from an origin the server does not allow gets no data.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createReadStream, readFileSync, statSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { start, shot, adminKey, repoDir, webDir } from "./harness.mjs";

let env;
let page;
let allowed;
let other;
let journey;

const types = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".json": "application/json" };

/** serve answers files under root on a free port of 127.0.0.1: a page's own origin. */
function serve(root) {
  const srv = http.createServer((req, res) => {
    const p = path.normalize(decodeURIComponent(new URL(req.url, "http://x").pathname));
    const file = path.join(root, p);
    if (!file.startsWith(root + path.sep)) {
      res.writeHead(403).end();
      return;
    }
    try {
      if (!statSync(file).isFile()) throw new Error("not a file");
    } catch {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "Content-Type": types[path.extname(file)] ?? "application/octet-stream" });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => srv.listen(0, "127.0.0.1", () => resolve({ srv, origin: `http://127.0.0.1:${srv.address().port}` })));
}

before(async () => {
  execFileSync("npm", ["run", "--silent", "build:lib"], { cwd: webDir, stdio: ["ignore", "ignore", "inherit"] });
  allowed = await serve(repoDir);
  other = await serve(repoDir);
  env = await start({ env: { KALCIFER_CORS_ORIGINS: allowed.origin } });
  page = await env.context.newPage();
  page.on("console", (m) => {
    if (m.type() === "error") console.error(`browser: ${m.text()}`);
  });
  const welcome = JSON.parse(readFileSync(path.join(repoDir, "examples", "welcome-journey.json"), "utf8"));
  journey = await env.api("POST", "/api/v1/journeys", { name: "Welcome (embedded)", graph: welcome.graph ?? welcome });
}, { timeout: 400_000 });

after(async () => {
  await env?.stop();
  allowed?.srv.close();
  other?.srv.close();
});

async function open(origin, { readonly = false } = {}) {
  await page.goto(`${origin}/examples/embed.html`);
  await page.getByLabel("Kalcifer server").fill(env.base);
  await page.getByLabel("Journey id").fill(journey.id);
  await page.getByLabel("API key").fill(adminKey);
  if (readonly) await page.getByLabel("read-only").check();
  await page.getByRole("button", { name: "Open the journey" }).click();
}

test("the embedded editor renders a journey from another origin (read-only canvas)", async () => {
  await open(allowed.origin, { readonly: true });
  const editor = page.locator("kalcifer-editor");
  // Playwright's locators pierce the open shadow root.
  await editor.getByRole("heading", { name: "Welcome (embedded)" }).waitFor();
  await editor.locator(".react-flow__node").first().waitFor();
  assert.equal(await editor.locator(".react-flow__node").count(), journey.graph.nodes.length);
  // The page's styles stay out and the editor's stay in: the page's serif
  // font is not the editor's, and the editor's reset does not touch the page.
  const fonts = await page.evaluate(() => {
    const el = document.querySelector("kalcifer-editor");
    const h = el.shadowRoot.querySelector("h2");
    return { editor: getComputedStyle(h).fontFamily, page: getComputedStyle(document.querySelector("header h1")).fontFamily };
  });
  assert.match(fonts.page, /Georgia/);
  assert.doesNotMatch(fonts.editor, /Georgia/);
  await shot(page, "embed-readonly-1280");
  await page.setViewportSize({ width: 1920, height: 1080 });
  await shot(page, "embed-readonly-1920");
  await page.setViewportSize({ width: 1280, height: 800 });
});

test("the embedded editor opens the journey in the editor, editable, inside the shadow root", async () => {
  await open(allowed.origin);
  const editor = page.locator("kalcifer-editor");
  await editor.getByRole("heading", { name: "Welcome (embedded)" }).waitFor();
  await editor.getByText("Loading the editor…").waitFor({ state: "detached" });
  // The real editor: its palette, its canvas with every node, its save button.
  await editor.getByRole("complementary", { name: "Node types" }).waitFor();
  await editor.locator(".react-flow__node").first().waitFor();
  assert.equal(await editor.locator(".react-flow__node").count(), journey.graph.nodes.length);
  await editor.getByRole("button", { name: "Save draft" }).waitFor();
  assert.equal(await editor.getByRole("alert").count(), 0);
  // The nodes are rendered inside the shadow root, styled there (ReactFlow's
  // and the editor's CSS reach them), and the app's journey tabs, which
  // would navigate the host page, are not shown.
  const inside = await page.evaluate(() => {
    const root = document.querySelector("kalcifer-editor").shadowRoot;
    const node = root.querySelector(".react-flow__node");
    return { nodes: root.querySelectorAll(".react-flow__node").length, light: document.querySelectorAll(".react-flow__node").length,
      position: node && getComputedStyle(node).position };
  });
  assert.equal(inside.nodes, journey.graph.nodes.length);
  assert.equal(inside.light, 0);
  assert.equal(inside.position, "absolute");
  assert.equal(await editor.getByRole("navigation", { name: "Journey" }).count(), 0);
  // Editable: a node's label typed in the properties panel is saved.
  const first = journey.graph.nodes[0];
  await editor.locator(`.react-flow__node[data-id="${first.id}"]`).click();
  await editor.getByRole("complementary", { name: "Properties" }).getByLabel("Label").fill("Renamed in the embed");
  await editor.getByRole("button", { name: "Save draft" }).click();
  const notice = editor.getByTestId("notice");
  await notice.waitFor();
  assert.match(await notice.innerText(), /Draft saved/);
  const saved = await env.api("GET", `/api/v1/journeys/${journey.id}`);
  assert.equal(saved.graph.nodes.find((n) => n.id === first.id).label, "Renamed in the embed");
  await shot(page, "embed-editor-1280");
});

test("an origin the server does not allow gets no data", async () => {
  await open(other.origin, { readonly: true });
  const editor = page.locator("kalcifer-editor");
  await editor.getByRole("alert").waitFor();
  assert.equal(await editor.getByRole("heading", { name: "Welcome (embedded)" }).count(), 0);
});
