/**
 * Cross-leg consistency, op by op: every elementwise built-in at points inside its domain and
 * off its breakpoints. Each op's forward is the one declared kernel; this checks that the other
 * things the legs say about the op agree with it and with each other:
 * - the complex kernel at a real point, and the CAS text read back and evaluated, give the
 *   declared value (a wrong kernel, or a wrong CAS text, disagrees here);
 * - the rounding rule's ∂/∂argₖ is autograd's backward (a wrong rule disagrees here);
 * - autograd's gradient is within the rounding bound of the complex-step derivative plus the
 *   complex step's own error estimate, and the symbolic leg gives the same derivative.
 */
import { describe, expect, it } from "vitest";
import { autogradLeg } from "../src/autograd/index.ts";
import { roundingRuleDerivative, roundingScale } from "../src/check/rounding.ts";
import { call, variable } from "../src/expr/ast.ts";
import { BUILTIN_OPS, type ElementwiseOp, realKernel } from "../src/expr/ops.ts";
import { parse } from "../src/expr/parse.ts";
import { toValues } from "../src/expr/point.ts";
import { compileComplex } from "../src/numeric/complex.ts";
import { numericLeg } from "../src/numeric/leg.ts";
import { evaluateAt } from "../src/symbolic/evaluate.ts";
import { fconst, fnum, fsym } from "../src/symbolic/formula.ts";
import { symbolicLeg } from "../src/symbolic/leg.ts";
import { readCas } from "../src/symbolic/read-cas.ts";

const NAMES = ["a", "b", "c"];

/** Points per op: inside the domain, off every breakpoint, away from overflow. */
const POINTS: Record<ElementwiseOp, number[][]> = {
  add: [
    [0.3, -1.7],
    [2.5, 4],
  ],
  sub: [
    [0.3, -1.7],
    [2.5, 4],
  ],
  mul: [
    [0.3, -1.7],
    [2.5, 4],
  ],
  div: [
    [0.3, -1.7],
    [2.5, 4],
  ],
  pow: [
    [0.3, 1.7],
    [2.5, -0.5],
  ],
  neg: [[0.3], [-2.1]],
  sin: [[0.3], [-2.1], [4]],
  cos: [[0.3], [-2.1], [4]],
  tan: [[0.3], [-1.1], [2]],
  exp: [[0.3], [-2.1], [4]],
  log: [[0.3], [2.1], [40]],
  sqrt: [[0.3], [2.1], [40]],
  tanh: [[0.3], [-2.1], [1.5]],
  sigmoid: [[0.3], [-2.1], [4]],
  relu: [[0.3], [-2.1]],
  abs: [[0.3], [-2.1]],
  log1p: [[0.3], [-0.9], [40]],
  softplus: [[0.3], [-2.1], [4]],
  clamp: [
    [0.3, -1, 1],
    [-2, -1, 1],
    [2, -1, 1],
  ],
  bce: [
    [0.3, 1],
    [0.8, 0.25],
  ],
  erf: [[0.3], [-1.2], [2.5]],
  gelu: [[0.3], [-1.2], [2.5]],
  asin: [[0.3], [-0.8]],
  acos: [[0.3], [-0.8]],
  atan: [[0.3], [-2.1], [7]],
  sinh: [[0.3], [-2.1], [4]],
  cosh: [[0.3], [-2.1], [4]],
  // −30: the backward is e^x, not expm1(x) + 1 (which cancels to a few digits there)
  expm1: [[0.3], [-2.1], [1e-5], [-30]],
  maximum: [
    [0.3, -1.7],
    [2.5, 4],
  ],
  minimum: [
    [0.3, -1.7],
    [2.5, 4],
  ],
};

const near = (got: number, want: number, rel: number): boolean =>
  Math.abs(got - want) <= rel * Math.max(1, Math.abs(want));

function pointOf(args: readonly number[]) {
  return toValues(Object.fromEntries(args.map((v, i) => [NAMES[i]!, v])));
}

function exprOf(op: string, arity: number) {
  return call(
    op,
    NAMES.slice(0, arity).map((n) => variable(n)),
  );
}

/** The op's CAS text (or the active branch's), read back by the symbolic leg's reader. */
function casValue(op: ElementwiseOp, args: readonly number[]): number | undefined {
  const spec = BUILTIN_OPS[op];
  const [u, v, w] = ["u", "v", "w"];
  const k = new Map<string, number>();
  const num = (x: number): string => {
    const name = `k${k.size}`;
    k.set(name, x);
    return name;
  };
  let text: string;
  if ("branches" in spec) {
    const at = spec.branches.at(args[0]!, args[1] ?? 0, args[2] ?? 0);
    text = spec.branches.cas[at]!(u, v, w);
  } else if (spec.cas !== null) text = spec.cas(u, v, num);
  else return undefined; // pow and sqrt: the writer spells them (covered by the legs' tests)
  const env = new Map<string, number>([
    ["u", args[0]!],
    ["v", args[1] ?? 0],
    ["w", args[2] ?? 0],
    ...k,
  ]);
  // ce, cpi, cm: the writer's symbols for e, pi and the -1 of a negation.
  const f = readCas(text, (n) =>
    n === "ce"
      ? fconst("e")
      : n === "cpi"
        ? fconst("pi")
        : n === "cm"
          ? fnum(-1)
          : env.has(n)
            ? fsym(n)
            : undefined,
  );
  return evaluateAt(f, (n) => env.get(n)!);
}

const ops = Object.keys(POINTS) as ElementwiseOp[];

describe.each(ops)("%s: the legs agree with its declaration", (op) => {
  const arity = BUILTIN_OPS[op].arity;
  const expr = exprOf(op, arity);

  it("forward: the complex kernel at a real point and the CAS text give the declared value", () => {
    for (const args of POINTS[op]) {
      const want = realKernel(op)(args[0]!, args[1] ?? 0, args[2] ?? 0);
      const layout = new Map(NAMES.slice(0, arity).map((n, i) => [n, { offset: i, shape: [] }]));
      const program = compileComplex(expr, layout);
      program.run(Float64Array.from(args), new Float64Array(arity));
      expect(near(program.output.re[0]!, want, 4e-16), `complex ${op}(${args})`).toBe(true);
      const cas = casValue(op, args);
      if (cas !== undefined) expect(near(cas, want, 1e-15), `CAS text ${op}(${args})`).toBe(true);
      const ag = autogradLeg(expr, pointOf(args));
      expect(ag.value, `autograd forward ${op}(${args})`).toBe(want);
    }
  });

  it("the rounding rule's derivative is autograd's backward", () => {
    for (const args of POINTS[op]) {
      const ag = autogradLeg(expr, pointOf(args));
      for (let k = 0; k < arity; k++) {
        const want = ag.gradients.get(NAMES[k]!)![0]!;
        const got = roundingRuleDerivative(op, k, args);
        expect(near(got, want, 1e-12), `∂${op}/∂arg${k} at (${args}): ${got} vs ${want}`).toBe(
          true,
        );
      }
    }
  });

  it("autograd is within its rounding bound of the complex step; the symbolic leg agrees", () => {
    for (const args of POINTS[op]) {
      const values = pointOf(args);
      const ag = autogradLeg(expr, values);
      const nu = numericLeg(expr, values, { method: "complex" });
      const bound = roundingScale(expr, values);
      const sym = symbolicLeg(expr, values);
      expect(sym.status, `symbolic ${op}(${args})`).toBe("ok");
      for (let k = 0; k < arity; k++) {
        const name = NAMES[k]!;
        const a = ag.gradients.get(name)![0]!;
        const n = nu.gradients!.get(name)![0]!;
        const tol = bound!.get(name)![0]! + nu.errors!.get(name)![0]!;
        expect(
          Math.abs(a - n),
          `${op}(${args}) ∂/∂${name}: ${a} vs ${n} ± ${tol}`,
        ).toBeLessThanOrEqual(tol);
        if (sym.status === "ok") {
          const s = sym.gradients.get(name)![0]!;
          expect(near(s, a, 1e-13), `symbolic ${s} vs autograd ${a}`).toBe(true);
        }
      }
    }
  });
});

describe("reductions and softmax: autograd within its rounding bound of the complex step", () => {
  const cases: [string, Record<string, number[]>][] = [
    ["max(x*w)", { x: [0.3, -1.2, 2.5], w: [1.5, 0.2, -0.7] }],
    ["min(x*w)", { x: [0.3, -1.2, 2.5], w: [1.5, 0.2, -0.7] }],
    ["logsumexp(x*w)", { x: [0.3, -1.2, 2.5], w: [1.5, 0.2, -0.7] }],
    ["sum(softmax(x)*w)", { x: [0.3, -1.2, 2.5], w: [1.5, 0.2, -0.7] }],
    ["sum(sum(x)*w)", { x: [0.3, -1.2, 2.5], w: [1.5, 0.2, -0.7] }],
    ["mean(x*w)", { x: [0.3, -1.2, 2.5], w: [1.5, 0.2, -0.7] }],
  ];
  it.each(cases)("%s", (text, at) => {
    const expr = parse(text);
    const values = toValues(at);
    const ag = autogradLeg(expr, values);
    const nu = numericLeg(expr, values, { method: "complex" });
    const bound = roundingScale(expr, values)!;
    for (const name of Object.keys(at)) {
      const a = ag.gradients.get(name)!;
      const n = nu.gradients!.get(name)!;
      for (let i = 0; i < a.length; i++) {
        const tol = bound.get(name)![i]! + nu.errors!.get(name)![i]!;
        expect(bound.get(name)![i]!, `${text} bound`).toBeGreaterThan(0);
        expect(Math.abs(a[i]! - n[i]!), `${text} ∂/∂${name}[${i}]`).toBeLessThanOrEqual(tol);
      }
    }
  });
});
