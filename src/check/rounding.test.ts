import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { exprArbitrary } from "../../properties/arbitraries.ts";
import { runs } from "../../properties/runs.ts";
import { softmaxOk } from "../../test/fixtures/ops/tensor/softmax.ok.ts";
import { recomputingSigmoid } from "../../test/fixtures/recomputing-sigmoid.ts";
import "../../test/fixtures/ops/tensor/softmax.bug.ts";
import { defineOp } from "../autograd/define-op.ts";
import { call, type Expr, num, variable } from "../expr/ast.ts";
import { BUILTIN_OPS } from "../expr/ops.ts";
import { parse } from "../expr/parse.ts";
import { toValues } from "../expr/point.ts";
import { check } from "./check.ts";
import { outcome } from "./outcome.ts";
import { roundingAnalysis, roundingScale } from "./rounding.ts";

const x = variable("x");
const sq = (e: Expr) => call("pow", [e, num(2)]);

describe("roundingScale", () => {
  it("covers the cancellation in the gradient of sin(x)^2 + cos(x)^2", () => {
    const e = call("add", [sq(call("sin", [x])), sq(call("cos", [x]))]);
    let covered = 0;
    for (const x0 of [0.3, 1.1, 2.5, -4]) {
      const s = roundingScale(e, toValues({ x: x0 }))!.get("x")![0]!;
      // Hand: the two terms are ±2·sin·cos, which is sin(2x). How far the float64 term lies from
      // the independently computed sin(2x) is rounding one term alone may carry: the bound on
      // their difference must cover it.
      const term = Math.abs(2 * Math.sin(x0) * Math.cos(x0));
      const computed = Math.abs(2 * Math.sin(x0) * Math.cos(x0) - Math.sin(2 * x0));
      if (computed > 0) covered++;
      expect(s).toBeGreaterThanOrEqual(computed);
      expect(s).toBeGreaterThan(term * Number.EPSILON);
      expect(s).toBeLessThan(term * 64 * Number.EPSILON);
    }
    expect(covered).toBeGreaterThan(0); // 0.3 and 2.5: 1.1e-16
  });

  it("stays a few ulps of the gradient where nothing cancels", () => {
    const e = call("sin", [sq(x)]);
    const g = Math.abs(2 * 3 * Math.cos(9));
    const s = roundingScale(e, toValues({ x: 3 }))!.get("x")![0]!;
    expect(s).toBeGreaterThan(g * Number.EPSILON);
    expect(s).toBeLessThan(g * 64 * Number.EPSILON);
  });

  it("widens where an intermediate lost relative precision (1 - p with p near 1)", () => {
    // d/dz of -log(1 - sigmoid(z)) = sigmoid(z); 1 - p has relative error ~eps/(1-p).
    const z = variable("z");
    const e = call("neg", [call("log", [call("sub", [num(1), call("sigmoid", [z])])])]);
    const s = roundingScale(e, toValues({ z: 30 }))!.get("z")![0]!;
    expect(s).toBeGreaterThan(1e-6); // 1-p ≈ 9e-14: the computed gradient is only good to ~1e-3
  });

  it("gives each vector element its own bound and sums a variable's uses", () => {
    const e = call("mean", [call("mul", [x, x])]);
    const s = roundingScale(e, toValues({ x: [1, -2, 1e6] }))!.get("x")!;
    expect(s.length).toBe(3);
    expect(s[2]! / s[0]!).toBeGreaterThan(1e5);
  });

  it("with `only`, gives exactly the full bounds at the requested elements and NaN elsewhere", () => {
    const cases: [string, Record<string, number | number[] | number[][]>][] = [
      [
        "mean(bce(sigmoid(w*x+b), y))",
        { w: 0.5, b: -0.2, x: [0.4, 1, -1.5, 2], y: [1, 0, 0.3, 1] },
      ],
      [
        "sum(matmul(A, x) * y)",
        {
          A: [
            [1, 2, 3],
            [-1, 0.5, 2],
          ],
          x: [0.3, -1, 2],
          y: 0.7,
        },
      ],
      [
        "sum(sin(A) * x) + mean(x*x)",
        {
          A: [
            [1, 2, 3],
            [-1, 0.5, 2],
          ],
          x: [0.3, -1, 2],
        },
      ],
    ];
    for (const [text, at] of cases) {
      const values = toValues(at);
      const full = roundingScale(parse(text), values)!;
      const only = new Map<string, number[]>();
      for (const [name, v] of values)
        only.set(name, v.data.length > 1 ? [1, v.data.length - 1] : [0]);
      const part = roundingScale(parse(text), values, only)!;
      for (const [name, ks] of only) {
        const p = part.get(name)!;
        for (let k = 0; k < p.length; k++)
          if (ks.includes(k)) expect(p[k]).toBe(full.get(name)![k]);
          else expect(p[k]).toBeNaN();
      }
    }
  });
});

describe("roundingAnalysis with `only` over elementwise built-ins", () => {
  // Errors computed on demand there (errorsWhereRead): only those the requested bounds read.
  const elementwise = Object.entries(BUILTIN_OPS)
    .filter(([, spec]) => spec.kind === "elementwise")
    .map(([name, spec]) => ({ name, arity: spec.arity }));
  const body = exprArbitrary({
    variables: ["x", "y", "w"],
    ops: elementwise,
    numbers: fc.constantFrom(0.5, 2, 3),
    maxDepth: 4,
  });
  // A scalar root: a sum or a mean, or an elementwise op of scalars (w and numbers only).
  const subject = fc
    .tuple(body, fc.constantFrom(null, "sum", "sum", "mean", "mean"))
    .map(([e, root]) => (root === null ? e : call(root, [e])));
  const vec = fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: 5, maxLength: 5 });
  const point = fc.record({ x: vec, y: vec, w: fc.double({ min: -3, max: 3, noNaN: true }) });
  // Which elements of each variable to bound: a few, or none.
  const some = fc.uniqueArray(fc.integer({ min: 0, max: 4 }), { maxLength: 3 });
  const none = fc.constant<number[]>([]);
  // Often one variable alone: then whole subexpressions depend on no requested element.
  const picks = fc.oneof(
    fc.record({ x: some, y: some, w: fc.constantFrom<number[]>([], [0]) }),
    fc.record({ x: some, y: none, w: none }),
    fc.record({ x: none, y: some, w: none }),
  );

  it("computes the errors of intermediates no requested element depends on, where they are read", () => {
    // sin(cos(y)) does not depend on x; mul reads its error at x's elements, and that error
    // reads cos's.
    const e = parse("sum(sin(cos(y)) * x + exp(sin(y)) * w)");
    const values = toValues({ x: [0.3, -1.2, 2], y: [1.1, 0.4, -2], w: 0.7 });
    const whole = roundingAnalysis(e, values);
    for (const only of [new Map([["x", [1]]]), new Map([["w", [0]]])]) {
      const part = roundingAnalysis(e, values, only);
      for (const [name, [k]] of only) {
        expect(part.bounds!.get(name)![k!]).toBe(whole.bounds!.get(name)![k!]);
        expect(part.bounds!.get(name)![k!]).toBeGreaterThan(0);
      }
    }
  });

  it("gives what the whole pass gives at the requested elements: bounds, magnitudes, findings", () => {
    let compared = 0;
    fc.assert(
      fc.property(subject, point, picks, fc.boolean(), (e, at, pick, shared) => {
        const values = toValues(at);
        const only = new Map(Object.entries(pick).filter(([, ks]) => ks.length > 0));
        const whole = roundingAnalysis(e, values, undefined, { shared });
        const part = roundingAnalysis(e, values, only, { shared });
        expect(part.extreme).toBe(whole.extreme);
        expect(part.outsideDomain).toBe(whole.outsideDomain);
        if (whole.bounds === null || part.bounds === null) {
          expect(part.bounds === null).toBe(whole.bounds === null);
          return;
        }
        for (const [name, ks] of only)
          for (const k of ks) {
            expect(part.bounds.get(name)![k]).toBe(whole.bounds.get(name)![k]);
            // A variable the expression does not use has no magnitudes.
            expect(part.magnitudes!.get(name)?.[k]).toBe(whole.magnitudes!.get(name)?.[k]);
            compared++;
          }
      }),
      { numRuns: runs(300) },
    );
    // Most random expressions are finite at the point: the comparison was made.
    expect(compared).toBeGreaterThan(runs(300));
  });
});

describe("expm1's rule", () => {
  it("has no cancellation where out ≈ −1: autograd's backward is e^x, not grad·(out + 1) (a trust-bench false alarm)", () => {
    // expm1(tan(y)) at tan(y) ≈ −11.4: out + 1 ≈ 1.1e-5 would carry eps·|out| of absolute error.
    const y = 1.6560277007520199;
    const t = Math.tan(y);
    const r = check("expm1(tan(y))", { at: { x: 1.4637696649879217, y } });
    expect(outcome(r)).toBe("pass");
    // Hand: d/dy expm1(tan y) = (1 + tan² y)·e^(tan y), to 1e-12 of itself.
    const exact = (1 + t * t) * Math.exp(t);
    expect(Math.abs((r.gradients.y!.autograd as number) - exact)).toBeLessThan(1e-12 * exact);
  });
});

describe("a custom op's backward that reads its output", () => {
  // softmax at x = [-30, 0.5, 20]: y₂ = 1 − 3.4e-9, and ∂y₂/∂x₂ = y₂(1 − y₂) forms 1 − y₂, which
  // an ulp of y₂ (1.1e-16) moves by 3e-8 of itself. Hand, without cancellation (the max, 20,
  // subtracted): ∂y₂/∂x₂ = y₂·(y₀ + y₁) = (e^−50 + e^−19.5)/S², S = 1 + e^−19.5 + e^−50.
  const at = { x: [-30, 0.5, 20] };
  const S = 1 + Math.exp(-19.5) + Math.exp(-50);
  const truth = (Math.exp(-50) + Math.exp(-19.5)) / (S * S);
  const softmaxLike = (name: string, backward: (y: Float64Array, g: Float64Array) => number[]) =>
    defineOp({
      name,
      arity: 1,
      shape: (s) => s,
      forward: softmaxOk.definition.forward,
      backward: ({ out: y, grad: g }) => [backward(y, g)],
      formula: (v) => `exp(${v})/sum(exp(${v}))`,
    });
  const dot = (y: Float64Array, g: Float64Array) => y.reduce((a, yi, i) => a + yi * g[i]!, 0);
  softmaxLike("allowSmNoDot", (y, g) => Array.from(y, (yi, i) => yi * g[i]!));
  softmaxLike("allowSmRel6", (y, g) =>
    Array.from(y, (yi, i) => (1 + 1e-6) * yi * (g[i]! - dot(y, g))),
  );

  it("a tensor op: softmax's y·(g − Σg·y) at y₂ ≈ 1 is within rounding, as the built-in's is (a false alarm)", () => {
    const r = check("softmaxOk(x)", { at });
    expect(outcome(r)).toBe("pass");
    expect(r.verdict).toBe("agree");
    expect(check("softmax(x)", { at }).verdict).toBe("agree");
    // Autograd is right to the rounding of 1 − y₂ (a real cancellation: 2e-8 of the entry).
    const j22 = r.jacobian!.autograd![2]![2]!;
    expect(Math.abs(j22 - truth)).toBeLessThan(2e-16);
    expect(Math.abs(j22 - truth)).toBeGreaterThan(1e-8 * truth);
  });

  it("its bound covers that rounding and stays a few ulps of the terms (size 1) it cancels from", () => {
    const seeded = call("sum", [call("mul", [parse("softmaxOk(x)"), variable("s")])]);
    const a = roundingAnalysis(seeded, toValues({ ...at, s: [0, 0, 1] }));
    const bound = a.bounds!.get("x")![2]!;
    const j22 = check("softmaxOk(x)", { at }).jacobian!.autograd![2]![2]!;
    expect(bound).toBeGreaterThanOrEqual(Math.abs(j22 - truth));
    expect(bound).toBeLessThan(16 * Number.EPSILON);
    expect(a.magnitudes!.get("x")![2]).toBeCloseTo(1, 6);
  });

  it("still catches wrong softmax backwards there, as a Jacobian and through a sum", () => {
    for (const op of ["allowSmNoDot", "allowSmRel6", "softmaxBug"]) {
      expect([op, outcome(check(`${op}(x)`, { at }))]).toEqual([op, "fail"]);
      const r = check(`sum(${op}(x)*w)`, { at: { ...at, w: [1, -2, 0.5] } });
      expect([op, outcome(r)]).toEqual([op, "fail"]);
    }
  });

  it("a scalar op: out·(1 − out) at out ≈ 1 is within rounding; off by 1e-6 it is caught", () => {
    const sigmoidLike = (name: string, f: number) =>
      defineOp({
        name,
        arity: 1,
        forward: (v) => 1 / (1 + Math.exp(-v)),
        backward: ({ out, grad }) => [grad * out * (1 - out) * f],
        formula: (v) => `1/(1+exp(-(${v})))`,
      });
    sigmoidLike("allowSig", 1);
    sigmoidLike("allowSigRel6", 1 + 1e-6);
    for (const x of [-30, 0.3, 5, 15, 20, 30])
      expect([x, outcome(check("allowSig(x)", { at: { x } }))]).toEqual([x, "pass"]);
    for (const x of [-30, 0.3, 5, 15])
      expect([x, outcome(check("allowSigRel6(x)", { at: { x } }))]).toEqual([x, "fail"]);
  });
});

describe("a custom op's backward that recomputes its forward", () => {
  // s = σ(x) computed again inside the backward, then s·(1 − s): 1 − s carries s's rounding, which
  // x moved by a few ulps does not show (s does not change). Hand: at x = 15 the rule's value is
  // 2.2e-10 off σ'(15) relative, at 20 3.6e-8: within what its values around x jump by.
  recomputingSigmoid("noiseSig", 1);
  recomputingSigmoid("noiseSigRel6", 1 + 1e-6);
  recomputingSigmoid("noiseSigRel9", 1 + 1e-9);

  it("agrees where its rounding is what differs (exit 0), and is no alarm where it swamps the value", () => {
    for (const x of [-30, -15, 0.3, 5, 12, 15, 18, 20])
      expect([x, outcome(check("noiseSig(x)", { at: { x } }))]).toEqual([x, "pass"]);
    // 1 − s of a few ulps: float64 cannot resolve the rule's value (ill-conditioned, exit 3).
    for (const x of [23, 25, 30]) {
      const r = check("noiseSig(x)", { at: { x } });
      expect([x, r.verdict]).toEqual([x, "inconclusive"]);
    }
    // Past x ≈ 32 the window, at most 1e-4 of x, no longer moves s (σ is flat): 1 − s is 1%
    // off at 34, and 0 from 37 on (σ'(37) = 8.5e-17). Ill-conditioned too, by the flat op.
    for (const x of [34, 37, 40, 45]) {
      const r = check("noiseSig(x)", { at: { x } });
      expect([x, r.verdict, r.reason?.slice(0, 56)]).toEqual([
        x,
        "inconclusive",
        "ill-conditioned point: custom op 'noiseSig' is flat at n",
      ]);
    }
  });

  it("the flat reason names the first failing element and its bound with the cap counted", () => {
    // At x = 37 σ rounds to 1 and the rule gives 0: its window's cap, counted twice, is
    // 2·16·eps·(|σ| + |0|·(1 + 37)) = 32·eps = 7.1e-15 on ∂/∂x (an outer gradient of 1).
    const r = check("noiseSig(x)", { at: { x: 37 } });
    expect(r.reason).toContain("flat at noiseSig(37), where");
    expect(r.reason).toContain(`±${(32 * Number.EPSILON).toExponential(1)} at x:`);
  });

  it("where σ is flat, an exact rule still agrees, and one 10× off is still caught", () => {
    // exp(−x)/(1 + exp(−x))² keeps its precision in the tail: agreement is evidence there.
    const sigmoidWith = (name: string, f: number) =>
      defineOp({
        name,
        arity: 1,
        forward: (v) => 1 / (1 + Math.exp(-v)),
        backward: ({ args: [v], grad }) => [(grad * f * Math.exp(-v!)) / (1 + Math.exp(-v!)) ** 2],
        formula: (v) => `1/(1+exp(-(${v})))`,
      });
    sigmoidWith("flatExact", 1);
    sigmoidWith("flatTen", 10);
    for (const x of [34, 37, 40])
      expect([x, outcome(check("flatExact(x)", { at: { x } }))]).toEqual([x, "pass"]);
    // At 34 the difference (1.5e-14) exceeds what a flat op's rounding may be (7.1e-15).
    expect(outcome(check("flatTen(x)", { at: { x: 34 } }))).toBe("fail");
  });

  it("an op flat along one argument: the partial that shows nothing over any window", () => {
    // σ(a) + b: b's window moves the value, but not s(1 − s); ∂/∂b = 1 off by 1e-6 is still caught.
    const sigmoidPlus = (name: string, fb: number) =>
      defineOp({
        name,
        arity: 2,
        forward: (u, v) => 1 / (1 + Math.exp(-u)) + v,
        backward: ({ args: [u], grad }) => {
          const s = 1 / (1 + Math.exp(-u!));
          return [grad * s * (1 - s), grad * fb];
        },
        formula: (u, v) => `1/(1+exp(-(${u})))+(${v})`,
      });
    sigmoidPlus("flatAlongA", 1);
    sigmoidPlus("flatAlongAWrongB", 1 + 1e-6);
    for (const x of [34, 37]) {
      const r = check("flatAlongA(x, y)", { at: { x, y: 0.5 } });
      expect([x, r.verdict, r.reason?.slice(0, 60)]).toEqual([
        x,
        "inconclusive",
        "ill-conditioned point: custom op 'flatAlongA' is flat at fla",
      ]);
      expect(outcome(check("flatAlongAWrongB(x, y)", { at: { x, y: 0.5 } }))).toBe("fail");
    }
  });

  it("a partial constant over a wide window too is no stuck one: its fault is caught", () => {
    // x + 1e-12·y is flat along y, and its ∂/∂y = 1e-12 stays over every window: a constant,
    // not a rule stuck on a rounded forward. 1% off, or 0 (x + 1e13: a term missing), exits 1.
    defineOp({
      name: "linTinyWrong",
      arity: 2,
      forward: (u, v) => u + 1e-12 * v,
      backward: ({ grad }) => [grad, grad * 1.01e-12],
      formula: (u, v) => `(${u}) + 1e-12*(${v})`,
    });
    defineOp({
      name: "shiftNoGrad",
      arity: 1,
      forward: (u) => u + 1e13,
      backward: () => [0],
      formula: (u) => `(${u}) + 1e13`,
    });
    defineOp({
      name: "linTinyTensor",
      arity: 1,
      shape: (x) => (x.length === 1 ? x : "takes a vector"),
      forward: ({ args: [x] }) => Array.from(x!, (v) => 1 + 1e-12 * v),
      backward: ({ grad: g }) => [Array.from(g, (gi) => gi * 1.01e-12)],
      formula: (x) => `1 + 1e-12*(${x})`,
    });
    expect(outcome(check("linTinyWrong(x, y)", { at: { x: 1, y: 1 } }))).toBe("fail");
    expect(outcome(check("shiftNoGrad(x)", { at: { x: 3 } }))).toBe("fail");
    expect(outcome(check("sum(linTinyTensor(x))", { at: { x: [1, 2, 3] } }))).toBe("fail");
  });

  it("a backward that returns one reused buffer gets the bounds of one that returns new arrays", () => {
    const buffer = [0, 0];
    for (const [name, out] of [
      ["bufferFresh", () => [0, 0]],
      ["bufferReused", () => buffer],
    ] as const)
      defineOp({
        name,
        arity: 2,
        forward: (u, v) => Math.sin(u) * v,
        backward: ({ args: [u, v], out: o, grad }) => {
          const r = out();
          r[0] = grad * Math.cos(u!) * v!;
          r[1] = (grad * o) / v!;
          return r;
        },
        formula: (u, v) => `sin(${u})*(${v})`,
      });
    const bounds = (op: string) =>
      [...roundingScale(parse(`exp(sin(${op}(x, y)))`), toValues({ x: 0.7, y: 1.3 }))!].map(
        ([k, v]) => [k, v[0]],
      );
    expect(bounds("bufferReused")).toEqual(bounds("bufferFresh"));
  });

  it("a flat op's disagreement is ill-conditioned in a Jacobian too, and within a sum", () => {
    for (const text of ["noiseSig(x)", "sum(noiseSig(x))"]) {
      const r = check(text, { at: { x: [37, 1] } });
      expect([text, r.verdict, r.reason?.slice(0, 67)]).toEqual([
        text,
        "inconclusive",
        "ill-conditioned point: custom op 'noiseSig' is flat at noiseSig(37)",
      ]);
    }
  });

  it("still catches the rule off by 1e-6 there, and by 1e-9 where its rounding is smaller", () => {
    for (const x of [-15, 0.3, 5, 15, 20])
      expect([x, outcome(check("noiseSigRel6(x)", { at: { x } }))]).toEqual([x, "fail"]);
    for (const x of [-15, 0.3, 5])
      expect([x, outcome(check("noiseSigRel9(x)", { at: { x } }))]).toEqual([x, "fail"]);
  });

  it("a tensor op too: softmax's y·(g − Σg·y) with y computed again from x, at y₂ ≈ 1", () => {
    const forward = (xs: ArrayLike<number>) => {
      const x = Array.from(xs);
      const m = Math.max(...x);
      const e = x.map((v) => Math.exp(v - m));
      const s = e.reduce((a, b) => a + b, 0);
      return e.map((v) => v / s);
    };
    const softmaxAgain = (name: string, f: number) =>
      defineOp({
        name,
        arity: 1,
        shape: (x) => (x.length === 1 ? x : "takes a vector"),
        forward: ({ args: [x] }) => forward(x!),
        backward: ({ args: [x], grad: g }) => {
          const y = forward(x!);
          let dot = 0;
          for (let i = 0; i < y.length; i++) dot += g[i]! * y[i]!;
          return [y.map((yi, i) => yi * (g[i]! - dot) * f)];
        },
        formula: (x) => `exp(${x})/sum(exp(${x}))`,
      });
    softmaxAgain("noiseSoftmax", 1);
    softmaxAgain("noiseSoftmaxRel6", 1 + 1e-6);
    // Hand: ∂y₂/∂x₂ = y₂(1 − y₂) = 3.4e-9 at [-30, 0.5, 20], 1 − y₂ from terms of size 1.
    for (const x of [
      [-30, 0.5, 20],
      [-5, 18, 19.5],
      [1, 2, 3],
      [-40, 0, 40],
    ])
      expect([x, outcome(check("noiseSoftmax(x)", { at: { x } }))]).toEqual([x, "pass"]);
    for (const x of [
      [-30, 0.5, 20],
      [1, 2, 3],
      [39.99, -0.04, -0.03],
    ])
      expect([x, outcome(check("noiseSoftmaxRel6(x)", { at: { x } }))]).toEqual([x, "fail"]);
    // Saturated (y₀ = 1 − 2e-17): flat. ∂y₀/∂x₀ = y₀(1 − y₀) from a y₀ that rounds, symbolic's
    // −2.2e-16 and autograd's 0 for 8e-18, is ill-conditioned; −y₀y₁ is accurate in both legs, and
    // the 1e-6 fault above stays caught there.
    const r = check("noiseSoftmax(x)", { at: { x: [39.99, -0.04, -0.03] } });
    expect(r.verdict).toBe("inconclusive");
    expect(r.reason).toContain("is flat at noiseSoftmax([39.99, -0.04, -0.03])");
  });

  it("an op that throws at a point of the window leaves the rest of the analysis as it was", () => {
    // h is flat at x (slope 5e-9 next to a value of 1): its window reaches 1e-4 of x, below 1,
    // where h throws. (1 − cos y)/y² at y = 1e-5 stays ill-conditioned (exit 3), as without h.
    defineOp({
      name: "noiseThrowsBelow1",
      arity: 1,
      domain: [[1, 10]],
      forward: (v) => {
        if (v < 1) throw new Error("below 1");
        return 1 + 1e-12 * Math.sqrt(v - 1);
      },
      backward: ({ args: [v], grad }) => {
        if (v! < 1) throw new Error("below 1");
        return [(grad * 0.5e-12) / Math.sqrt(v! - 1)];
      },
      formula: (v) => `1 + 1e-12*sqrt((${v})-1)`,
    });
    const r = check("noiseThrowsBelow1(x) + (1 - cos(y))/y^2", { at: { x: 1.00005, y: 1e-5 } });
    expect([r.verdict, r.reason?.slice(0, 22)]).toEqual(["inconclusive", "ill-conditioned point:"]);
  });

  it("a rule that switches branch inside the window counts at most 16 ulps of its terms", () => {
    // f = 1 + 1e-8·x: the window reaches ±5.7e-7 from x = 1 − 4e-7, past 1, where the backward
    // is right; below 1 it is 1e-3 off (1e-11). Counted whole, that jump (~5e-12 off a fitted
    // cubic, twice) would let the fault agree; capped at 16 ulps of 1 it is caught.
    defineOp({
      name: "noiseBranchAt1",
      arity: 1,
      forward: (v) => 1 + 1e-8 * v,
      backward: ({ args: [v], grad }) => [grad * 1e-8 * (v! < 1 ? 1 + 1e-3 : 1)],
      formula: (v) => `1 + 1e-8*(${v})`,
    });
    expect(outcome(check("noiseBranchAt1(x)", { at: { x: 1 - 4e-7 } }))).toBe("fail");
  });

  it("its allowance stays at the rule's rounding: a few ulps where nothing cancels (x = 0.3)", () => {
    const b = roundingScale(parse("noiseSig(x)"), toValues({ x: 0.3 }))!.get("x")![0]!;
    const d = Math.exp(-0.3) / (1 + Math.exp(-0.3)) ** 2;
    expect(b).toBeGreaterThan(0);
    expect(b).toBeLessThan(64 * Number.EPSILON * d);
  });
});

describe("roundingAnalysis with tiny (float32's underflow, 2^-150 per rounding)", () => {
  const TINY = 2 ** -150;
  const bound = (text: string, at: number, tiny?: number) =>
    roundingAnalysis(
      parse(text),
      toValues({ x: at }),
      undefined,
      tiny === undefined ? {} : { tiny },
    ).bounds!.get("x")![0]!;

  it("counts each rounding that may underflow, times what multiplies it after (by hand)", () => {
    // exp(−120) = 7.7e-53 rounds to 0 (off by ≤ 2^-150), then g·out rounds: 2 roundings.
    expect(bound("exp(x)", -120, TINY) / (2 * TINY)).toBeCloseTo(1, 9);
    // The same rounding of exp's output, times the 1e30 that follows.
    expect(bound("exp(x)*1e30", -120, TINY) / (1e30 * TINY)).toBeCloseTo(1, 6);
    // 20·x^19 · g: x^19 = 1e-57 underflows (times 20), then ·20 and ·g round: 20 + 1 + 1.
    expect(bound("x^20", 1e-3, TINY) / (22 * TINY)).toBeCloseTo(1, 9);
    // An exact op adds nothing: relu passes g through.
    expect(bound("relu(x)", 2, TINY)).toBe(bound("relu(x)", 2));
  });

  it("covers float32 arithmetic's error of the gradient of exp(x)·c across the underflow range", () => {
    // float32 by hand: exp's output rounded to float32, then the product g·out rounded.
    const f = Math.fround;
    let underflowed = 0;
    for (let x0 = -110; x0 <= -80; x0 += 0.37) {
      const at = f(x0);
      for (const c of [1, 3, 1e20]) {
        const exact = Math.exp(at) * c;
        const in32 = f(f(c) * f(Math.exp(at)));
        const text = `exp(x)*${c}`;
        const allowed =
          2 ** 29 * bound(text, at) + 8 * 2 ** -23 * Math.abs(in32) + bound(text, at, TINY);
        expect(Math.abs(in32 - exact)).toBeLessThanOrEqual(allowed);
        if (Math.abs(in32 - exact) > 2 ** 29 * bound(text, at) + 8 * 2 ** -23 * Math.abs(in32))
          underflowed++;
      }
    }
    expect(underflowed).toBeGreaterThan(10); // the relative bound alone does not cover these
  });

  it("leaves the float64 analysis as it was (tiny is 0 again after the float32 pass)", () => {
    const before = bound("exp(x)*1e30", -120);
    expect(bound("exp(x)*1e30", -120, TINY)).toBeGreaterThan(1e10 * before);
    expect(bound("exp(x)*1e30", -120)).toBe(before);
  });
});

describe("erf's backward: exp(−a²) carries a²'s rounding times a²", () => {
  it("covers float32 arithmetic's error of erf's gradient, and stays within 1e-5 of it", () => {
    const f = Math.fround;
    const c = 2 / Math.sqrt(Math.PI);
    for (let a0 = -6; a0 <= 6; a0 += 0.173) {
      const a = f(a0);
      const exact = c * Math.exp(-a * a);
      // PyTorch's float32 steps (and autograd's): a², its negation, exp, times 2/√π
      const in32 = f(f(Math.exp(-f(a * a))) * f(c));
      const r = roundingAnalysis(parse("erf(x)"), toValues({ x: a })).bounds!.get("x")![0]!;
      const allowed = 2 ** 29 * r + 8 * 2 ** -23 * Math.abs(in32);
      expect(Math.abs(in32 - exact)).toBeLessThanOrEqual(allowed);
      expect(allowed).toBeLessThan(1e-5 * exact);
    }
  });
});
