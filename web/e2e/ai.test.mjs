// The AI panel: design a journey with the offline designer (no network),
// see the proposal as a diff on the canvas, apply it; refine a journey and
// discard; design from an uploaded campaign plan.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { start, shot, shotBoth, signIn, repoDir } from "./harness.mjs";

let env;
let page;
let journeyId;

before(async () => {
  env = await start();
  page = await env.context.newPage();
  page.on("console", (m) => {
    if (m.type() === "error") console.error(`browser: ${m.text()}`);
  });
  await signIn(page, env.base);
}, { timeout: 300_000 });

after(async () => {
  await env?.stop();
});

/** both saves a screenshot at 1280×800 and at 1920×1080. */
const both = (name, settle) => shotBoth(page, name, settle);

/** countIs waits for the locator to match want elements (the canvas renders a frame later). */
async function countIs(locator, want, message) {
  for (let i = 0; i < 50 && (await locator.count()) !== want; i++) await page.waitForTimeout(100);
  assert.equal(await locator.count(), want, message);
}

// The seed's US-1 description.
const us1 = "send welcome email, wait 3 days, if not opened send SMS reminder, if opened send upsell after 1 week";

test("design a journey in the AI panel, see it on the canvas, apply it", async () => {
  await page.getByRole("link", { name: "AI designer" }).click();
  await page.getByText("Describe what should happen").waitFor();
  await both("ai-empty");
  await page.getByLabel("Message to the designer").fill(us1);
  const answer = page.waitForResponse((r) => r.url().endsWith("/api/v1/ai/conversations") && r.request().method() === "POST");
  await page.getByRole("button", { name: "Design", exact: true }).click();
  // The turn is streamed: asked for, and answered as, server-sent events.
  const res = await answer;
  assert.equal(res.request().headers()["accept"], "text/event-stream");
  assert.match(res.headers()["content-type"], /^text\/event-stream/);
  assert.match(await res.text(), /^event: result$/m);
  const proposal = page.getByRole("region", { name: "Proposed change" });
  await proposal.waitFor();
  // A new journey: every node of the proposal is added, and on the canvas.
  const added = await page.locator('[data-testid="ai-canvas"] [data-change="added"]').count();
  assert.ok(added >= 5, `expected the US-1 journey's nodes on the canvas, saw ${added}`);
  assert.equal(await page.locator('[data-testid="ai-canvas"] [data-change]:not([data-change="added"])').count(), 0);
  await proposal.getByText(`${added} added`).waitFor();
  // The designer's explanation and its engine are shown.
  await page.getByRole("complementary", { name: "AI designer" }).getByText("offline").waitFor();
  // Selecting a node tells where it came from (or that the server sent no source).
  await page.locator('[data-testid="ai-canvas"] .react-flow__node').first().click();
  await proposal.locator('[data-testid="node-source"], p:has-text("No source text for")').first().waitFor();
  await both("ai-proposal");

  await proposal.getByRole("button", { name: "Apply" }).click();
  await page.waitForURL(/\/journeys\/jrn_[^/]+$/);
  journeyId = decodeURIComponent(new URL(page.url()).pathname.split("/").pop());
  const j = await env.api("GET", `/api/v1/journeys/${journeyId}`);
  assert.equal(j.status, "draft");
  assert.equal(j.graph.nodes.length, added, "the applied draft holds the proposal's nodes");
  assert.ok(j.graph.nodes.some((n) => n.type === "send_sms"));
});

test("refine a journey in the editor's AI panel: the diff on the canvas, discard, apply as an undoable draft", async () => {
  assert.ok(journeyId, "the first scenario applied a journey");
  const before = await env.api("GET", `/api/v1/journeys/${journeyId}`);
  const n = before.graph.nodes.length;
  await page.goto(`${env.base}/journeys/${encodeURIComponent(journeyId)}`);
  const nodes = page.locator('[data-testid="canvas"] .react-flow__node');
  await nodes.first().waitFor();
  assert.equal(await nodes.count(), n);
  await page.getByRole("button", { name: "AI designer" }).click();
  const panel = page.getByRole("complementary", { name: "AI designer" });
  await panel.getByText("Describe what should happen").waitFor();

  const refine = "send welcome email, wait 3 days, if not opened send a push notification, if opened send upsell after 2 weeks";
  const ask = async () => {
    await panel.getByLabel("Message to the designer").fill(refine);
    await panel.getByRole("button", { name: "Design", exact: true }).click();
    await panel.getByRole("region", { name: "Proposed change" }).waitFor();
    await page.locator('[data-testid="ai-diff"] .react-flow__node').first().waitFor();
  };
  // An unsaved edit is saved before the designer is asked (it refines the
  // saved draft), so the proposal keeps it instead of undoing it.
  await page.locator('[data-testid="canvas"] .react-flow__node').first().click();
  const first = await page.locator('[data-testid="canvas"] .react-flow__node').first().getAttribute("data-id");
  await page.getByRole("button", { name: "AI designer" }).click(); // the properties panel, to edit the label
  await page.getByRole("complementary", { name: "Properties" }).getByLabel("Label").fill("Edited before asking");
  await page.getByRole("button", { name: "AI designer" }).click();
  await ask();
  const edited = await env.api("GET", `/api/v1/journeys/${journeyId}`);
  assert.equal(edited.graph.nodes.find((x) => x.id === first).label, "Edited before asking", "the edit was saved first");
  before.graph = edited.graph;
  const diff = page.locator('[data-testid="ai-diff"]');
  const changes = await diff.locator('[data-change="added"], [data-change="changed"], [data-change="removed"]').count();
  assert.ok(changes >= 1, "the push instead of the SMS and the longer wait show as changes");
  await page.waitForTimeout(300); // the diff canvas fits its view
  await both("editor-ai-diff");

  const proposal = panel.getByRole("region", { name: "Proposed change" });
  await proposal.getByRole("button", { name: "Discard" }).click();
  await proposal.waitFor({ state: "detached" });
  await panel.getByText("Proposal discarded").waitFor();
  await nodes.first().waitFor();
  await countIs(nodes, n, "discard leaves the editor's graph as it was");
  assert.deepEqual((await env.api("GET", `/api/v1/journeys/${journeyId}`)).graph, before.graph, "discard changes nothing on the server");

  await ask();
  const proposed = await diff.locator('[data-change]:not([data-change="removed"])').count();
  await proposal.getByRole("button", { name: "Apply" }).click();
  await page.getByText("The proposal is in the draft").waitFor();
  await page.getByText("Unsaved changes").waitFor();
  await countIs(nodes, proposed, "the proposal is the editor's graph");
  assert.deepEqual((await env.api("GET", `/api/v1/journeys/${journeyId}`)).graph, before.graph, "apply does not save by itself");
  await page.getByRole("button", { name: "Undo" }).click();
  await countIs(nodes, n, "undo takes the proposal back");
  await page.getByRole("button", { name: "Redo" }).click();
  await countIs(nodes, proposed, "redo brings it again");
  await page.getByRole("button", { name: "Save draft" }).click();
  await page.getByText("Draft saved.").waitFor();
  const saved = await env.api("GET", `/api/v1/journeys/${journeyId}`);
  assert.equal(saved.graph.nodes.length, proposed);
  assert.ok(saved.graph.nodes.some((x) => x.type === "send_push"), "the refined journey sends a push");
});

test("design from an uploaded campaign plan (CSV)", async () => {
  await page.goto(`${env.base}/design`);
  await page.getByText("Describe what should happen").waitFor();
  const plan = path.join(repoDir, "designer", "testdata", "documents", "saas_onboarding.csv");
  await page.getByLabel("Campaign plan file").setInputFiles(plan);
  await page.getByText("saas_onboarding.csv").waitFor();
  const proposal = page.getByRole("region", { name: "Proposed change" });
  await proposal.waitFor();
  const added = await page.locator('[data-testid="ai-canvas"] [data-change="added"]').count();
  assert.ok(added >= 4, `expected the plan's steps on the canvas, saw ${added}`);
  await both("ai-upload");
});
