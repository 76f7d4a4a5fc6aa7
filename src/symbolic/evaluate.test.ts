import { describe, expect, it } from "vitest";
import { parse } from "../expr/parse.ts";
import { toValues } from "../expr/point.ts";
import { compileFormula } from "./evaluate.ts";
import { fadd, ffn, fmul, fnum, forEvaluation, fsym } from "./formula.ts";
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
