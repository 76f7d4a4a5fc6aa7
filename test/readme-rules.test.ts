import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { check, INCONCLUSIVE_RULES } from "../src/check/check.ts";

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");

describe("README 'How the verdict is reached' and check's inconclusive rules", () => {
  it("lists INCONCLUSIVE_RULES one to one, in order", () => {
    const section = readme.slice(
      readme.indexOf("## How the verdict is reached"),
      readme.indexOf("## What the vote has found"),
    );
    const listed = [...section.matchAll(/^\d+\. \*\*([^*]+)\*\* — /gm)].map((m) => m[1]);
    expect(listed).toEqual([...INCONCLUSIVE_RULES]);
  });

  it("names the rule in the report", () => {
    expect(check("relu(x)", { at: { x: 0 } }).rule).toBe("kink");
    expect(check("log(x)", { at: { x: -1 } }).rule).toBe("not finite");
    expect(check("1/x", { at: { x: 0 } }).rule).toBe("not finite");
    expect(check("sigmoid(exp(x))", { at: { x: 710 } }).rule).toBe("overflow");
    expect(check("sin(x)", { at: { x: 1 } }).rule).toBeUndefined();
  });
});
