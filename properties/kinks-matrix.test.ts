/**
 * Piecewise elementwise expressions at points full of breakpoints (0, ±1, coinciding arguments):
 * a Jacobian, and the Hessian of their sum, never contradict autograd — which is right by
 * construction (the built-in rules): on a kink the verdict is inconclusive with the one-sided
 * derivatives, on a smooth breakpoint it agrees or is inconclusive, never a conviction (exit 1).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { check } from "../src/check/check.ts";
import { outcome } from "../src/check/outcome.ts";
import { call, type Expr } from "../src/expr/ast.ts";
import { print } from "../src/expr/print.ts";
import { exprArbitrary } from "./arbitraries.ts";
import { runs } from "./runs.ts";

const ops = ["relu", "abs", "maximum", "minimum", "mul", "add", "sub", "sin", "exp"].map(
  (name) => ({ name, arity: ["maximum", "minimum", "mul", "add", "sub"].includes(name) ? 2 : 1 }),
);
const expr = exprArbitrary({
  variables: ["x", "y"],
  ops,
  numbers: fc.constantFrom(0, 1, 2, 0.5),
  constants: false,
  maxDepth: 3,
});
const element = fc.constantFrom(-1, -0.5, 0, 0, 0.5, 1);
const point = fc.record({
  x: fc.array(element, { minLength: 2, maxLength: 3 }),
  y: element,
});

describe("breakpoints in Jacobians and Hessians", () => {
  it("a correct autograd is never convicted, and kinks are found where they are", () => {
    let kinks = 0;
    fc.assert(
      fc.property(expr, point, (e, at) => {
        const cases: [Expr, 1 | 2][] = [
          [e, 1],
          [call("sum", [e]), 2],
        ];
        for (const [f, order] of cases) {
          const r = check(f, { at, order });
          // A kink is evidence: one-sided derivatives that differ, not a breakpoint alone.
          if (r.rule === "kink") {
            kinks++;
            expect(r.reason).toMatch(/left derivative \S+, right derivative \S+/);
          }
          expect(
            outcome(r),
            `${print(f)} at ${JSON.stringify(at)}, order ${order}: ${r.reason}`,
          ).not.toBe("fail");
        }
      }),
      { numRuns: runs(60) },
    );
    expect(kinks).toBeGreaterThan(0);
  });
});
