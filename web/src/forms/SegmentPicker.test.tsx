import { afterEach, expect, test } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import type { NodeType } from "../api/types";
import catalogue from "../testdata/node-types.json";
import { SchemaForm } from "./SchemaForm";
import type { JSONSchema } from "./schema";

afterEach(cleanup);

const schemaOf = (type: string) =>
  (catalogue.data as NodeType[]).find((t) => t.type === type)!.config_schema as JSONSchema;
const segments = [{ id: "seg_1", name: "Pro customers" }, { id: "seg_2", name: "Churn risk" }];

test("a segment_entry picks its segment by name and stores its id", () => {
  let value: Record<string, unknown> = {};
  render(<SchemaForm schema={schemaOf("segment_entry")} value={{}} pickers={{ nodeType: "segment_entry", segments }}
    onChange={(v) => (value = v)} />);
  const select = screen.getByLabelText("Segment ID") as HTMLSelectElement;
  expect([...select.options].map((o) => o.text)).toEqual(["Choose a segment", "Pro customers", "Churn risk"]);
  fireEvent.change(select, { target: { value: "seg_2" } });
  expect(value).toEqual({ segment_id: "seg_2" });
});

test("a scheduled_entry's segment is optional, and an unknown one stays visible", () => {
  render(<SchemaForm schema={schemaOf("scheduled_entry")} value={{ segment_id: "seg_gone" }}
    pickers={{ nodeType: "scheduled_entry", segments }} onChange={() => {}} />);
  const select = screen.getByLabelText("Segment ID") as HTMLSelectElement;
  expect(select.options[0]!.text).toBe("Every customer");
  expect(select.value).toBe("seg_gone");
  expect(select.selectedOptions[0]!.text).toBe("seg_gone (not found)");
});
