// End-to-end scenarios against a real kalcifer serve, in headless chromium.
// Run with `npm run e2e` from web/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { start, shot, adminKey } from "./harness.mjs";

let env;
let page;

before(async () => {
  env = await start();
  page = await env.context.newPage();
  page.on("console", (m) => {
    if (m.type() === "error") console.error(`browser: ${m.text()}`);
  });
}, { timeout: 300_000 });

after(async () => {
  await env?.stop();
});

test("a bad key is refused with a clear message", async () => {
  await page.goto(env.base + "/");
  await page.getByLabel("API key").fill("not-a-real-key-at-all");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("alert").filter({ hasText: "not valid" }).waitFor();
  await shot(page, "login-error");
});

test("log in", async () => {
  await page.getByLabel("API key").fill(adminKey);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Journeys", exact: true }).waitFor();
  await page.getByRole("button", { name: "Create a demo journey" }).waitFor();
  await shot(page, "empty-tenant");
  const stored = await page.evaluate(() => sessionStorage.getItem("kalcifer.apiKey"));
  assert.equal(stored, adminKey);
});
