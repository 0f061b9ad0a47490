// End-to-end scenarios against a real kalcifer serve, in headless chromium.
// Run with `npm run e2e` from web/. The scenarios run in order and share
// one server and one browser page, as one person's session would.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { start, shot, adminKey } from "./harness.mjs";

let env;
let page;
let journeyId;

before(async () => {
  env = await start();
  page = await env.context.newPage();
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().includes("401")) console.error(`browser: ${m.text()}`);
  });
  page.on("pageerror", (e) => console.error(`page error: ${e.message}`));
}, { timeout: 300_000 });

after(async () => {
  await env?.stop();
});

/**
 * drop drags a palette item onto the canvas so that the node's top-left
 * corner lands at (x, y) within the canvas, as a person's mouse would.
 */
async function drop(type, x, y) {
  const item = page.getByTestId(`palette-${type}`);
  await item.scrollIntoViewIfNeeded();
  const from = await item.boundingBox();
  const to = await page.getByTestId("canvas").boundingBox();
  await page.mouse.move(from.x + 30, from.y + from.height / 2);
  await page.mouse.down();
  await page.mouse.move(to.x + x + 120, to.y + y + 38, { steps: 8 });
  await page.mouse.up();
}

/** scenario is a test that leaves a screenshot of the page when it fails. */
function scenario(name, fn) {
  test(name, async () => {
    try {
      await fn();
    } catch (err) {
      await shot(page, `FAILED-${name.replace(/[^a-z0-9]+/gi, "-").slice(0, 60)}`).catch(() => {});
      throw err;
    }
  });
}

/** connect draws an edge from node source's branch handle to node target. */
async function connect(source, branch, target) {
  const from = page.getByTestId(`handle-${source}-${branch}`);
  const to = page.getByTestId(`node-${target}`).locator(".react-flow__handle-top");
  const a = await from.boundingBox();
  const b = await to.boundingBox();
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  await page.mouse.down();
  await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2, { steps: 5 });
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 5 });
  await page.mouse.up();
}

/** select clicks a node so the properties panel shows it. */
async function select(id) {
  await page.getByTestId(`node-${id}`).click({ position: { x: 120, y: 40 } });
  await page.getByTestId("properties").getByText(`id ${id}`).waitFor();
}

const panel = () => page.getByTestId("properties");

scenario("a bad key is refused with a clear message", async () => {
  await page.goto(env.base + "/");
  await page.getByLabel("API key").fill("not-a-real-key-at-all");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("alert").filter({ hasText: "not valid" }).waitFor();
  await shot(page, "login-error");
});

scenario("log in", async () => {
  await page.getByLabel("API key").fill(adminKey);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Journeys", exact: true }).waitFor();
  await page.getByRole("button", { name: "Create a demo journey" }).waitFor();
  await shot(page, "empty-tenant");
  assert.equal(await page.evaluate(() => sessionStorage.getItem("kalcifer.apiKey")), adminKey);
});

scenario("create the demo journey from the empty tenant", async () => {
  await page.getByRole("button", { name: "Create a demo journey" }).click();
  await page.getByTestId("node-wait_for_open").waitFor();
  assert.equal(await page.locator(".react-flow__node").count(), 7);
  assert.equal(await page.locator(".react-flow__edge").count(), 7);
  await shot(page, "editor-demo-1280");
  await page.setViewportSize({ width: 1920, height: 1080 });
  await page.getByRole("button", { name: "Fit", exact: true }).click();
  await page.waitForTimeout(400);
  await shot(page, "editor-demo-1920");
  await page.setViewportSize({ width: 1280, height: 800 });
});

scenario("build the US-1 journey on the canvas by drag and drop", async () => {
  await page.getByRole("link", { name: "Journeys" }).first().click();
  await page.getByRole("button", { name: "New journey" }).click();
  await page.getByLabel("Name").fill("Welcome, built by hand");
  await page.getByRole("button", { name: "Create" }).click();
  await page.getByText("Drag an entry from the palette").waitFor();
  journeyId = decodeURIComponent(new URL(page.url()).pathname.split("/").pop());

  await drop("event_entry", 130, 20);
  await panel().getByLabel("Event type", { exact: true }).fill("signed_up");
  // One entry per journey: the palette now refuses a second one.
  assert.equal(await page.getByTestId("palette-webhook_entry").getAttribute("aria-disabled"), "true");

  await drop("send_email", 130, 140);
  await panel().getByLabel("Label").fill("Welcome email");
  await panel().getByLabel("Subject").fill("Welcome aboard!");
  await panel().getByLabel("Html").fill("<p>Thanks for signing up.</p>");
  await connect("event_entry_1", "default", "send_email_1");

  await drop("wait_for_event", 130, 260);
  await panel().getByLabel("Event type", { exact: true }).fill("email_opened");
  await panel().getByLabel("Timeout", { exact: true }).fill("3");
  await connect("send_email_1", "default", "wait_for_event_1");

  await drop("wait", 5, 380);
  await connect("wait_for_event_1", "event_received", "wait_1");
  await drop("send_email", 5, 500);
  await panel().getByLabel("Label").fill("Upsell email");
  await panel().getByLabel("Subject").fill("Ready for more?");
  await panel().getByLabel("Html").fill("<p>Upgrade to Pro.</p>");
  await connect("wait_1", "default", "send_email_2");

  await drop("send_sms", 255, 380);
  await panel().getByLabel("Body").fill("Your welcome email is waiting.");
  await connect("wait_for_event_1", "timed_out", "send_sms_1");

  await drop("journey_exit", 130, 620);
  await connect("send_email_2", "default", "journey_exit_1");
  await connect("send_sms_1", "default", "journey_exit_1");

  assert.equal(await page.locator(".react-flow__node").count(), 7);
  assert.equal(await page.locator(".react-flow__edge").count(), 7);
  // A cycle is refused, with the reason.
  await connect("send_sms_1", "default", "send_email_1");
  await page.getByTestId("notice").filter({ hasText: "cycle" }).waitFor();
  assert.equal(await page.locator(".react-flow__edge").count(), 7);
  // Undo takes back the last edge; redo restores it.
  await page.locator(".react-flow__pane").click({ position: { x: 10, y: 10 } });
  await page.keyboard.press("Control+z");
  assert.equal(await page.locator(".react-flow__edge").count(), 6);
  await page.keyboard.press("Control+Shift+z");
  assert.equal(await page.locator(".react-flow__edge").count(), 7);
  await page.getByRole("button", { name: "Auto-layout" }).click();
  await page.waitForTimeout(400);
  await shot(page, "editor-built");
});

scenario("save shows the server's validation problem on the node and field", async () => {
  // The wait has no duration yet.
  await page.keyboard.press("Control+s");
  const problem = page.getByTestId("node-wait_1").getByTestId("node-problems");
  await problem.waitFor();
  await panel().getByText("id wait_1").waitFor(); // the first offending node is selected
  await panel().getByRole("alert").filter({ hasText: "duration" }).first().waitFor();
  await shot(page, "editor-problem");
  await panel().getByLabel("Duration", { exact: true }).fill("7");
  await page.keyboard.press("Control+s");
  await page.getByTestId("notice").filter({ hasText: "Draft saved" }).waitFor();
  assert.equal(await problem.count(), 0);
  const saved = await env.api("GET", `/api/v1/journeys/${journeyId}`);
  assert.equal(saved.graph.nodes.length, 7);
  assert.deepEqual(saved.graph.nodes.find((n) => n.id === "wait_1").config, { duration: "7d" });
  assert.deepEqual(saved.graph.nodes.find((n) => n.id === "wait_for_event_1").config, { event_type: "email_opened", timeout: "3d" });
  assert.equal(saved.graph.edges.find((e) => e.target === "send_sms_1").branch, "timed_out");
});

scenario("activate, enrol customers through the API, and watch the counts", async () => {
  await page.getByRole("button", { name: "Activate" }).click();
  await page.getByTestId("notice").filter({ hasText: "Activated" }).waitFor();
  await page.getByText("is live and read-only").waitFor();
  for (const c of ["ada", "grace", "linus"]) {
    await env.api("POST", "/api/v1/events", { customer_id: c, event_type: "signed_up" });
  }
  await page.getByTestId("customers-now").filter({ hasText: "3 in it now" }).waitFor({ timeout: 20_000 });
  await page.getByTestId("node-wait_for_event_1").getByTestId("node-count").filter({ hasText: "3" }).waitFor({ timeout: 20_000 });
  await shot(page, "editor-live");
  // One opens the email: she moves on to the week's wait.
  await env.api("POST", "/api/v1/events", { customer_id: "ada", event_type: "email_opened" });
  await page.getByTestId("node-wait_1").getByTestId("node-count").filter({ hasText: "1" }).waitFor({ timeout: 20_000 });
  await page.reload();
  await page.getByTestId("node-wait_for_event_1").getByTestId("node-count").filter({ hasText: "2" }).waitFor({ timeout: 20_000 });

  await page.getByRole("link", { name: "Journeys" }).first().click();
  const row = page.getByRole("row").filter({ hasText: "Welcome, built by hand" });
  await row.getByTestId("active-count").filter({ hasText: "3" }).waitFor();
  await row.getByText("v1").waitFor();
  await shot(page, "journeys");
});

scenario("a 200-node journey loads and pans", async () => {
  // The entry, 9 chains of 22 waits, and the exit: 200 nodes, 207 edges.
  const nodes = [{ id: "start", type: "event_entry", config: { event_type: "big" }, position: { x: 1200, y: 0 } }];
  const edges = [];
  for (let c = 0; c < 9; c++) {
    for (let r = 0; r < 22; r++) {
      const id = `w${c}_${r}`;
      nodes.push({ id, type: "wait", config: { duration: `${r + 1}h` }, position: { x: c * 300, y: 150 + r * 130 } });
      edges.push({ id: `e_${id}`, source: r === 0 ? "start" : `w${c}_${r - 1}`, target: id });
    }
    edges.push({ id: `e_end_${c}`, source: `w${c}_21`, target: "end" });
  }
  nodes.push({ id: "end", type: "journey_exit", position: { x: 1200, y: 150 + 22 * 130 } });
  assert.equal(nodes.length, 200);
  const j = await env.api("POST", "/api/v1/journeys", { name: "Two hundred nodes", graph: { nodes, edges } });
  const loadStart = Date.now();
  await page.goto(`${env.base}/journeys/${j.id}`);
  await page.getByTestId("node-start").waitFor();
  const loadMs = Date.now() - loadStart;
  const pane = page.locator(".react-flow__pane");
  const box = await pane.boundingBox();
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  const measure = async (label) => {
    await page.evaluate(() => {
      window.__frames = 0;
      window.__counting = true;
      const tick = () => {
        if (!window.__counting) return;
        window.__frames++;
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });
    const t0 = Date.now();
    await page.mouse.move(cx, cy);
    await page.mouse.down();
    let moves = 0;
    while (Date.now() - t0 < 2000) {
      await page.mouse.move(cx + Math.sin(moves / 10) * 250, cy + Math.cos(moves / 13) * 150);
      moves++;
    }
    await page.mouse.up();
    const frames = await page.evaluate(() => {
      window.__counting = false;
      return window.__frames;
    });
    const seconds = (Date.now() - t0) / 1000;
    const rendered = await page.locator(".react-flow__node").count();
    console.log(`200-node canvas (${label}): loaded in ${loadMs} ms; ${rendered} nodes rendered; panned ${seconds.toFixed(2)} s: ` +
      `${frames} frames = ${(frames / seconds).toFixed(1)} fps, ${moves} pointer moves`);
  };
  await measure("fit to view, every node visible");
  await shot(page, "editor-200-nodes");
  await page.getByRole("button", { name: "Zoom in" }).click();
  await page.getByRole("button", { name: "Zoom in" }).click();
  await page.getByRole("button", { name: "Zoom in" }).click();
  await measure("zoomed in");
});
