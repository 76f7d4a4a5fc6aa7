import { describe, expect, it } from "vitest";
import { applyForward } from "./ops.ts";

describe("applyForward", () => {
  it("calls with the array's elements as the arguments, whatever their number, and `this`", () => {
    const self = { k: 10 };
    function f(this: { k: number } | undefined, ...a: number[]): number {
      // A polynomial in the arguments: a wrong order or a missing argument changes it.
      return a.reduce((s, v, i) => s + v * (i + 1) ** 3, a.length * 1000) + (this?.k ?? 0);
    }
    for (let n = 0; n <= 6; n++) {
      const x = Float64Array.from({ length: n }, (_, i) => 0.5 + i);
      let want = n * 1000;
      for (let i = 0; i < n; i++) want += (0.5 + i) * (i + 1) ** 3;
      expect(applyForward(f, x)).toBe(want);
      expect(applyForward(f, x, self)).toBe(want + 10);
    }
  });
});
