import { describe, expect, it } from "vitest";
import { usedOnce } from "../expr/memo.ts";
import { parse } from "../expr/parse.ts";
import { cachedComplex, cachedForward } from "./programs.ts";

describe("compiled programs, cached per expression", () => {
  const expr = parse("sin(x)*y + x^2");
  const layout = new Map([
    ["x", { offset: 0, shape: [] }],
    ["y", { offset: 1, shape: [] }],
  ]);
  const x = new Float64Array([0.3, 2]);
  const value = Math.sin(0.3) * 2 + 0.3 ** 2;

  it("compiles an expression once per input layout", () => {
    const f = cachedForward(expr, layout);
    expect(cachedForward(expr, layout)).toBe(f);
    expect(cachedComplex(expr, layout)).toBe(cachedComplex(expr, layout));
    expect(f(x)).toBeCloseTo(value, 15);
  });

  it("inside usedOnce (a fuzz case), compiles once for the scope and keeps nothing after it", () => {
    const fresh = parse("cos(x)*y");
    const [a, b, c, d] = usedOnce(() => [
      cachedForward(fresh, layout),
      cachedForward(fresh, layout),
      cachedComplex(fresh, layout),
      cachedComplex(fresh, layout),
    ]);
    expect(b).toBe(a);
    expect(d).toBe(c);
    expect(a(x)).toBeCloseTo(Math.cos(0.3) * 2, 15);
    // Another scope compiles anew; nothing reached the lasting cache either.
    expect(usedOnce(() => cachedForward(fresh, layout))).not.toBe(a);
    const e = cachedForward(fresh, layout);
    expect(e).not.toBe(a);
    expect(cachedForward(fresh, layout)).toBe(e);
  });
});
