// --order 2: autograd's Hessian is judged with a rounding allowance for its double backward
// (hessian.ts: 64 ulps of the row, plus the noise it shows a few ulps around the point), so
// correct built-in code off by rounding agrees (review11 #5), while a double backward that is
// wrong by 1e-6 relative, its gradient exact, is still convicted. Values by hand or mpmath.
import { describe, expect, it } from "vitest";
import { type Plantable, planted } from "../../test/planted-hessian.ts";
import type { Point } from "../expr/point.ts";
import { check } from "./check.ts";

/** |a − b| relative to |b|. */
const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describe("--order 2: autograd's Hessian off by rounding agrees (review11 #5)", () => {
  it.each([
    ["x/x", { x: 1.757 }],
    ["tanh(erf(y)*cosh(y))", { y: -2.825 }],
    ["sinh(y/y - 0.79/-1.49)", { y: 0.301 }],
    ["cosh((y/y)*-1.3)", { y: 0.982 }],
    ["((x/x)/(y-0.43))/softplus(tanh(1.26))", { x: -0.048, y: 2.566 }],
    ["sigmoid(relu(y/y))", { y: -2.14 }],
    ["logsumexp(sigmoid((y / erf(x))))", { x: [-1.841, -2.403, 0.1], y: 2.541 }],
  ])("%s at %j: agree (was: disagree, exit 1)", (expr, at) => {
    const r = check(expr, { at, order: 2 });
    expect([r.verdict, r.reason]).toEqual(["agree", null]);
  });

  it("the rounding is autograd's own (mpmath's f'' of tanh(erf(y)·cosh(y)) at −2.825)", () => {
    // 1 − tanh² at tanh ≈ −1 (tanh' ≈ 9e-8) keeps ~8 digits: autograd is off by ~2e-10, as
    // PyTorch's double backward is; symbolic and numeric hold mpmath's value.
    const r = check("tanh(erf(y)*cosh(y))", { at: { y: -2.825 }, order: 2 });
    const mp = 2.38414143134056e-5;
    expect(rel(r.hessian!.autograd![0]![0]!, mp)).toBeGreaterThan(1e-11);
    expect(rel(r.hessian!.autograd![0]![0]!, mp)).toBeLessThan(1e-8);
    expect(rel(r.hessian!.symbolic![0]![0]!, mp)).toBeLessThan(1e-12);
  });

  it("x/x: autograd's Hessian is 0 to a few ulps of its terms (1/x²) at 200 points, all agree", () => {
    for (let k = 0; k < 200; k++) {
      const x = 0.5 + k * 0.0173;
      const r = check("x/x", { at: { x }, order: 2 });
      expect([x, r.verdict]).toEqual([x, "agree"]);
      expect(Math.abs(r.hessian!.autograd![0]![0]!)).toBeLessThan((8 * Number.EPSILON) / x ** 2);
    }
  });
});

describe("--order 2: a double backward wrong by ~1e-6 relative, its gradient exact, is convicted", () => {
  it.each([
    ["tanh", "tanh(x)*y", { x: 0.7, y: 1.3 }],
    ["exp", "exp(x*y)", { x: 0.4, y: -1.1 }],
    ["sigmoid", "logsumexp(sigmoid((y / erf(x))))", { x: [-1.841, -2.403, 0.1], y: 2.541 }],
    ["sigmoid", "sum(sigmoid(x)*x)", { x: [0.3, -1.2, 2] }],
    ["sin", "sin(x)^2 + cos(y)", { x: 1.1, y: 0.5 }],
    ["log", "log(x*y + 2)", { x: 0.8, y: 1.9 }],
  ] as [Plantable, string, Point][])("%s in %s at %j", (op, expr, at) => {
    const ok = check(expr, { at, order: 2 });
    expect(ok.verdict).toBe("agree");
    const bad = planted(op, 1e-6, () => [check(expr, { at }), check(expr, { at, order: 2 })]);
    // The gradient is exact: order 1 sees nothing.
    expect(bad[0]!.verdict).toBe("agree");
    // The fault's size: the worst entry of autograd's Hessian off by 1e-7 to 1e-5 relative.
    const h = bad[1]!.hessian!;
    let worst = 0;
    for (const [i, row] of h.autograd!.entries())
      for (const [j, v] of row.entries()) {
        const s = ok.hessian!.symbolic![i]![j]!;
        if (s !== 0) worst = Math.max(worst, rel(v, s));
      }
    expect(worst).toBeGreaterThan(1e-7);
    expect(worst).toBeLessThan(1e-5);
    // Exit 1: autograd outvoted, or (where the numeric estimate's error bar is wider than the
    // fault) contradicted by the CAS with no majority.
    expect(bad[1]!.verdict, bad[1]!.reason ?? "").toBe("disagree");
    expect(["autograd", null]).toContain(bad[1]!.blame);
  });

  it("tanh's double backward with its saved output detached (a missing term), where 1 − tanh² rounds", () => {
    const detached = planted(
      "tanh",
      0,
      () => check("tanh(erf(y)*cosh(y))", { at: { y: -2.825 }, order: 2 }),
      (n, g) => {
        const t = n.out!.detach();
        return [g.mul(t.mul(t).neg().add(1))];
      },
    );
    expect([detached.verdict, detached.blame], detached.reason ?? "").toEqual([
      "disagree",
      "autograd",
    ]);
  });
});

describe("--order 2 --dtype float32: past 2^±63 autograd's double backward underflows unbounded", () => {
  it("exp(x)·x at x = −100, −120: ill-conditioned (exit 3), not an alarm; at −30 all agree", () => {
    // exp(−100) = 3.7e-44 is a float32 subnormal of a few bits; at −120 it is 0 in float32, while
    // the references give 7.7e-53. The gradient's underflow is bounded (order 1); its Hessian's not.
    for (const x of [-100, -120]) {
      const r = check("exp(x)*x", { at: { x }, order: 2, dtype: "float32" });
      expect([x, r.verdict]).toEqual([x, "inconclusive"]);
      expect(r.reason).toContain("lies near the underflow limit of float32");
    }
    expect(check("exp(x)*x", { at: { x: -30 }, order: 2, dtype: "float32" }).verdict).toBe("agree");
  });

  it("a double backward 1e-3 off is still convicted in float32 at a point within its range", () => {
    const at = { x: 0.4, y: -1.1 };
    expect(check("exp(x*y)", { at, order: 2, dtype: "float32" }).verdict).toBe("agree");
    const bad = planted("exp", 1e-3, () => check("exp(x*y)", { at, order: 2, dtype: "float32" }));
    expect(bad.verdict).toBe("disagree");
  });
});

describe("--order 2 --dtype float32: a tiny intermediate beside a normal Hessian excuses nothing", () => {
  it("exp(x·y) + 1e-20·x with exp's double backward 10% off: convicted", () => {
    const at = { x: 0.4, y: -1.1 };
    const bad = planted("exp", 1e-1, () =>
      check("exp(x*y) + 1e-20*x", { at, order: 2, dtype: "float32" }),
    );
    expect(bad.verdict).toBe("disagree");
  });
});
