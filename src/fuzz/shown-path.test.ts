import { describe, expect, it } from "vitest";
import { shownPath } from "./shown-path.ts";

describe("shownPath", () => {
  it("is relative inside the working directory, absolute outside it", () => {
    expect(shownPath("/p/g1/ops/a.ts", "/p")).toBe("g1/ops/a.ts");
    expect(shownPath("g1/../ops/a.ts", "/p")).toBe("ops/a.ts");
    expect(shownPath("/q/a.ts", "/p")).toBe("/q/a.ts");
    expect(shownPath("../a.ts", "/p/g")).toBe("/p/a.ts");
    expect(shownPath("/p/..a/b.ts", "/p")).toBe("..a/b.ts");
  });
});
