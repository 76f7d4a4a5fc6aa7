import { describe, expect, it } from "vitest";
import { parse } from "../expr/parse.ts";
import { cachedComplex, cachedForward, compiledAfresh } from "./programs.ts";

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

  it("compiles afresh, caching nothing, for an expression used once (a fuzz case)", () => {
    const fresh = parse("cos(x)*y");
    const [a, b, c] = compiledAfresh(() => [
      cachedForward(fresh, layout),
      cachedForward(fresh, layout),
      cachedComplex(fresh, layout),
    ]);
    expect(a).not.toBe(b);
    expect(c).not.toBe(compiledAfresh(() => cachedComplex(fresh, layout)));
    expect(a(x)).toBe(b(x));
    expect(a(x)).toBeCloseTo(Math.cos(0.3) * 2, 15);
    // Nothing was left in the cache: the first cached compile outside is a new one, then kept.
    const d = cachedForward(fresh, layout);
    expect(d).not.toBe(a);
    expect(cachedForward(fresh, layout)).toBe(d);
  });
});
