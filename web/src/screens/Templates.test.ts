import { describe, expect, it } from "vitest";
import { contentOf, parseData } from "./Templates";

describe("template content", () => {
  it("keeps only the channel's fields, empty ones left out", () => {
    const d = { name: "t", channel: "sms" as const, subject: "s", html: "<p>", text: "", body: "Hi {{ customer.first_name }}", title: "", data: "" };
    expect(contentOf(d)).toEqual({ body: "Hi {{ customer.first_name }}" });
    expect(contentOf({ ...d, channel: "email" })).toEqual({ subject: "s", html: "<p>" });
  });
  it("reads push data as key=value lines", () => {
    expect(parseData("deep_link=app://x?a=b\n\n  badge = 1\nflag")).toEqual({ deep_link: "app://x?a=b", badge: " 1", flag: "" });
    const d = { name: "t", channel: "push" as const, subject: "", html: "", text: "", body: "b", title: "T", data: "k=v" };
    expect(contentOf(d)).toEqual({ title: "T", body: "b", data: { k: "v" } });
  });
});
