// The templates and providers screens against a real server.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { start, shot, shotBoth, signIn } from "./harness.mjs";

let env;
let page;

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

test("create a template, preview it, save a second version", async () => {
  await page.getByRole("link", { name: "Templates" }).click();
  await page.getByText("No templates yet").waitFor();
  await page.getByRole("button", { name: "New" }).click();
  await page.getByLabel("Name").fill("welcome-email");
  await page.getByLabel("Subject").fill("Welcome, {{ customer.first_name }}!");
  await page.getByLabel("HTML").fill("<h1>Hi {{ customer.first_name }}</h1><p>Your plan: {{ customer.plan | upcase }}.</p>");
  await page.getByRole("button", { name: "Create template" }).click();
  // Saved: the preview renders it with the sample customer.
  const preview = page.getByTestId("template-preview");
  await preview.getByText("Welcome, Ada!").waitFor();
  const frame = page.frameLocator('iframe[title="HTML preview"]');
  await frame.getByText("Your plan: PRO.").waitFor();
  const [t] = (await env.api("GET", "/api/v1/templates")).data;
  assert.equal(t.name, "welcome-email");
  assert.equal(t.version, 1);

  // A required variable the sample lacks is a warning in the preview.
  await page.getByLabel("Subject").fill("Welcome, {{ customer.nickname }}!");
  await page.getByRole("button", { name: "Render" }).click();
  await preview.getByText(/nickname/).first().waitFor();
  await page.getByRole("button", { name: "Save new version" }).click();
  await page.getByRole("region", { name: "Versions" }).getByText("v2").waitFor();
  assert.equal((await env.api("GET", `/api/v1/templates/${t.id}`)).version, 2);
  await both("templates");
});

test("a Liquid error is shown with its line and column", async () => {
  await page.getByLabel("HTML").fill("<p>{% if customer.plan %}unclosed</p>");
  await page.getByRole("button", { name: "Save new version" }).click();
  await page.getByRole("alert").first().waitFor();
  assert.equal((await env.api("GET", "/api/v1/templates")).data[0].version, 2, "nothing saved");
});

test("add a provider account, make it the default, send a test", async () => {
  await page.getByRole("link", { name: "Providers" }).click();
  await page.getByText("No accounts yet").waitFor();
  await page.getByRole("button", { name: "Add account" }).click();
  await page.getByLabel("Name").fill("records-email");
  await page.getByLabel("Channel").selectOption("email");
  await page.getByLabel("Driver").selectOption("log");
  await page.getByLabel("Config (JSON)").fill("{}");
  await page.getByLabel("Default account for email").check();
  await both("providers-add");
  await page.getByRole("button", { name: "Add account" }).last().click();
  await page.getByRole("cell", { name: /^records-email prv_/ }).waitFor();
  await page.getByText("default for email").waitFor();
  const [a] = (await env.api("GET", "/api/v1/providers")).data;
  assert.equal(a.type, "log");
  assert.equal(a.is_default, true);

  // A bad config is refused, naming the field, and nothing is stored.
  await page.getByRole("button", { name: "Edit" }).click();
  await page.getByLabel("Config (JSON)").fill('{"no_such_field": 1}');
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByRole("dialog").getByRole("alert").waitFor();
  await page.getByRole("button", { name: "Cancel" }).click();

  await page.getByRole("button", { name: "Send test" }).click();
  await page.getByLabel("To").fill("ada@example.com");
  await page.getByRole("dialog").getByRole("button", { name: "Send test" }).click();
  await page.getByRole("dialog").getByRole("status").getByText("logged").waitFor();
  await both("providers-test");
  await page.getByRole("button", { name: "Close" }).first().click();
  await both("providers");
});

test("a template created on the templates screen is offered in the send_email node's template picker", async () => {
  // welcome-email was made on the templates screen by the first scenario.
  const j = await env.api("POST", "/api/v1/journeys", {
    name: "Picker", graph: { nodes: [
      { id: "in", type: "event_entry", config: { event_type: "signed_up" } },
      { id: "mail", type: "send_email", label: "Welcome", config: { subject: "s", html: "h" } },
    ], edges: [{ id: "e", source: "in", target: "mail" }] },
  });
  await page.goto(`${env.base}/journeys/${j.id}`);
  await page.locator('.react-flow__node[data-id="mail"]').click();
  const picker = page.getByRole("complementary", { name: "Properties" }).getByRole("combobox", { name: /template/i });
  await picker.locator("option", { hasText: "welcome-email" }).waitFor({ state: "attached" });
  await picker.selectOption({ label: "welcome-email" });
  // A template or inline content, not both: the inline subject and HTML go.
  const props = page.getByRole("complementary", { name: "Properties" });
  await props.getByLabel("Subject", { exact: true }).fill("");
  await props.getByLabel(/^html$/i).fill("");
  await page.getByRole("button", { name: "Save draft" }).click();
  const notice = page.getByTestId("notice");
  await notice.waitFor();
  assert.match(await notice.innerText(), /Draft saved/);
  const saved = await env.api("GET", `/api/v1/journeys/${j.id}`);
  const mail = saved.graph.nodes.find((n) => n.id === "mail");
  assert.ok(Object.values(mail.config).includes("welcome-email"), `the node names the template: ${JSON.stringify(mail.config)}`);
});
