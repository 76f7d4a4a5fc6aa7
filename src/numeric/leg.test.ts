import { describe, expect, it } from "vitest";
import { registerUnchecked } from "../../test/register-op.ts";
import { isGradtrioError } from "../errors.ts";
import { parse } from "../expr/parse.ts";
import { toValues } from "../expr/point.ts";
import { compileComplex } from "./complex.ts";
import { complexStepGradient } from "./complex-step.ts";
import { flattenValues } from "./evaluate.ts";
import { numericLeg } from "./leg.ts";

const leg = (
  text: string,
  point: Record<string, number | number[]>,
  method?: "auto" | "richardson" | "central" | "complex" | "fast",
) => numericLeg(parse(text), toValues(point), method === undefined ? {} : { method });

describe("complex step", () => {
  it("is exact for x^2 at a negative x (integer powers by multiplication, not exp∘log)", () => {
    const { x, layout } = flattenValues(toValues({ x: -2 }));
    const r = complexStepGradient(parse("x^2"), layout, x);
    expect(r.ok && r.gradient[0]).toBe(-4);
  });

  it.each([
    ["sqrt(x)", 4, 0.25], // 1/(2√x)
    ["log1p(x)", 1e-10, 1 / (1 + 1e-10)],
    ["tanh(x)", 30, 4 * Math.exp(-60)], // sech² x ≈ 4e^(−2x), no overflow
    ["sigmoid(x)", -40, Math.exp(-40) / (1 + Math.exp(-40)) ** 2],
    ["softplus(x)", 50, 1 / (1 + Math.exp(-50))],
    ["pow(x, 2.5)", 1.3, 2.5 * 1.3 ** 1.5],
    ["exp(-x)", 600, -Math.exp(-600)], // h·f' ≈ 2e-291: still a normal number
    ["tan(x)", 1, 1 / Math.cos(1) ** 2],
    ["bce(x, 0.25)", 0.4, -0.25 / 0.4 + 0.75 / 0.6],
  ])("d/dx %s at %d = hand formula to ~1 ulp", (text, at, want) => {
    const { x, layout } = flattenValues(toValues({ x: at }));
    const r = complexStepGradient(parse(text), layout, x);
    expect(r.ok).toBe(true);
    if (r.ok) expect(Math.abs(r.gradient[0]! - want) / Math.abs(want)).toBeLessThan(4e-15);
  });

  it("does not apply at a kink (of a built-in or of a custom op) or at a domain edge", () => {
    const run = (text: string, at: number) => {
      const { x, layout } = flattenValues(toValues({ x: at }));
      return complexStepGradient(parse(text), layout, x);
    };
    expect(run("abs(x)", 0)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/abs at 0/),
    });
    expect(run("clamp(x, 0, 1)", 1)).toMatchObject({ ok: false });
    expect(run("sqrt(x)", 0)).toMatchObject({ ok: false });
    expect(run("abs(x)", -0.5)).toMatchObject({ ok: true, gradient: Float64Array.of(-1) });
    registerUnchecked({
      name: "numeric_leg_sq",
      arity: 1,
      forward: (a) => a * a,
      backward: ({ args, grad }) => [2 * args[0]! * grad],
    });
    // A custom op runs in forward mode: d/dx sin(x²) = 2x·cos(x²), by hand.
    const r = run("sin(numeric_leg_sq(x))", 1.3);
    if (!r.ok) throw new Error(r.reason);
    expect(Math.abs(r.gradient[0]! - 2.6 * Math.cos(1.69))).toBeLessThanOrEqual(r.error[0]!);
    expect(r.error[0]).toBeLessThan(1e-9);
    registerUnchecked({
      name: "numeric_leg_abs",
      arity: 1,
      forward: Math.abs,
      backward: ({ args, grad }) => [Math.sign(args[0]!) * grad],
    });
    expect(run("numeric_leg_abs(x)", 0)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/numeric_leg_abs.*kink/),
    });
  });

  it("gives NaN where the real function is NaN (log of a negative real part)", () => {
    const { layout } = flattenValues(toValues({ x: 0 }));
    const p = compileComplex(parse("log(x)"), layout);
    p.run(Float64Array.of(-1), Float64Array.of(1e-100));
    expect(p.output.re[0]).toBeNaN();
  });
});

describe("numericLeg", () => {
  it("auto: the complex step where it applies", () => {
    const r = leg("sin(x^2)", { x: 3 });
    expect(r.method).toBe("complex");
    expect(r.value).toBe(Math.sin(9));
    expect(r.gradients!.get("x")![0]).toBeCloseTo(6 * Math.cos(9), 14);
    expect(r.kinks).toEqual([]);
  });

  it("auto: Richardson at a kink, and the kink is reported with a label", () => {
    const r = leg("sum(relu(x))", { x: [1, 0] });
    expect(r.method).toBe("richardson");
    expect(r.notes.join()).toMatch(/relu at 0/);
    expect(r.kinks).toHaveLength(1);
    expect(r.kinks[0]).toMatchObject({ coordinate: 1, label: "x[1]" });
    expect(r.kinks[0]!.left).toBeCloseTo(0, 8);
    expect(r.kinks[0]!.right).toBeCloseTo(1, 8);
  });

  it("splits gradients per variable in the point's order", () => {
    const r = leg("sum(x*y) + mean(x^2)", { x: [1, 2], y: [3, -1] }, "richardson");
    // ∂/∂x = y + x, ∂/∂y = x (n = 2)
    const gx = r.gradients!.get("x")!;
    const gy = r.gradients!.get("y")!;
    expect(gx[0]).toBeCloseTo(4, 12);
    expect(gx[1]).toBeCloseTo(1, 12);
    expect(gy[0]).toBeCloseTo(1, 12);
    expect(gy[1]).toBeCloseTo(2, 12);
    expect(r.errors!.get("x")!.every((e) => e > 0 && e < 1e-10)).toBe(true);
  });

  it("fast mode by default above 10^3 elements, said in the notes, agreeing with a hand dot product", () => {
    const data = Array.from({ length: 1500 }, (_, i) => Math.cos(i));
    const r = leg("mean(x^2)", { x: data });
    expect(r.method).toBe("fast");
    expect(r.gradients).toBeNull();
    expect(r.notes[0]).toMatch(/fast mode: 1500 input elements/);
    const { u, value, error } = r.directional!;
    let want = 0;
    for (let i = 0; i < data.length; i++) want += (u[i]! * 2 * data[i]!) / data.length; // ∂ = 2x/n
    expect(Math.abs(value - want)).toBeLessThanOrEqual(Math.max(error, 1e-17));
    expect(Math.abs(value - want)).toBeLessThan(1e-15);
  });

  it("fast mode: a small vector beside a large one has per-element partials (hand formula), the large one none", () => {
    // f = mean(sin(x²))·Σ v³: ∂f/∂v_k = mean(sin(x²))·3v_k², by hand; x (1500) is past the budget.
    const data = Array.from({ length: 1500 }, (_, i) => Math.cos(i));
    const v = [0.7, -1.3, 2.1];
    const r = leg("mean(sin(x^2))*sum(v^3)", { x: data, v });
    expect(r.method).toBe("fast");
    expect([...r.gradients!.keys()]).toEqual(["v"]);
    expect(r.notes[0]).toMatch(/and per element only v \(/);
    expect(r.directional!.partialsBy).toEqual(["complex"]);
    const m = data.reduce((s, a) => s + Math.sin(a * a), 0) / data.length;
    const g = r.gradients!.get("v")!;
    const e = r.errors!.get("v")!;
    for (let k = 0; k < v.length; k++) {
      const want = m * 3 * v[k]! ** 2;
      // The hand sum's own rounding: 1500 terms of |sin| ≤ 1.
      const slack = 1500 * Number.EPSILON * 3 * v[k]! ** 2;
      expect(Math.abs(g[k]! - want), `v[${k}]`).toBeLessThanOrEqual(e[k]! + slack);
      expect(e[k]!).toBeGreaterThan(0);
      expect(e[k]!).toBeLessThan(1e-12 * Math.abs(want));
    }
  });

  it("fast mode with a custom op: the complex step for uᵀ∇f and every partial, its sensitivities measured once", () => {
    // 300 op elements: past 256, each direction measuring them anew declined to Richardson. Now
    // the 302 directions share one measurement: n evaluations of n elements (n² op calls), one or
    // two evaluations per direction (≤ 2n²), and the op's own finite-difference partials (a few
    // dozen calls per argument and element); Richardson along each direction took ~58n².
    let calls = 0;
    registerUnchecked({
      name: "numeric_leg_hypot",
      arity: 2,
      forward: (a, b) => {
        calls++;
        return Math.hypot(a, b);
      },
      backward: ({ args: [a, b], out, grad }) => [(grad * a!) / out, (grad * b!) / out],
    });
    const n = 300;
    const xs = Array.from({ length: n }, (_, k) => 0.5 + Math.sin(k));
    const w = 0.3;
    calls = 0;
    const r = leg("sum(numeric_leg_hypot(x, w))", { x: xs, w }, "fast");
    expect(calls).toBeLessThanOrEqual(3 * n * n + 200 * n);
    expect(r.directional!.method).toBe("complex");
    expect(r.directional!.partialsBy).toEqual(["complex"]);
    expect(r.unreliable).toBeUndefined();
    // ∂/∂x_k = x_k/hypot(x_k, w), ∂/∂w = Σ w/hypot(x_k, w), by hand.
    const h = xs.map((a) => Math.hypot(a, w));
    const gx = r.gradients!.get("x")!;
    const ex = r.errors!.get("x")!;
    for (let k = 0; k < n; k++)
      expect(Math.abs(gx[k]! - xs[k]! / h[k]!), `x[${k}]`).toBeLessThanOrEqual(ex[k]!);
    const gw = r.gradients!.get("w")![0]!;
    const want = h.reduce((s, a) => s + w / a, 0);
    expect(Math.abs(gw - want)).toBeLessThanOrEqual(r.errors!.get("w")![0]!);
    expect(r.errors!.get("w")![0]!).toBeLessThan(1e-8 * want);
  });

  it("fast mode falls back to Richardson along u for a non-analytic point", () => {
    const data = Array.from({ length: 1200 }, (_, i) => (i === 0 ? 0 : 1 + Math.sin(i) / 2));
    const r = leg("mean(x*abs(x))", { x: data }, "fast");
    expect(r.notes.join()).toMatch(/Richardson extrapolation along u/);
    const { u, value, error } = r.directional!;
    let want = 0;
    for (let i = 0; i < data.length; i++) want += (u[i]! * 2 * Math.abs(data[i]!)) / data.length; // ∂ x|x| = 2|x|
    expect(Math.abs(value - want)).toBeLessThanOrEqual(error);
  });

  it("a non-finite value at the point gives no gradient and says where", () => {
    const r = leg("log(x)", { x: -1 });
    expect(r.gradients).toBeNull();
    expect(r.nonFinite).toMatchObject({ coordinate: -1, step: 0 });
  });

  it("log near 0 through the leg: one-sided recovery is noted, not reported as non-finite", () => {
    const r = leg("log(x)", { x: 1e-3 }, "richardson");
    expect(r.nonFinite).toBeUndefined();
    expect(r.gradients!.get("x")![0]).toBeCloseTo(1000, 6);
    expect(r.notes.join()).toMatch(/^x: f\(x − h·e_0\) = NaN/);
  });

  it("rejects an unknown method", () => {
    try {
      leg("x", { x: 1 }, "magic" as "auto");
      expect.unreachable();
    } catch (e) {
      expect(isGradtrioError(e) && e.code).toBe("INVALID_ARGUMENT");
    }
  });
});

describe("a complex step that gives no finite derivative", () => {
  it("x^y at (−2, 2): not ok (∂/∂y of (−2)^y is NaN), and the leg falls back with a note", () => {
    const { x, layout } = flattenValues(toValues({ x: -2, y: 2 }));
    const r = complexStepGradient(parse("x^y"), layout, x);
    expect(r).toEqual({
      ok: false,
      reason: "complex step does not apply: its derivative along coordinate 1 is NaN",
    });
    const l = leg("x^y", { x: -2, y: 2 });
    expect(l.method).toBe("richardson");
    expect(l.notes).toContain(
      "complex step does not apply: its derivative along coordinate 1 is NaN; used Richardson extrapolation",
    );
    // ∂/∂x x^y = y·x^(y−1) = 2·(−2) = −4
    expect(Math.abs(l.gradients!.get("x")![0]! + 4)).toBeLessThan(1e-8);
  });
});

describe("where f(x) itself is not finite", () => {
  it("reports the method that would have run, never 'auto'", () => {
    const r = leg("log(x)", { x: -1 });
    expect(r.method).toBe("richardson");
    expect(r.nonFinite?.where).toBe("f(x) = NaN at the point itself");
    expect(leg("log(x)", { x: -1 }, "central").method).toBe("central");
    expect(leg("sum(log(x))", { x: new Array(1001).fill(-1) }).method).toBe("fast");
  });
});
