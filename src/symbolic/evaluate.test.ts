import { describe, expect, it } from "vitest";
import { parse } from "../expr/parse.ts";
import { toValues } from "../expr/point.ts";
import {
  compileFormula,
  compileFormulasWithError,
  compileOverflowCheck,
  formulaValues,
} from "./evaluate.ts";
import { type Formula, fadd, ffn, fmul, fnum, forEvaluation, fpow, fsym } from "./formula.ts";
import { symbolicLeg } from "./leg.ts";
import { toPlain } from "./print.ts";

const gradient = (src: string, at: Record<string, number>, name: string): number => {
  const r = symbolicLeg(parse(src), toValues(at));
  if (r.status !== "ok") throw new Error(r.reason);
  return r.gradients.get(name)![0]!;
};

describe("formulas are evaluated in their accurate form", () => {
  it("reads log(1+u) as log1p(u) and exp(u)-1 as expm1(u), for evaluation only", () => {
    const x = fsym("x");
    expect(toPlain(forEvaluation(ffn("log", fadd(x, fnum(1)))))).toBe("log1p(x)");
    expect(toPlain(forEvaluation(ffn("log", fadd(fnum(1), fmul(fnum(-1), x)))))).toBe("log1p(-x)");
    expect(toPlain(forEvaluation(fadd(ffn("exp", x), fnum(-1))))).toBe("expm1(x)");
    expect(toPlain(forEvaluation(ffn("log", fadd(x, fnum(2)))))).toBe("log(x+2)");
    // log(1+x) at x = 1e-20: 1+x rounds to 1, log1p keeps x.
    const run = compileFormula(ffn("log", fadd(x, fnum(1))), ["x"]);
    expect(run([1e-20])).toBe(1e-20);
    // Evaluated once, without compiling: the same accurate form, shared subformulas once.
    const shared = fadd(x, fnum(1));
    const fs = [ffn("log", shared), fmul(shared, shared), fpow(x, fnum(-2))];
    expect(fs.map(formulaValues(() => 1e-20))).toEqual([1e-20, 1, 1e40]);
  });

  it("differentiates cos(log1p(x)) at x = 1.6e-131: -sin(log1p x)/(1+x) = -x to 1e-131", () => {
    const x = 1.5657766208095088e-131;
    expect(gradient("cos(log1p(x))", { x }, "x")).toBe(-x);
    // The formula people read stays the textbook one.
    const r = symbolicLeg(parse("cos(log1p(x))"), toValues({ x }));
    expect(r.status === "ok" && r.formulas.get("x")).toBe("-sin(log(x+1))/(x+1)");
  });

  it("differentiates log(log1p(y)) at y ≈ 1e-11 to full precision", () => {
    const y = 9.821554046331842e-12;
    // 1/((1+y)·log1p(y)) = (1/y)·(1 - y/2 + 5y²/12 - …): 1/y - 1/2 to a relative 1e-22.
    const want = 1 / y - 0.5;
    const got = gradient("log(log1p(y))", { y }, "y");
    expect(Math.abs(got - want)).toBeLessThanOrEqual(4e-16 * want);
  });
});

/** A finite double as an exact rational p / 2^k. */
function exact(v: number): { p: bigint; k: number } {
  let k = 0;
  while (!Number.isInteger(v)) {
    v *= 2; // exact: a finite double has at most 1074 fractional bits
    k++;
  }
  return { p: BigInt(v), k };
}

/** |a − p/2^k| as a double, computed exactly before the one final rounding. */
function distance(a: number, p: bigint, k: number): number {
  const x = exact(a);
  const s = Math.max(x.k, k);
  let d = x.p * 2n ** BigInt(s - x.k) - p * 2n ** BigInt(s - k);
  if (d < 0n) d = -d;
  return Number(d) / 2 ** s;
}

describe("compileFormulasWithError: a running error bound beside each value", () => {
  const x = fsym("x");
  const run1 = (f: Formula, at: number) => {
    const v = new Float64Array(1);
    const e = new Float64Array(1);
    compileFormulasWithError([f], ["x"])([at], [0], v, e);
    return { value: v[0]!, bound: e[0]! };
  };

  it("covers the true error of a formula that cancels: x*(x-1)-x+1 = (1-x)² at x = 0.995", () => {
    const at = 0.995;
    const f = fadd(fmul(x, fadd(x, fnum(-1))), fmul(fnum(-1), x), fnum(1));
    const { value, bound } = run1(f, at);
    // The exact value at the double 0.995 = m/2^k is (2^k - m)²/2^(2k).
    const { p: m, k } = exact(at);
    const d = 2n ** BigInt(k) - m;
    const err = distance(value, d * d, 2 * k);
    expect(err).toBeGreaterThan(0); // the float64 evaluation really loses digits here
    expect(bound).toBeGreaterThanOrEqual(err);
    // … and the bound is of the size the terms (≈ 1) make it, not of the result (≈ 2.5e-5).
    expect(bound).toBeLessThan(10 * Number.EPSILON);
    expect(bound).toBeGreaterThan(Number.EPSILON * 2.5e-5 * 100);
  });

  it("is a few ulps for a benign formula: 2*x*cos(x^2) at x = 3", () => {
    const f = fmul(fnum(2), x, ffn("cos", fpow(x, fnum(2))));
    const { value, bound } = run1(f, 3);
    expect(value).toBe(6 * Math.cos(9));
    // |d/du 6 cos(u)|·err(x²) + the products' and cos's roundings: within 8 ulps of the value.
    expect(bound).toBeGreaterThan(Number.EPSILON * Math.abs(value));
    expect(bound).toBeLessThan(8 * Number.EPSILON * Math.abs(value));
  });

  it("propagates an input's error by |f'|: log(x) at x = 2 with err 1e-10 gives ≈ 5e-11", () => {
    const v = new Float64Array(1);
    const e = new Float64Array(1);
    compileFormulasWithError([ffn("log", x)], ["x"])([2], [1e-10], v, e);
    expect(e[0]!).toBeGreaterThanOrEqual(5e-11);
    expect(e[0]!).toBeLessThan(5e-11 + 4 * Number.EPSILON);
  });
});

describe("compileOverflowCheck", () => {
  it("flags a formula whose value descends from ±Infinity made of finite, non-zero operands", () => {
    const x = fsym("x");
    const check = compileOverflowCheck(
      [
        fmul(ffn("exp", x), fnum(0)), // exp(800)·0 = ∞·0
        fmul(x, fsym("y"), fsym("z")), // 800·1e306·0: the product overflows before the 0
        fpow(x, fnum(-1)), // 1/800: finite
        ffn("sqrt", fmul(fnum(-1), x)), // sqrt(-800): NaN, no overflow
      ],
      ["x", "y", "z"],
    );
    expect(check([800, 1e306, 0])).toEqual([true, true, false, false]);
  });
  it("a division by zero or log(0) is not an overflow", () => {
    const x = fsym("x");
    const check = compileOverflowCheck([fpow(x, fnum(-1)), ffn("log", x)], ["x"]);
    expect(check([0])).toEqual([false, false]);
  });
});
