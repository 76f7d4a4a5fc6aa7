import { describe, expect, it } from "vitest";
import { GradtrioError } from "./errors.ts";

describe("GradtrioError", () => {
  it("puts a caret under the position", () => {
    const e = new GradtrioError("PARSE", "unexpected ')'", { pos: 6, source: "sin(x))" });
    expect(e.format()).toBe("unexpected ')'\n  sin(x))\n        ^");
    expect(e.code).toBe("PARSE");
  });
  it("prints the bare message without a position", () => {
    expect(new GradtrioError("SHAPE", "bad shapes").format()).toBe("bad shapes");
  });
});
