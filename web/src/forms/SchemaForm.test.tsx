import { afterEach, describe, expect, test } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { useState } from "react";
import type { NodeType } from "../api/types";
import catalogue from "../testdata/node-types.json";
import { problemsByField, SchemaForm, type Pickers } from "./SchemaForm";
import { durationUnits, type JSONSchema } from "./schema";

afterEach(cleanup);

// The config schemas as a real server serves them.
const schemaOf = (type: string) =>
  (catalogue.data as NodeType[]).find((t) => t.type === type)!.config_schema as JSONSchema;

/** Form renders a SchemaForm that keeps its value, and reports it. */
function Form({ type, initial = {}, problems, pickers, seen }: {
  type: string;
  initial?: Record<string, unknown>;
  problems?: Map<string, string[]>;
  pickers?: Partial<Pickers>;
  seen: { value?: Record<string, unknown> };
}) {
  const [value, setValue] = useState(initial);
  return (
    <SchemaForm schema={schemaOf(type)} value={value} problems={problems} pickers={{ nodeType: type, ...pickers }}
      onChange={(v) => {
        seen.value = v;
        setValue(v);
      }} />
  );
}

describe("schema-driven form", () => {
  test("a duration is a number and a unit", () => {
    const seen: { value?: Record<string, unknown> } = {};
    render(<Form type="wait" seen={seen} />);
    const n = screen.getByLabelText("Duration");
    expect(n.getAttribute("aria-required")).toBe("true");
    fireEvent.change(n, { target: { value: "3" } });
    expect(seen.value).toEqual({ duration: "3d" });
    fireEvent.change(screen.getByLabelText("Unit"), { target: { value: "h" } });
    expect(seen.value).toEqual({ duration: "3h" });
    fireEvent.change(n, { target: { value: "" } });
    expect(seen.value).toEqual({});
  });

  test("enums are selects, integers numbers", () => {
    const seen: { value?: Record<string, unknown> } = {};
    render(<Form type="frequency_cap" seen={seen} />);
    fireEvent.change(screen.getByLabelText("Channel"), { target: { value: "sms" } });
    fireEvent.change(screen.getByLabelText("Max"), { target: { value: "2" } });
    expect(seen.value).toEqual({ channel: "sms", max: 2 });
    const options = [...(screen.getByLabelText("Channel") as HTMLSelectElement).options].map((o) => o.value);
    expect(options).toEqual(["", "email", "sms", "push", "whatsapp", "webhook", "any"]);
  });

  test("a list of objects adds and removes items (A/B variants)", () => {
    const seen: { value?: Record<string, unknown> } = {};
    render(<Form type="ab_split" seen={seen} />);
    fireEvent.click(screen.getByRole("button", { name: /add variant/i }));
    fireEvent.change(screen.getByLabelText("Key"), { target: { value: "a" } });
    fireEvent.change(screen.getByLabelText("Weight"), { target: { value: "50" } });
    expect(seen.value).toEqual({ variants: [{ key: "a", weight: 50 }] });
    fireEvent.click(screen.getByRole("button", { name: "Remove item 1" }));
    expect(seen.value).toEqual({});
  });

  test("template and provider pickers list the node's channel only", () => {
    const seen: { value?: Record<string, unknown> } = {};
    render(<Form type="send_sms" seen={seen} initial={{ template_id: "gone" }} pickers={{
      templates: [{ id: "t1", name: "welcome", channel: "email" }, { id: "t2", name: "reminder", channel: "sms" }],
      providers: [{ id: "p1", name: "twilio-main", channel: "sms", is_default: true }],
    }} />);
    const templates = [...(screen.getByLabelText("Template ID") as HTMLSelectElement).options].map((o) => o.textContent);
    expect(templates).toEqual(["None: inline content below", "reminder", "gone (not found)"]);
    fireEvent.change(screen.getByLabelText("Template ID"), { target: { value: "reminder" } });
    expect(seen.value).toEqual({ template_id: "reminder" });
    const providers = [...(screen.getByLabelText("Provider") as HTMLSelectElement).options].map((o) => o.textContent);
    expect(providers).toEqual(["The tenant's default", "twilio-main (default)"]);
  });

  test("event types are offered; CEL gets a code field; free objects take JSON", () => {
    const seen: { value?: Record<string, unknown> } = {};
    render(<Form type="wait_for_event" seen={seen} pickers={{ eventTypes: ["email_opened", "signed_up"] }} />);
    const event = screen.getByLabelText("Event type");
    const list = document.getElementById(event.getAttribute("list")!)!;
    expect([...list.querySelectorAll("option")].map((o) => o.value)).toEqual(["email_opened", "signed_up"]);
    fireEvent.change(screen.getByLabelText("Filter"), { target: { value: '{"plan": "pro"' } });
    expect(seen.value).toBeUndefined(); // not JSON yet: nothing changes
    expect(screen.getByText(/Not valid JSON yet/)).toBeTruthy();
    fireEvent.change(screen.getByLabelText("Filter"), { target: { value: '{"plan": "pro"}' } });
    expect(seen.value).toEqual({ filter: { plan: "pro" } });
    cleanup();
    render(<Form type="condition" seen={seen} />);
    expect(screen.getByLabelText("Expression").tagName).toBe("TEXTAREA");
  });

  test("a CEL field is checked once typing pauses, and the reason shown under it", async () => {
    const seen: { value?: Record<string, unknown> } = {};
    const asked: string[] = [];
    // The server's answer for two expressions (the e2e run checks against the real route).
    const checkExpression = async (e: string) => {
      asked.push(e);
      return e === "customer.plan ==" ? { valid: false, error: "Syntax error: mismatched input '<EOF>'" } : { valid: true };
    };
    render(<Form type="condition" seen={seen} pickers={{ checkExpression }} />);
    const field = screen.getByLabelText("Expression");
    for (const text of ["c", "customer", "customer.plan ", "customer.plan =="]) fireEvent.change(field, { target: { value: text } });
    expect((await screen.findByTestId("cel-error")).textContent).toMatch(/mismatched input/);
    expect(asked).toEqual(["customer.plan =="]); // one check for the pause, not one per key
    fireEvent.change(field, { target: { value: 'customer.plan == "pro"' } });
    expect(screen.queryByTestId("cel-error")).toBeNull(); // an answer about other text is not shown
    await screen.findByTestId("cel-ok");
    expect(asked).toEqual(["customer.plan ==", 'customer.plan == "pro"']);
  });

  test("the server's problems are shown under their field and the whole form", () => {
    const problems = problemsByField([
      { node_id: "w", field: "config.timeout", message: `node "w": config.timeout: '3 days' does not match pattern` },
      { node_id: "w", field: "config", message: `node "w": config: missing property 'event_type'` },
      { node_id: "w", field: "branch", message: "needs an edge" },
    ]);
    expect([...problems.keys()]).toEqual(["timeout", ""]);
    render(<Form type="wait_for_event" seen={{}} problems={problems} />);
    expect(screen.getByText("'3 days' does not match pattern")).toBeTruthy();
    expect(screen.getByText("missing property 'event_type'")).toBeTruthy();
    expect(screen.getByLabelText("Timeout").getAttribute("aria-invalid")).toBe("true");
    expect(screen.getByLabelText("Event type").getAttribute("aria-invalid")).toBeNull();
  });

  test("duration patterns are read from the schemas", () => {
    expect(durationUnits(schemaOf("wait").properties!.duration!.pattern)).toEqual(["s", "m", "h", "d"]);
    expect(durationUnits(schemaOf("call_webhook").properties!.timeout!.pattern)).toEqual(["ms", "s", "m"]);
    expect(durationUnits("^[a-z]+$")).toBeNull();
  });
});
