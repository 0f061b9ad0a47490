// End-to-end scenarios of the Versions and Monitor screens against a real
// kalcifer serve: enrol customers through the API and watch the node
// counts change, pushed over the live feed's WebSocket, and polled when
// the socket is refused; publish a v2 with a changed wait and watch the migration
// finish; open a version diff; follow one customer's trace across the
// migration. Run with `npm run e2e` from web/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { start, shot, shotBoth, signIn, webDir } from "./harness.mjs";

let env;
let page;
let journeyId;
/** The live feed's frames the page received, as parsed JSON. */
const feed = [];

// The seed's US-1 journey, as the app's "create a demo journey" makes it.
const demoSource = readFileSync(path.join(webDir, "src/screens/demo.ts"), "utf8");
const demo = Function(`return (${demoSource.slice(demoSource.indexOf("= {", demoSource.indexOf("demoJourney")) + 2)
  .replace(/;\s*$/, "")})`)();

/** v2 of the demo: shorter waits, and a tag after the upsell. */
function demoV2() {
  const g = structuredClone(demo.graph);
  g.nodes.find((n) => n.id === "wait_for_open").config.timeout = "2d";
  g.nodes.find((n) => n.id === "wait_a_week").config.duration = "5d";
  g.nodes.push({ id: "tag_upsold", type: "add_tag", label: "Tag upsold", position: { x: 128, y: 700 }, config: { tag: "upsold" } });
  g.edges = g.edges.filter((e) => e.id !== "e5");
  g.edges.push({ id: "e5a", source: "upsell_email", target: "tag_upsold" }, { id: "e5b", source: "tag_upsold", target: "done" });
  return g;
}

/** both saves a screenshot at 1280×800 and at 1920×1080. */
const both = (name, settle) => shotBoth(page, name, settle);

before(async () => {
  env = await start();
  page = await env.context.newPage();
  page.on("console", (m) => {
    if (m.type() === "error") console.error(`browser: ${m.text()}`);
  });
  page.on("pageerror", (e) => console.error(`page error: ${e.message}`));
  page.on("websocket", (ws) => {
    if (new URL(ws.url()).pathname === "/api/v1/socket") ws.on("framereceived", (f) => feed.push(JSON.parse(f.payload)));
  });
  const j = await env.api("POST", "/api/v1/journeys", { name: demo.name, description: demo.description, graph: demo.graph });
  journeyId = j.id;
  await env.api("POST", `/api/v1/journeys/${journeyId}/activate`, {});
  await signIn(page, env.base);
}, { timeout: 300_000 });

after(async () => {
  await env?.stop();
});

const count = (node) => page.getByTestId(`count-${node}`);

test("enrol customers through the API and see the node counts change", async () => {
  // From the journeys list, through the row's menu.
  await page.getByRole("button", { name: `Actions for ${demo.name}` }).click();
  await page.getByRole("menuitem", { name: "Monitor" }).click();
  await page.getByTestId("view-node-wait_for_open").waitFor();
  assert.equal(new URL(page.url()).pathname, `/journeys/${journeyId}/monitor`);
  await assertText(count("wait_for_open"), "0");
  // The counts come over the WebSocket, not by polling.
  await assertText(page.getByTestId("live-via"), "live");
  await env.api("POST", `/api/v1/journeys/${journeyId}/trigger`, { customer_ids: ["ada", "bob", "cy"] });
  await assertText(count("wait_for_open"), "3");
  assert.ok(feed.some((f) => f.event === "node_counts" && f.topic === `journey:${journeyId}` && f.payload.wait_for_open === 3),
    "a node_counts push with the three customers at wait_for_open");
  assert.ok(feed.some((f) => f.event === "instance_event" && f.payload.customer_id === "ada"), "ada's steps pushed");
  await env.api("POST", `/api/v1/journeys/${journeyId}/trigger`, { customer_ids: ["dee", "eve"] });
  await assertText(count("wait_for_open"), "5");
  await assertText(page.getByTestId("version-customers"), "5");
  await assertText(count("welcome_email"), "0");
  await page.getByTestId("version-breakdown").getByText("v1 · live").waitFor();
  await both("monitor");

  // The customers at a node, and one customer's trace.
  await page.getByTestId("view-node-wait_for_open").click();
  await page.getByTestId("instance-list").getByText("ada", { exact: true }).click();
  const trace = page.getByTestId("trace-timeline");
  await trace.getByText("Waiting at wait_for_open").waitFor();
  await trace.locator("[data-kind=send]").first().waitFor();
  // A selection makes new node objects; the edges must stay drawn.
  assert.equal(await page.getByTestId("monitor-canvas").locator(".react-flow__edge").count(), demo.graph.edges.length,
    "every edge still drawn after a node was selected");
  await both("monitor-trace");
  await page.getByRole("button", { name: "← Back" }).click();
});

test("with the socket refused, the monitor polls and its counts still change", async () => {
  const polled = await env.context.newPage();
  await polled.routeWebSocket(/\/api\/v1\/socket/, (ws) => ws.close({ code: 1011, reason: "refused by the test" }));
  await signIn(polled, env.base); // the key is kept per tab
  await polled.goto(`${env.base}/journeys/${journeyId}/monitor`);
  const via = polled.getByTestId("live-via");
  await via.getByText("polling every 3 s").waitFor();
  await env.api("POST", `/api/v1/journeys/${journeyId}/trigger`, { customer_ids: ["fay"] });
  await polled.getByTestId("count-wait_for_open").getByText("6", { exact: true }).waitFor({ timeout: 20_000 });
  await shot(polled, "monitor-polling");
  await polled.close();
  await env.api("POST", `/api/v1/instances/${(await env.api("GET", `/api/v1/journeys/${journeyId}/instances?customer_id=fay`)).data[0].id}/exit`, {});
  // The first page, still on the socket, sees fay leave.
  await assertText(count("wait_for_open"), "5");
});

test("publish a v2 with a changed wait and watch the migration finish", async () => {
  // The editor saves an active journey's changes as a new version.
  await env.api("POST", `/api/v1/journeys/${journeyId}/versions`,
    { graph: demoV2(), changelog: "Shorter waits; tag customers who got the upsell" });
  await page.goto(`${env.base}/journeys/${journeyId}/versions`);
  const v2 = page.getByTestId("version-2");
  await v2.getByText("Shorter waits; tag customers who got the upsell").waitFor();
  await v2.getByText("draft").waitFor();

  await v2.getByRole("button", { name: "Publish…" }).click();
  const dialog = page.getByTestId("publish-dialog");
  const row = dialog.getByTestId("mapping-wait_for_open");
  await row.waitFor();
  // The dry run's proposal: same node, config changed (90 %), and the five customers there.
  await assertText(row.locator("td").nth(1), "5");
  await row.getByText("likely · 90%").waitFor();
  assert.equal(await row.getByRole("combobox").inputValue(), "wait_for_open");
  // Editing a row marks it as the person's choice; putting it back restores the proposal.
  await dialog.getByTestId("mapping-sms_reminder").getByRole("combobox").selectOption("");
  await dialog.getByTestId("mapping-sms_reminder").getByText("your choice").waitFor();
  await dialog.getByTestId("mapping-sms_reminder").getByRole("combobox").selectOption("sms_reminder");
  await dialog.getByTestId("mapping-sms_reminder").getByText("exact · 100%").waitFor();
  await both("publish-dialog");

  await dialog.getByRole("button", { name: "Publish v2" }).click();
  await dialog.waitFor({ state: "detached" });
  const detail = page.getByTestId("migration-detail");
  await detail.getByText("v1 → v2").waitFor();
  await assertText(detail.getByTestId("migration-status"), "completed", 60_000);
  await assertText(detail.getByTestId("migration-moved"), "5");
  await page.getByTestId("version-2").getByText("live").waitFor();
  await both("versions-migrated");

  const byVersion = await env.api("GET", `/api/v1/journeys/${journeyId}/instances/by-version`);
  assert.deepEqual(byVersion, { v2: 5 });
});

test("open a version diff", async () => {
  await page.getByRole("combobox", { name: "Compare from" }).selectOption("1");
  await page.getByRole("combobox", { name: "Compare to" }).selectOption("2");
  const canvas = page.getByTestId("diff-canvas");
  await canvas.getByTestId("view-node-tag_upsold").waitFor();
  assert.equal(await canvas.getByTestId("view-node-tag_upsold").getAttribute("data-mark"), "added");
  assert.equal(await canvas.getByTestId("view-node-wait_for_open").getAttribute("data-mark"), "changed");
  assert.equal(await canvas.getByTestId("view-node-wait_a_week").getAttribute("data-mark"), "changed");
  assert.equal(await canvas.getByTestId("view-node-signed_up").getAttribute("data-mark"), "unchanged");
  await page.getByTestId("diff-legend").getByText("1 added").waitFor();
  await page.getByTestId("diff-legend").getByText("2 changed").waitFor();
  await page.getByTestId("diff-changes").getByText("config.timeout: “3d” → “2d”").waitFor();
  await page.getByTestId("diff-changes").getByText("config.duration: “7d” → “5d”").waitFor();
  await both("versions-diff");
});

test("the monitor shows the customers on v2 and the migration in their trace", async () => {
  await page.getByRole("link", { name: "Monitor" }).click();
  await page.getByTestId("version-breakdown").getByText("v2 · live").waitFor();
  await assertText(count("wait_for_open"), "5");
  await page.getByLabel("Customer id").fill("bob");
  await page.getByRole("button", { name: "Find" }).click();
  await page.getByTestId("instance-list").getByText("bob", { exact: true }).click();
  const trace = page.getByTestId("trace-timeline");
  await trace.getByText("Moved to version 2").waitFor();
  await trace.getByText("v1 → v2").waitFor();
  await trace.getByText("migrated from version 1 to 2").waitFor();

  // Pause and resume the instance through its routes.
  const panel = page.getByTestId("instance-trace");
  await panel.getByRole("button", { name: "Pause" }).click();
  await panel.getByText("paused", { exact: true }).waitFor();
  await trace.getByText("Instance paused").waitFor();
  await panel.getByRole("button", { name: "Resume" }).click();
  await panel.getByText("active", { exact: true }).waitFor();
  await both("monitor-trace-migrated");
});

/** assertText waits until locator's text is exactly want. */
async function assertText(locator, want, timeout = 20_000) {
  const deadline = Date.now() + timeout;
  let got;
  while (Date.now() < deadline) {
    got = (await locator.textContent({ timeout }).catch(() => null))?.trim();
    if (got === want) return;
    await page.waitForTimeout(200);
  }
  assert.equal(got, want);
}
