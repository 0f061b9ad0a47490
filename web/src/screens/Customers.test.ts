import { expect, test } from "vitest";
import { parseFilter } from "./Customers";

test("attribute filters become attr.* parameters", () => {
  expect(parseFilter(" plan=pro  address.city=Lyon ")).toEqual({ query: { "attr.plan": "pro", "attr.address.city": "Lyon" } });
  expect(parseFilter("")).toEqual({ query: {} });
  expect(parseFilter("plan")).toEqual({ error: "“plan” is not attribute=value" });
  expect(parseFilter("=pro")).toHaveProperty("error");
});
