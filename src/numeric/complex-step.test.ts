import { describe, expect, it } from "vitest";
import { registerUnchecked } from "../../test/register-op.ts";
import { parse } from "../expr/parse.ts";
import { mulberry32 } from "../random.ts";
import { complexStepAlong, complexStepGradient } from "./complex-step.ts";

describe("complex step through bce of a sigmoid", () => {
  it("avoids forming 1 − p: exact where σ(z) rounds near 1", () => {
    // d/dz bce(σ(z), 0) = σ(z) exactly; at z = 30, 1 − σ(z) ≈ 9e-14 holds no correct digit.
    const expr = parse("bce(sigmoid(z), 0)");
    const r = complexStepGradient(
      expr,
      new Map([["z", { offset: 0, shape: [] }]]),
      Float64Array.of(30),
    );
    expect(r.ok).toBe(true);
    if (r.ok) expect(Math.abs(r.gradient[0]! - 1 / (1 + Math.exp(-30)))).toBeLessThan(1e-15);
    // Through an inactive clamp too, and the clamp's bound where it is active (a constant p).
    const clamped = parse("bce(clamp(sigmoid(z), 1e-8, 1-1e-8), 0)");
    const layout = new Map([["z", { offset: 0, shape: [] }]]);
    const a = complexStepGradient(clamped, layout, Float64Array.of(6.7));
    if (a.ok) expect(Math.abs(a.gradient[0]! - 1 / (1 + Math.exp(-6.7)))).toBeLessThan(2e-16);
    expect(a.ok).toBe(true);
    const b = complexStepGradient(clamped, layout, Float64Array.of(40));
    expect(b.ok && Math.abs(b.gradient[0]!)).toBe(0);
  });
});

describe("complex step near a pole of tan", () => {
  it("keeps full precision where cos 2a + cosh 2b would cancel", () => {
    const layout = new Map([["x", { offset: 0, shape: [] }]]);
    for (const x of [-1.5722243301570415, 1.5695756133645773, 1.5707]) {
      const r = complexStepGradient(parse("tan(x)"), layout, Float64Array.of(x));
      // d/dx tan x = 1/cos²x, by hand
      const want = 1 / Math.cos(x) ** 2;
      expect(r.ok && Math.abs(r.gradient[0]! - want) / want).toBeLessThan(4e-15);
    }
  });
});

describe("complex step error estimate covers cancellation in products and quotients", () => {
  const layout = new Map([["x", { offset: 0, shape: [] }]]);
  // Each is identically 1 (x ≠ 0, x > 0, x not a multiple of π/2): the derivative is exactly 0.
  for (const [src, lo, hi] of [
    ["x*(1/x)", 0.01, 10],
    ["sqrt(x)*sqrt(x)/x", 0.01, 10],
    ["tan(x)*cos(x)/sin(x)", 0.05, 1.5],
  ] as const)
    it(`${src}: |complex step − 0| ≤ estimate at 200 random x`, () => {
      const next = mulberry32(7);
      const expr = parse(src);
      for (let t = 0; t < 200; t++) {
        const x = lo + (hi - lo) * next();
        const r = complexStepGradient(expr, layout, Float64Array.of(x));
        if (!r.ok) throw new Error(r.reason);
        expect(Math.abs(r.gradient[0]!), `x = ${x}`).toBeLessThanOrEqual(r.error[0]!);
      }
    });
});

describe("complex step error estimate: a cancellation counts at the scale it reaches the output with", () => {
  const layout = new Map([["x", { offset: 0, shape: [] }]]);
  const vector = new Map([["x", { offset: 0, shape: [4] }]]);

  it("amplified after it: |complex step − 0| ≤ estimate (the derivative is exactly 0)", () => {
    // Each is a constant times something identically 1 or 0: what the step reads is its rounding,
    // times the constant. A bound taken at the scale of the sum (x·(1/x): terms of size 2/x, 7e-15
    // after ×16·eps) missed it by 10⁹ under ×1e12.
    const next = mulberry32(13);
    for (const [src, lo, hi] of [
      ["x*(1/x)*1e12", 0.01, 10],
      ["sqrt(x)*sqrt(x)/x*2^40", 0.01, 10],
      ["tan(x)*cos(x)/sin(x)*1e10", 0.05, 1.5],
      ["(sqrt(x)*sqrt(x)/x + x^2 - x*x)*1e12", 0.01, 10],
      ["log(exp(x)*exp(-x) + 1)*1e12", -3, 3],
      ["(1/(1/x) - x)*1e12", 0.01, 10],
      // bce of a sigmoid (its logit path): u's rounding arrives through ∂bce/∂u = σ(u) − t.
      ["bce(sigmoid(x*(1/x)*3), 0.2)*1e12", 0.01, 10],
    ] as const) {
      const expr = parse(src);
      let nonzero = 0;
      for (let t = 0; t < 100; t++) {
        const x = lo + (hi - lo) * next();
        const r = complexStepGradient(expr, layout, Float64Array.of(x));
        if (!r.ok) throw new Error(r.reason);
        if (r.gradient[0] !== 0) nonzero++;
        expect(Math.abs(r.gradient[0]!), `${src} at x = ${x}`).toBeLessThanOrEqual(r.error[0]!);
        // …and no wider than the rounding the constant amplifies (1e3 ulps of it, of terms ~1/x).
        expect(r.error[0]!, `${src} at x = ${x}`).toBeLessThan(
          1e3 * Number.EPSILON * 1e12 * Math.max(1, 1 / x),
        );
      }
      // Not vacuous: the rounding shows at some of the points.
      if (!src.startsWith("log")) expect(nonzero, src).toBeGreaterThan(0);
    }
  });

  it("through sums, means, softmax, logsumexp and matmul: |complex step − 0| ≤ estimate", () => {
    // Identically constant in x (sum of softmax is 1; logsumexp is log Σ exp; mean(x/x) is 1;
    // matmul(x, 1/x) is 4; max(x·(1/x)·x) is max(x)), times 1e12: each gradient element is
    // rounding alone.
    const next = mulberry32(17);
    for (const src of [
      "sum(softmax(x))*1e12",
      "(logsumexp(x) - log(sum(exp(x))))*1e12",
      "mean(x*(1/x))*1e12",
      "matmul(x, 1/x)*1e12",
      "(max(x*(1/x)*x) - max(x) + min(sqrt(x)*sqrt(x)/x*x) - min(x))*1e12",
    ]) {
      const expr = parse(src);
      for (let t = 0; t < 25; t++) {
        const x = Float64Array.from({ length: 4 }, () => 0.05 + 3 * next());
        const r = complexStepGradient(expr, vector, x);
        if (!r.ok) throw new Error(`${src}: ${r.reason}`);
        for (let k = 0; k < 4; k++)
          expect(Math.abs(r.gradient[k]!), `${src} at ${x}, element ${k}`).toBeLessThanOrEqual(
            r.error[k]!,
          );
      }
    }
  });

  it("scaled down after it: tight, so a tiny f keeps a deciding estimate (sqrt(x^2)·s at −2)", () => {
    // d/dx sqrt(x²)·s = s·sign(x) = −s at −2, by hand. The estimate was ≈1.4e-14 whatever s (the
    // sum x·x's terms at their own scale), so at s = 1e-14 it could not tell −s from +s.
    for (const s of [1, 1e-14, 1e-20, 1e-100, 1e-250]) {
      const r = complexStepGradient(parse(`sqrt(x^2)*${s}`), layout, Float64Array.of(-2));
      if (!r.ok) throw new Error(r.reason);
      expect(Math.abs(r.gradient[0]! + s), `s = ${s}`).toBeLessThanOrEqual(r.error[0]!);
      expect(r.error[0]!, `s = ${s}`).toBeLessThan(64 * Number.EPSILON * s);
    }
  });

  it("an imaginary part of 0 with a nonzero bound where the op has no derivative along it", () => {
    // sin(y)² + cos(y)²'s Im is 0 to the bit (its two terms round alike), its bound is not; (−2)^u
    // has no derivative in u: the bound's probe reads NaN, which must not make the step NaN.
    const layout2 = new Map([
      ["x", { offset: 0, shape: [] }],
      ["y", { offset: 1, shape: [] }],
    ]);
    const r = complexStepGradient(
      parse("(-2)^(sin(y)^2+cos(y)^2+1) + x*y"),
      layout2,
      Float64Array.of(1, 0.3),
    );
    if (!r.ok) throw new Error(r.reason);
    // ∂/∂y = x = 1 by hand (the power is −8 whatever y, as the complex step reads it).
    expect(Math.abs(r.gradient[1]! - 1)).toBeLessThanOrEqual(r.error[1]!);
    expect(r.error[1]!).toBeLessThan(1e-14);
  });

  it("scales with a power-of-two factor after the cancellation, as the rounding does", () => {
    // ×2^-k is exact: every rounding of f·2^-k is f's, times 2^-k; so is the bound.
    for (const src of [
      "x*(1/x)",
      "sqrt(x)*sqrt(x)/x",
      "sin(x)^2 + cos(x)^2",
      "tan(x)*cos(x)/sin(x)",
    ])
      for (const k of [10, 100, 600]) {
        const one = complexStepGradient(parse(`(${src})*1`), layout, Float64Array.of(0.7));
        const scaled = complexStepGradient(
          parse(`(${src})*${2 ** -k}`),
          layout,
          Float64Array.of(0.7),
        );
        if (!one.ok || !scaled.ok) throw new Error(src);
        expect(scaled.gradient[0]).toBe(one.gradient[0]! * 2 ** -k);
        // Less the floor of 64 subnormals per step, which does not scale.
        const floor = (64 * Number.MIN_VALUE) / 2 ** -100;
        expect((scaled.error[0]! - floor) / ((one.error[0]! - floor) * 2 ** -k)).toBeCloseTo(1, 12);
      }
  });
});

describe("complex step: its truncation error where the derivative is tiny", () => {
  it("bounds the O(h²) term: sin(x)·x² at 0 (true derivative 0, the step alone reads −h²)", () => {
    const layout = new Map([["x", { offset: 0, shape: [3] }]]);
    const r = complexStepGradient(parse("mean(sin(x)*x^2)"), layout, Float64Array.of(0, 1, 2));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    // d/dx (sin x · x²)/3 = (2x sin x + x² cos x)/3, by hand.
    const truth = [0, 1, 2].map((x) => (2 * x * Math.sin(x) + x * x * Math.cos(x)) / 3);
    for (let k = 0; k < 3; k++)
      expect(Math.abs(r.gradient[k]! - truth[k]!)).toBeLessThanOrEqual(r.error[k]!);
    // The bound stays tiny: no false tolerance for a real contradiction.
    expect(r.error[0]!).toBeLessThan(1e-55);
  });
});

describe("complex step beside a breakpoint (besideBreakpoints)", () => {
  const vec = (n: number) => new Map([["x", { offset: 0, shape: [n] }]]);
  const xy = new Map([
    ["x", { offset: 0, shape: [] as number[] }],
    ["y", { offset: 1, shape: [] as number[] }],
  ]);

  it("leaves out only the coordinates whose step reaches the op on its breakpoint", () => {
    // sum(relu(x)·x²): ∂/∂x_k = 3x_k² for x_k > 0, 0 for x_k < 0; relu(x[1]) sits at 0.
    const expr = parse("sum(relu(x)*x^2)");
    const at = Float64Array.of(0.5, 0, -0.7, 1.3);
    expect(complexStepGradient(expr, vec(4), at)).toEqual({
      ok: false,
      reason: "complex step does not apply: relu at 0",
    });
    const r = complexStepGradient(expr, vec(4), at, true);
    if (!r.ok) throw new Error(r.reason);
    expect(r.notAnalytic).toEqual([1]);
    expect(r.gradient[0]).toBe(0.75);
    expect(r.gradient[2]).toBe(0);
    expect(r.gradient[3]).toBeCloseTo(3 * 1.3 ** 2, 14);
    expect(r.gradient[1]).toBeNaN();
    expect(r.error[1]).toBe(Number.POSITIVE_INFINITY);
  });

  it("tells a tie the step splits from one it does not", () => {
    // maximum(x, y) at x = y: stepping either splits the tie; maximum(x, x) is x along any step.
    const split = complexStepGradient(parse("maximum(x, y)"), xy, Float64Array.of(2, 2), true);
    expect(split.ok && split.notAnalytic).toEqual([0, 1]);
    const same = complexStepGradient(parse("maximum(x, x) + y"), xy, Float64Array.of(2, 5), true);
    if (!same.ok) throw new Error(same.reason);
    expect(same.notAnalytic).toBeUndefined();
    expect([...same.gradient]).toEqual([1, 1]);
    // max over a vector with a tie, and clamp on its bound: reached only through the tied element.
    const m = complexStepGradient(parse("max(x)"), vec(3), Float64Array.of(1, 3, 3), true);
    expect(m.ok && m.notAnalytic).toEqual([1, 2]);
    expect(m.ok && m.gradient[0]).toBe(0);
    const c = complexStepGradient(parse("clamp(x, 0, 1) + 2*y"), xy, Float64Array.of(0, 1), true);
    expect(c.ok && c.notAnalytic).toEqual([0]);
    expect(c.ok && c.gradient[1]).toBe(2);
  });

  it("still refuses the point at a domain edge, where no step is analytic", () => {
    const r = complexStepGradient(parse("sqrt(x) + relu(y)"), xy, Float64Array.of(0, 0), true);
    expect(r).toEqual({ ok: false, reason: "complex step does not apply: sqrt at 0" });
  });
});

describe("complex step at a subnormal coordinate", () => {
  it("keeps its first reading where a smaller step would underflow (it gave 0/0 and left the complex step)", () => {
    // The step for y = 5e-324 is the floor, 2^-1054; f does not depend on y: d = 0 exactly.
    const layout = new Map([
      ["x", { offset: 0, shape: [] }],
      ["y", { offset: 1, shape: [] }],
    ]);
    const x = 1.0931871967508465e-11;
    const r = complexStepGradient(parse("min(pi/x) + 0*y"), layout, Float64Array.of(x, 5e-324));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    // d/dx π/x = −π/x², by hand (Richardson's steps cross the pole at 0 here: 251 ± 3.8e12).
    expect(Math.abs(r.gradient[0]! + Math.PI / (x * x))).toBeLessThanOrEqual(r.error[0]!);
    expect(r.error[0]!).toBeLessThan(1e-6 * (Math.PI / (x * x)));
    expect(r.gradient[1]).toBe(0);
  });
});

describe("complex step where imaginary parts fall below the normal range", () => {
  const at = (src: string, x: number) =>
    complexStepGradient(parse(src), new Map([["x", { offset: 0, shape: [] }]]), Float64Array.of(x));

  registerUnchecked({
    name: "complexStepTestNegExp",
    arity: 1,
    forward: (a) => Math.exp(-a),
    backward: ({ args: [a], grad }) => [-Math.exp(-a!) * grad],
  });

  it("its error covers what subnormal imaginary parts lose (a tiny x, a tiny factor)", () => {
    // Truths by hand: d/dx c·a^x = c·ln a·a^x (a^x = 1 to the last bit at these x); d/dx c·e^-x =
    // −c·e^-x. 1e10·2^x at 1e-280 read 6931471805.598904 ± 4.9e-5 (off by 5.5e-4: h·ln 2 was
    // subnormal, then ×1e10); exp(-x)·1e300 at 690 read 0 ± 7e-285 (e^-690·h underflowed).
    for (const [src, x, truth] of [
      ["1e10*2^x", 1e-280, 1e10 * Math.LN2],
      ["1e10*2^x", 1e-300, 1e10 * Math.LN2],
      ["3^x*1e10", 1e-290, 1e10 * Math.log(3)],
      ["x/3*1e10", 1e-300, 1e10 / 3],
      ["exp(-x)*1e300", 690, -1e300 * Math.exp(-690)],
      ["exp(-x)*1e300", 660, -1e300 * Math.exp(-660)],
      ["complexStepTestNegExp(x)*1e300", 690, -1e300 * Math.exp(-690)],
      ["(x*1e-300)*1e300", 1, 1],
      ["exp(x*1e-300)*1e300", 1, 1],
    ] as const) {
      const r = at(src, x);
      if (!r.ok) throw new Error(`${src} at ${x}: ${r.reason}`);
      const slack = 4 * Number.EPSILON * Math.abs(truth); // the float64 truth's own rounding
      expect(Math.abs(r.gradient[0]! - truth), `${src} at ${x}`).toBeLessThanOrEqual(
        r.error[0]! + slack,
      );
      expect(r.error[0]!, `${src} at ${x}`).toBeLessThan(1e-9 * Math.abs(truth));
    }
  });

  it("over random points: c·2^x at x = 10^-u, u ∈ [200, 323]; 1e300·e^-x at x ∈ [600, 744]", () => {
    const next = mulberry32(11);
    let checked = 0;
    let resolvable = 0;
    for (let t = 0; t < 200; t++) {
      const x = 10 ** -(200 + 123 * next());
      const c = 10 ** (20 * next());
      const r = at(`${c}*2^x`, x);
      // Im 2^(x+ih) = ln 2·h·2^x keeps 15 bits or more even at the smallest step (2^-1054), and the
      // reading does not move with the step: every point must be checked.
      if (!r.ok) throw new Error(`${c}·2^x at ${x}: ${r.reason}`);
      expect(Math.abs(r.gradient[0]! - c * Math.LN2), `${c}·2^x at ${x}`).toBeLessThanOrEqual(
        r.error[0]! + 4 * Number.EPSILON * c,
      );
      const y = 600 + 144 * next();
      const s = at("exp(-x)*1e300", y);
      const want = -1e300 * Math.exp(-y);
      // Im e^-(y+ih) = −h·e^-y holds 4 bits or more (above 2^-1070) at the largest step, 2^-40,
      // while e^-y ≥ 2^-1030, i.e. y ≤ 1030·ln 2 ≈ 713.9: there the complex step must apply.
      if (y <= 713) {
        resolvable++;
        expect(s.ok, `e^-x·1e300 at ${y}`).toBe(true);
      }
      if (s.ok) {
        checked++;
        expect(Math.abs(s.gradient[0]! - want), `e^-x·1e300 at ${y}`).toBeLessThanOrEqual(
          s.error[0]! + 1e-12 * Math.abs(want),
        );
      }
    }
    // Not vacuous: (713 − 600)/144 of the points, ~78%, are resolvable.
    expect(resolvable).toBeGreaterThan(140);
    expect(checked).toBeGreaterThanOrEqual(resolvable);
  });

  it("does not apply where an imaginary part underflows at every step it may take", () => {
    // d/dx cos(x)·1e300 = −sin(x)·1e300 = −1 at 1e-300: −sin(x)·h is below 2^-1074 for any h ≪ x.
    for (const src of ["cos(x)*1e300", "x^2*1e300"]) {
      const r = at(src, 1e-300);
      expect(r.ok, src).toBe(false);
      if (!r.ok) expect(r.reason).toMatch(/imaginary part underflows/);
    }
    // Grown to 2^-40, e^-705·h is subnormal; the step 2^24 times smaller that checks its
    // truncation underflows (it read 0 ± 6.86165842811918e-160 for −6.86166417689604e-160).
    const r = at("1e147*exp(-x)", 704.9676735454705);
    if (r.ok)
      expect(Math.abs(r.gradient[0]! + 6.86166417689604e-160)).toBeLessThanOrEqual(r.error[0]!);
  });

  it("does not apply where its smallest step is not below a subnormal coordinate and the reading moves with it", () => {
    // d/dx sqrt(x) = 1/(2 sqrt x) = 2.4118e158 at 4.29798e-318; the step 2^-1054 exceeds x (it
    // read 2.13e158 ± 1.5e144). Where f does not depend on the coordinate, the reading stands.
    const r = at("sqrt(x)", 4.29798e-318);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/not below the coordinate/);
    const c = at("cos(x) + x", 5e-324);
    expect(c.ok && c.gradient[0]).toBe(1);
  });
});

describe("complexStepAlong: the custom ops' sensitivities measured once for every direction", () => {
  registerUnchecked({
    name: "complexStepTestHypot",
    arity: 2,
    forward: (a, b) => Math.hypot(a, b),
    backward: ({ args: [a, b], out, grad }) => [(grad * a!) / out, (grad * b!) / out],
  });
  // f = Σ sin(3·hypot(x_k, w)): ∂f/∂(op element k) = 3cos(3h_k) moves with the point, so
  // sensitivities measured at another point give other error bounds.
  const expr = parse("sum(sin(3*complexStepTestHypot(x, w)))");
  const n = 6;
  const layout = new Map([
    ["x", { offset: 0, shape: [n] }],
    ["w", { offset: n, shape: [] as number[] }],
  ]);
  const point = (s: number) => Float64Array.from({ length: n + 1 }, (_, k) => s + Math.sin(k));
  const unit = (k: number) => {
    const u = new Float64Array(n + 1);
    u[k] = 1;
    return u;
  };
  // ∂f/∂x_k = 3cos(3h_k)·x_k/h_k, ∂f/∂w = Σ 3cos(3h_k)·w/h_k, h_k = hypot(x_k, w), by hand.
  const hand = (x: Float64Array, k: number) => {
    const w = x[n]!;
    const term = (j: number) => (3 * Math.cos(3 * Math.hypot(x[j]!, w))) / Math.hypot(x[j]!, w);
    if (k < n) return term(k) * x[k]!;
    let s = 0;
    for (let j = 0; j < n; j++) s += term(j) * w;
    return s;
  };

  it("gives each direction what a fresh measurement gives, within its bound of the hand formula", () => {
    const x = point(0.4);
    const along = complexStepAlong(expr, layout, x, n + 1);
    for (let k = 0; k <= n; k++) {
      const shared = along(unit(k));
      // A stepper of its own measures afresh for its one direction.
      const fresh = complexStepAlong(expr, layout, x, 1)(unit(k));
      expect(shared).toEqual(fresh);
      if (!shared.ok) throw new Error(shared.reason);
      expect(Math.abs(shared.derivative - hand(x, k)), `k = ${k}`).toBeLessThanOrEqual(
        shared.error,
      );
    }
  });

  it("measures again where another call measured the same program at another point", () => {
    const x = point(0.4);
    const along = complexStepAlong(expr, layout, x, n + 1);
    const before = along(unit(2));
    // The cached program's sensitivities are now those of another point.
    const other = complexStepGradient(expr, layout, point(2.9));
    expect(other.ok).toBe(true);
    const after = along(unit(2));
    expect(after).toEqual(before);
    // …and they differ there: the bound measured at the other point is another number.
    const there = complexStepAlong(expr, layout, point(2.9), 1)(unit(2));
    expect(there.ok && before.ok && there.error !== before.error).toBe(true);
  });

  it("declines past 256 custom op elements per direction unless the measurement is made", () => {
    const big = 600;
    const bigLayout = new Map([
      ["x", { offset: 0, shape: [big] }],
      ["w", { offset: big, shape: [] as number[] }],
    ]);
    const x = Float64Array.from({ length: big + 1 }, (_, k) => 0.5 + Math.sin(k));
    const u = new Float64Array(big + 1);
    u[big] = 1;
    const two = complexStepAlong(expr, bigLayout, x, 2);
    expect(two(u)).toMatchObject({ ok: false, costly: true });
    // Taken whatever it costs, the measurement serves the next direction too.
    expect(two(u, true).ok).toBe(true);
    expect(two(u).ok).toBe(true);
    // Three directions share 600 elements: 200 each.
    expect(complexStepAlong(expr, bigLayout, x, 3)(u).ok).toBe(true);
  });
});
