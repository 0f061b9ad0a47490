import { expect, test } from "vitest";
import { flatten, parseFilter } from "./Customers";
import { clauseName } from "./Segments";

test("attribute filters become attr.* parameters", () => {
  expect(parseFilter(" plan=pro  address.city=Lyon ")).toEqual({ query: { "attr.plan": "pro", "attr.address.city": "Lyon" } });
  expect(parseFilter("")).toEqual({ query: {} });
  expect(parseFilter("plan")).toEqual({ error: "“plan” is not attribute=value" });
  expect(parseFilter("=pro")).toHaveProperty("error");
});

test("a rule problem names its clause in words", () => {
  expect(clauseName({ field: "rule.and[1].value" })).toBe("clause 2 of and › value:");
  expect(clauseName({ field: "rule.or[0].and[2].performed.within" })).toBe("clause 1 of or › clause 3 of and › performed › within:");
  expect(clauseName({ field: "rule_text", column: 8 })).toBe("at column 8:");
});

test("attributes are listed by dotted path", () => {
  expect(flatten({ plan: "pro", address: { city: "Lyon", geo: { lat: 1 } }, tags: ["a"], empty: {}, none: null }))
    .toEqual([["plan", "pro"], ["address.city", "Lyon"], ["address.geo.lat", 1], ["tags", ["a"]], ["empty", {}], ["none", null]]);
});
