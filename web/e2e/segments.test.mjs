// End-to-end: the segments and customers screens against a real kalcifer
// serve. Customers are identified through the API; a person writes a
// segment's rule as text, sees a bad clause named and the live count, saves
// it and sees its members, then opens a customer's profile. Run with
// `npm run e2e` from web/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { start, shot, shotBoth, signIn, adminKey, repoDir } from "./harness.mjs";

let env;
let page;
let welcomeName;

before(async () => {
  env = await start();
  page = await env.context.newPage();
  page.on("console", (m) => {
    if (m.type() === "error" && !/401|422|409/.test(m.text())) console.error(`browser: ${m.text()}`);
  });
  page.on("pageerror", (e) => console.error(`page error: ${e.message}`));
  // 30 customers: every third is on the pro plan, pro customers in Lyon are vip.
  for (let i = 1; i <= 30; i++) {
    const id = `cust-${String(i).padStart(2, "0")}`;
    const pro = i % 3 === 0;
    await env.api("POST", "/api/v1/customers", {
      id,
      attributes: { plan: pro ? "pro" : "free", ltv: i * 100, address: { city: i % 2 ? "Lyon" : "Paris" }, name: `Customer ${i}` },
      add_tags: pro && i % 2 ? ["vip"] : [],
    });
  }
  // The README's welcome journey, live, with cust-03 in it.
  const welcome = JSON.parse(readFileSync(path.join(repoDir, "examples", "welcome-journey.json"), "utf8"));
  const journey = await env.api("POST", "/api/v1/journeys", welcome);
  welcomeName = journey.name;
  await env.api("POST", `/api/v1/journeys/${journey.id}/activate`, {});
  await env.api("POST", "/api/v1/events", { customer_id: "cust-03", event_type: "signed_up" });
  for (const id of ["cust-03", "cust-06", "cust-09"]) {
    await env.api("POST", "/api/v1/events", { customer_id: id, event_type: "order_completed", data: { amount: 42 } });
  }
  await env.api("POST", "/api/v1/events", { customer_id: "cust-03", event_type: "order_completed", data: { amount: 12 } });
}, { timeout: 300_000 });

after(async () => {
  await env?.stop();
});

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

/** both saves a screenshot at 1280×800 and at 1920×1080. */
const both = (name, settle) => shotBoth(page, name, settle);

scenario("a segment written as text shows its live count, then its members once saved", async () => {
  await signIn(page, env.base);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Segments" }).click();
  await page.getByRole("heading", { name: "Segments", level: 1 }).waitFor();

  const rule = page.getByLabel("Rule");
  // A bad clause is named while typing.
  await rule.fill('plan = "pro" and ltv >= "lots"');
  const problem = page.getByTestId("rule-problem");
  await problem.waitFor();
  assert.match(await problem.innerText(), /clause 2 of and › value: gte takes a number/);
  await shot(page, "segments-problem");

  // A good one is counted: pro customers (10) who ordered (3) or are vip.
  await rule.fill('plan = "pro" and (performed order_completed or tag "vip")');
  const estimate = page.getByTestId("estimate-count");
  await page.waitForFunction(() => document.querySelector('[data-testid="estimate-count"]')?.textContent === "6"
    && !document.querySelector('[data-testid="rule-problem"]'));
  assert.equal(await estimate.innerText(), "6");
  await page.getByTestId("rule-tree").getByText("any of").waitFor();

  await page.getByLabel("Name").fill("Pro buyers and VIPs");
  await page.getByRole("button", { name: "Create segment" }).click();
  await page.waitForURL(/\/segments\/seg_/);
  await page.getByTestId("segment-count").filter({ hasText: "6" }).waitFor();
  const members = page.getByRole("region", { name: "Members" }).getByRole("link");
  await members.first().waitFor();
  assert.deepEqual(await members.allInnerTexts(), ["cust-03", "cust-06", "cust-09", "cust-15", "cust-21", "cust-27"]);
  await both("segments");

  // A segment another refers to cannot be deleted: the 409's message shows.
  const first = page.url().split("/").pop();
  await env.api("POST", "/api/v1/segments", { name: "VIP buyers", rule_text: `segment "${first}" and tag "vip"` });
  await page.reload();
  await page.getByRole("button", { name: "Delete" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Delete segment" }).click();
  await page.getByRole("dialog").getByRole("alert").filter({ hasText: "is used by" }).waitFor();
  await page.getByRole("dialog").getByRole("link", { name: "VIP buyers" }).waitFor();
  await shot(page, "segments-delete-refused");
  await page.keyboard.press("Escape");
});

scenario("customers are filtered by attribute and tag, and a profile shows events and attributes", async () => {
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Customers" }).click();
  await page.getByRole("heading", { name: "Customers", level: 1 }).waitFor();
  const rows = page.locator("tbody tr");
  await page.getByRole("link", { name: "cust-01" }).waitFor();
  assert.equal(await rows.count(), 25);
  await page.getByRole("button", { name: "Next" }).click();
  await page.getByRole("link", { name: "cust-30" }).waitFor();
  assert.equal(await rows.count(), 5);

  await page.getByLabel("Attributes").fill("plan=pro address.city=Lyon");
  await page.getByLabel("Tag").fill("vip");
  await page.getByRole("button", { name: "Search" }).click();
  await page.getByRole("link", { name: "cust-03" }).waitFor();
  assert.deepEqual(await page.locator("tbody tr td:first-child").allInnerTexts(), ["cust-03", "cust-09", "cust-15", "cust-21", "cust-27"]);
  await both("customers");

  await page.getByRole("link", { name: "cust-03" }).click();
  await page.getByRole("heading", { name: "cust-03" }).waitFor();
  const events = page.getByRole("region", { name: "Recent events" }).getByRole("listitem");
  await events.filter({ hasText: "order_completed" }).first().waitFor();
  assert.equal(await events.filter({ hasText: "order_completed" }).count(), 2);
  await page.getByRole("region", { name: "Attributes" }).getByText("address.city").waitFor();
  await page.getByRole("region", { name: "Journeys" }).getByRole("link", { name: welcomeName }).waitFor();
  await both("customer");

  // Erasure asks first, saying it cannot be undone.
  await page.getByRole("button", { name: "Erase customer" }).click();
  await page.getByRole("dialog").getByText("This is irreversible").waitFor();
  await shot(page, "customer-erase");
  await page.getByRole("dialog").getByRole("button", { name: "Erase for good" }).click();
  await page.waitForURL(/\/customers$/);
  const res = await fetch(`${env.base}/api/v1/customers/cust-03/profile`, { headers: { Authorization: `Bearer ${adminKey}` } });
  assert.equal(res.status, 404);
});
