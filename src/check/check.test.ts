import { describe, expect, it } from "vitest";
import { defineOp } from "../autograd/define-op.ts";
import { parse } from "../expr/parse.ts";
import { toValue } from "../expr/point.ts";
import { check, parseCached, runLeg } from "./check.ts";
import { outcome } from "./outcome.ts";

// The caches of check() (parsed text, CAS formulas, compiled programs) must never serve a stale
// answer: each test repeats a text under a changed condition and expects the hand value.
describe("check() caches", () => {
  it("parses a text once and returns the same Expr", () => {
    expect(parseCached("sin(x^2) + 1")).toBe(parseCached("sin(x^2) + 1"));
    expect(parseCached("sin(x^2) + 1")).toEqual(parse("sin(x^2) + 1"));
  });

  it("same text, different shapes: mean(x^2) is 2x/n for each n", () => {
    const a = check("mean(x^2)", { at: { x: [1, 2, 3] } });
    const b = check("mean(x^2)", { at: { x: [1, 2] } });
    const c = check("mean(x^2)", { at: { x: 3 } });
    expect(a.verdict).toBe("agree");
    expect(a.gradients.x!.symbolic).toEqual([2 / 3, 4 / 3, 2]);
    expect(b.gradients.x!.symbolic).toEqual([1, 2]);
    expect(c.gradients.x!.symbolic).toBe(6);
    expect(a.gradients.x!.formula).not.toBe(b.gradients.x!.formula);
  });

  it("same text, different branch: abs and clamp take the active branch at each point", () => {
    expect(check("abs(x)*x", { at: { x: 2 } }).gradients.x!.symbolic).toBe(4); // 2|x|
    expect(check("abs(x)*x", { at: { x: -2 } }).gradients.x!.symbolic).toBe(4);
    const r = check("sum(clamp(x, -1, 1)^2)", { at: { x: [0.5, 2, -3] } });
    expect(r.verdict).toBe("agree");
    expect(r.gradients.x!.symbolic).toEqual([1, 0, 0]); // 2x inside, 0 where clamped
    const s = check("sum(clamp(x, -1, 1)^2)", { at: { x: [2, 0.25, -0.5] } });
    expect(s.gradients.x!.symbolic).toEqual([0, 0.5, -1]);
    expect(check("relu(x)", { at: { x: -1 } }).gradients.x!.symbolic).toBe(0);
    expect(check("relu(x)", { at: { x: 1 } }).gradients.x!.symbolic).toBe(1);
  });

  it("a custom op registered anew (same source, another closure) is used at once", () => {
    const scaled = (k: number) => ({
      name: "cacheScaleOp",
      arity: 1,
      forward: (a: number) => k * a * a,
      backward: ({ args, grad }: { args: readonly number[]; grad: number }) => [
        2 * k * args[0]! * grad,
      ],
      formula: (u: string) => `${k}*${u}^2`,
    });
    defineOp(scaled(2));
    const a = check("cacheScaleOp(x)", { at: { x: 3 } });
    expect(a.verdict).toBe("agree");
    expect(a.gradients.x).toMatchObject({ symbolic: 12, autograd: 12 }); // d(2x²) = 4x
    defineOp(scaled(5));
    const b = check("cacheScaleOp(x)", { at: { x: 3 } });
    expect(b.verdict).toBe("agree");
    expect(b.gradients.x).toMatchObject({ symbolic: 30, autograd: 30 }); // d(5x²) = 10x
    expect(b.gradients.x!.numeric).toBeCloseTo(30, 6);
    expect(b.value).toBe(45);
  });

  it("the formulas of a report are its own: changing them leaves the next report alone", () => {
    const a = check("sin(x^2)", { at: { x: 3 } });
    (a.gradients.x as { formula: string | null }).formula = "changed";
    expect(check("sin(x^2)", { at: { x: 3 } }).gradients.x!.formula).toBe("2*x*cos(x^2)");
  });

  it("a cancellation needs the rounding bounds, computed for the failing elements only", () => {
    // ∂/∂x of sin(x)^2 + cos(x)^2 is 0 up to rounding in its terms, at every element.
    const r = check("sum(sin(x)^2 + cos(x)^2)", { at: { x: [0.3, 1.1, 2.5, -4] } });
    expect(r.verdict).toBe("agree");
    // The seeds' BCE at the point where its ∂/∂y cancels (p ≈ 1/2).
    const s = check("mean(bce(sigmoid(w*x+b), y))", {
      at: { w: 0.5, b: -0.2, x: [0.4000001, 0.39999, 1.5], y: [1, 0, 0.3] },
    });
    expect(s.verdict).toBe("agree");
  });

  it("still catches a planted fault after the formulas are cached", () => {
    defineOp({
      name: "cacheBadSquare",
      arity: 1,
      forward: (a) => a * a,
      backward: ({ args, grad }) => [2 * args[0]! * grad * (1 + 1e-6)],
      formula: (u) => `${u}^2`,
    });
    for (const x of [0.5, 1.5, -2]) {
      const r = check("cacheBadSquare(x) + x", { at: { x } });
      expect(r).toMatchObject({ verdict: "disagree", blame: "autograd" });
    }
  });
});

describe("fast mode blames a leg", () => {
  // log2 with a backward 1e-6 too large (relative) and a correct formula.
  defineOp({
    name: "fastBadLog2",
    arity: 1,
    forward: (a) => Math.log(a) / Math.LN2,
    backward: ({ args: [a], grad }) => [(grad / (a! * Math.LN2)) * (1 + 1e-6)],
    formula: (u) => `log(${u})/log(2)`,
    domain: [[0, Number.POSITIVE_INFINITY]],
  });

  it("method fast at a scalar point: disagree, blame autograd", () => {
    const r = check("fastBadLog2(x)", { at: { x: 3 }, method: "fast" });
    expect(r.method).toBe("fast");
    expect(r).toMatchObject({ verdict: "disagree", blame: "autograd" });
    // 1/(3 ln 2), by hand.
    expect(r.gradients.x!.symbolic as number).toBeCloseTo(1 / (3 * Math.LN2), 14);
  });

  it("auto above 1000 elements (2000): disagree, blame autograd", () => {
    const xs = Array.from({ length: 2000 }, (_, i) => 1 + i / 1000);
    const r = check("sum(fastBadLog2(x))", { at: { x: xs } });
    expect(r.method).toBe("fast");
    expect(r).toMatchObject({ verdict: "disagree", blame: "autograd" });
  });

  // a·t whose backward leaves t out (0), as one for data that needs no gradient may.
  defineOp({
    name: "fastScaleByData",
    arity: 2,
    forward: (a, t) => a * t,
    backward: ({ args: [, t], grad }) => [t! * grad, 0],
    formula: (u, v) => `${u}*${v}`,
  });
  const xs = Array.from({ length: 1500 }, (_, i) => Math.sin(i));
  const ts = Array.from({ length: 1500 }, (_, i) => 1 + (i % 7));
  const expr = "mean(fastScaleByData(sin(x), t)) + w*mean(x)";

  it("with wrt, u and the per-element partials keep to the inputs differentiated", () => {
    // Without wrt, ∂/∂t is compared too (in uᵀ∇f): the rule that leaves it out is wrong there.
    expect(check(expr, { at: { x: xs, t: ts, w: 0.5 } })).toMatchObject({
      verdict: "disagree",
      blame: "autograd",
    });
    const r = check(expr, { at: { x: xs, t: ts, w: 0.5 }, wrt: ["x"] });
    expect(r.method).toBe("fast");
    expect(r.verdict).toBe("agree");
    // ∂/∂x_k = (cos x_k · t_k + w)/n by hand; numeric agrees with autograd along u (over x alone).
    expect(Object.keys(r.gradients)).toEqual(["x"]);
    const hand = xs.map((x, k) => (Math.cos(x) * ts[k]! + 0.5) / 1500);
    const d = r.directional!;
    const autograd = r.gradients.x!.autograd as number[];
    for (const k of [0, 700, 1499]) expect(autograd[k]).toBeCloseTo(hand[k]!, 15);
    expect(Math.abs(d.numeric! - d.autograd!)).toBeLessThanOrEqual(d.numericError!);
    // w is not differentiated: no partial of it (it would be "fast mode: w per element").
    expect(r.notes.join(" ")).not.toMatch(/per element by/);
  });
});

describe("check() validates method and seed", () => {
  it("rejects an unknown method instead of swallowing the numeric leg's error", () => {
    const bad = () => check("x^2", { at: { x: 1 }, method: "nope" as "auto" });
    expect(bad).toThrow(
      'method must be one of auto, richardson, central, complex, fast, got "nope"',
    );
    try {
      bad();
    } catch (e) {
      expect((e as { code: string }).code).toBe("INVALID_ARGUMENT");
    }
  });
  it("rejects a seed that is not a non-negative integer", () => {
    for (const [seed, shown] of [
      [-1, "-1"],
      [1.5, "1.5"],
      [Number.NaN, "NaN"],
      ["7", '"7"'],
    ] as const)
      expect(() => check("x^2", { at: { x: 1 }, method: "fast", seed: seed as number })).toThrow(
        `seed must be a non-negative integer, got ${shown}`,
      );
    expect(check("x^2", { at: { x: 1 }, method: "fast", seed: 0 }).verdict).toBe("agree");
  });
  it("refuses an unknown option, naming it and the one meant (a typo is not ignored)", () => {
    // With wrt: ["x"] ignored, y would be differentiated too; the typo must not pass silently.
    expect(() => check("sin(x)*y", { at: { x: 1, y: 2 }, wtr: ["x"] } as never)).toThrow(
      "check: unknown option 'wtr' (did you mean 'wrt'?; known: at, rtol, atol, method, seed, wrt, dtype, order, onGradients)",
    );
    expect(() => check("sin(x)", { at: { x: 1 }, colour: 1 } as never)).toThrow(
      "check: unknown option 'colour' (known: at,",
    );
  });
});

describe("check() by Richardson beside a pole", () => {
  it("1/(x − 1e-9) at 2e-9: three legs agree (the finite differences had read 80 and were outvoted)", () => {
    const r = check("1/(x-1e-9)", { at: { x: 2e-9 }, method: "richardson" });
    expect(r.verdict).toBe("agree");
    const g = r.gradients.x!;
    // d/dx 1/(x − a) = −1/(x − a)², by hand
    const truth = -1 / (2e-9 - 1e-9) ** 2;
    expect(Math.abs((g.numeric as number) - truth)).toBeLessThanOrEqual(g.numericError as number);
  });
});

describe("toValue error paths", () => {
  it("names the element", () => {
    expect(() =>
      toValue(
        [
          [1, 2],
          [3, "a"],
        ],
        "A",
      ),
    ).toThrow('A[1][1]: expected a number, got "a"');
    expect(() => toValue([1, Number.NaN], "x")).toThrow("x[1]: NaN is not a finite number");
    expect(() => toValue([[1, 2], [3]], "A")).toThrow(
      "A[1]: not a rectangular array (expected 2 elements at depth 1)",
    );
    expect(() => toValue([1, [2]], "x")).toThrow("x[1]: expected a number, got an array");
    expect(() => toValue(Number.POSITIVE_INFINITY, "s")).toThrow(
      "s: Infinity is not a finite number",
    );
    expect(
      toValue([
        [1, 2],
        [3, 4],
      ]).data,
    ).toEqual(Float64Array.of(1, 2, 3, 4));
  });
});

// The symbolic leg's formula is the CAS's arrangement, which may cancel or lose digits where the
// expression's structure does not: its own rounding bound and accurate evaluation keep it honest.
describe("check() with the symbolic leg's own rounding", () => {
  it("agrees on a composed lerp whose CAS gradient x*(x-1)-x+1 cancels to (1-x)²", async () => {
    await import("../../test/fixtures/ops/third-arg.ok.ts");
    for (const src of ["lerpOk(lerpOk(y, x, x), x, x)", "lerpOk(lerpOk(y, 0, x), 0, x)"]) {
      const r = check(src, { at: { y: 0.5, x: 0.995 } });
      expect({ src, verdict: r.verdict }).toEqual({ src, verdict: "agree" });
      expect(r.gradients.y!.formula).toBe("x*(x-1)-x+1");
      // (1 - 0.995)² = 2.5e-5, by hand.
      expect(r.gradients.y!.symbolic as number).toBeCloseTo(2.5e-5, 15);
    }
  });

  it("agrees on log(log1p(y)) at y ≈ 1e-11 and cos(log1p(x)) at x ≈ 1.6e-131", () => {
    const y = 9.821554046331842e-12;
    const a = check("log(log1p(y))", { at: { y } });
    expect(a.verdict).toBe("agree");
    // 1/((1+y)·log1p(y)) = 1/y - 1/2 + O(y).
    expect(Math.abs((a.gradients.y!.symbolic as number) - (1 / y - 0.5))).toBeLessThan(1e-4);
    const x = 1.5657766208095088e-131;
    const b = check("cos(log1p(x))", { at: { x } });
    expect(b.verdict).toBe("agree");
    expect(b.gradients.x!.symbolic).toBe(-x); // -sin(log1p x)/(1+x) = -x to 1e-131
  });

  it("still blames a wrong CAS formula that no rounding explains", () => {
    defineOp({
      name: "lerpWrongFormula",
      arity: 3,
      forward: (a, b, t) => a + t * (b - a),
      backward: ({ args: [a, b, t], grad }) => [grad * (1 - t!), grad * t!, grad * (b! - a!)],
      // 1e-6 off in the weight of a: d/da is (1 - t) + 1e-6.
      formula: (a, b, t) => `(${a})*(1+1/1000000)+(${t})*((${b})-(${a}))`,
    });
    const r = check("lerpWrongFormula(lerpWrongFormula(y, x, x), x, x)", {
      at: { y: 0.5, x: 0.995 },
    });
    // The formula is 1e-6 of a off the forward: found by value at the inner call, 0.5·(1 + 1e-6)
    // + 0.995·(0.995 - 0.5) = 0.9925255 for 0.992525; the CAS has no vote, and numeric confirms
    // autograd's (1 - x)² at y.
    expect(r).toMatchObject({ verdict: "agree", blame: null });
    expect(r.legs.symbolic.unreliable).toBe(true);
    expect(r.reason).toContain(
      "custom op 'lerpWrongFormula': its formula gives 0.9925255 where its forward gives 0.992525 at y = 0.5, x = 0.995, x = 0.995,",
    );
    expect(r.gradients.y!.numeric).toBeCloseTo((1 - 0.995) ** 2, 15);
    // Where the CAS itself is wrong (the root of a square taken as x: 0.995 for -0.995), no
    // rounding bound of its own excuses it.
    expect(check("sqrt(x^2)*y", { at: { x: -2, y: 0.995 } })).toMatchObject({
      verdict: "disagree",
      blame: "symbolic",
    });
  });
});

describe("check() onGradients", () => {
  it("hands over each leg's gradients as the leg finishes: the report's arrays", () => {
    const seen: [string, Readonly<Record<string, unknown>>][] = [];
    const r = check("sum(sin(x)*y)", {
      at: { x: [1, 3], y: 2 },
      onGradients: (leg, g) => seen.push([leg, g]),
    });
    expect(seen.map(([leg]) => leg)).toEqual(["autograd", "symbolic", "numeric"]);
    for (const [leg, g] of seen) {
      expect(Object.keys(g)).toEqual(["x", "y"]);
      for (const name of ["x", "y"] as const)
        expect(g[name]).toBe(r.gradients[name]![leg as "autograd" | "symbolic" | "numeric"]);
    }
    // d/dx_i Σ sin(x)·y = y cos x_i (by hand)
    expect(r.gradients.x!.autograd).toEqual([2 * Math.cos(1), 2 * Math.cos(3)]);
    expect(r.gradients.y!.symbolic).toBeCloseTo(Math.sin(1) + Math.sin(3), 14);
  });
  it("is bad input when not a function", () => {
    expect(() => check("x", { at: { x: 1 }, onGradients: 5 as never })).toThrow(
      "check: onGradients must be a function",
    );
  });
});

describe("a custom op over a long vector", () => {
  defineOp({
    name: "longCube",
    arity: 1,
    forward: (a) => a * a * a,
    backward: ({ args: [a], grad }) => [3 * a! * a! * grad],
    formula: (u) => `(${u})^3`,
  });

  it("is checked in linear time: past 256 custom op elements fast mode goes by Richardson, not one evaluation per element", () => {
    const n = 50_000;
    const x = Array.from({ length: n }, (_, i) => Math.sin(i) * 2);
    const r = check("mean(longCube(x))", { at: { x } });
    expect(r.verdict).toBe("agree");
    expect(r.method).toBe("fast");
    expect(r.notes.join("\n")).toContain(
      "complex step not taken: 50000 custom op elements for 1 direction (bounding their partials' error takes an evaluation each, once for all directions: past 256 per direction Richardson costs less); fast mode by Richardson extrapolation along u",
    );
    // Richardson's estimate along u, beside the exact legs' uᵀ∇f (∂/∂xᵢ = 3xᵢ²/n).
    const d = r.directional!;
    expect(Math.abs(d.numeric - d.symbolic!)).toBeLessThan(1e-9);
    expect(d.numericError).toBeLessThan(1e-8);
  }, 60_000);

  it("near a domain edge, where Richardson along u meets a value that is not finite, by the complex step after all", () => {
    defineOp({
      name: "longLog",
      arity: 1,
      forward: (a) => Math.log(a),
      backward: ({ args: [a], grad }) => [grad / a!],
      formula: (u) => `log(${u})`,
      domain: [[0, Number.POSITIVE_INFINITY]],
    });
    defineOp({
      name: "longLogBug",
      arity: 1,
      forward: (a) => Math.log(a),
      backward: ({ args: [a], grad }) => [(grad / a!) * (a! > 1.5 ? 1.001 : 1)],
      formula: (u) => `log(${u})`,
      domain: [[0, Number.POSITIVE_INFINITY]],
    });
    // 1100 elements (too many for per-element partials: uᵀ∇f is the one direction), every 50th at
    // 1e-12: a step along u leaves the domain there.
    const x = Array.from({ length: 1100 }, (_, i) => (i % 50 === 0 ? 1e-12 : 1 + Math.sin(i) ** 2));
    const ok = check("sum(longLog(x))", { at: { x } });
    expect(ok.directional!.partialsBy).toEqual([]);
    expect(ok.verdict).toBe("agree");
    expect(ok.notes.join("\n")).toContain(
      "Richardson along u met a value that is not finite; fast mode by the complex step along u",
    );
    // The planted bug is caught as below 256 elements (it was inconclusive: f(x + h·u) = NaN).
    expect(check("sum(longLogBug(x))", { at: { x } }).verdict).toBe("disagree");
  });

  it("below that, by the complex step", () => {
    const x = Array.from({ length: 100 }, (_, i) => Math.cos(i));
    const r = check("mean(longCube(x))", { at: { x }, method: "fast" });
    expect(r.verdict).toBe("agree");
    expect(r.notes).toContain("fast mode by the complex step along u");
  });
});

describe("a leg whose call stack runs out", () => {
  it("says so in one clear line, not RangeError's own words", () => {
    const deep = (n: number): number => (n === 0 ? 0 : 1 + deep(n - 1));
    const { result, report } = runLeg(() => deep(1e7));
    expect(result).toBeNull();
    expect(report).toMatchObject({
      status: "error",
      reason: "the expression is nested too deeply for this leg (JavaScript's call stack ran out)",
      cause: { code: "INTERNAL" },
    });
  });
});

// nerdamer reads sqrt(u²) as u (src/symbolic/defects.ts, power-of-a-square): formula +s·1 at
// x = −2, where d/dx sqrt(x²)·s = s·sign(x) = −s. The complex step's estimate was ≈1.4e-14 at any
// scale of f (the sum x·x's rounding at its own scale), so below s ≈ 1e-13 it could not tell −s
// from +s and the check exited 1 on correct code; it now scales with f, and decides.
describe("a CAS defect where f is tiny: the complex step still decides", () => {
  for (const [src, slope] of [
    ["sqrt(x^2)", 1],
    ["sqrt(x*x)", 1],
    ["sqrt(4*x^2)", 2],
  ] as const)
    for (const s of [1, 1e-14, 1e-20, 1e-100])
      it(`${src}*${s} at x = −2: the symbolic leg outvoted, exit 0`, () => {
        const r = check(`${src}*${s}`, { at: { x: -2 } });
        const want = -slope * s; // by hand
        expect(r).toMatchObject({ verdict: "disagree", blame: "symbolic" });
        expect(outcome(r)).toBe("pass");
        expect(r.reason).toMatch(/the opposite sign: a defect of the CAS/);
        const g = r.gradients.x!;
        expect(g.autograd).toBe(want);
        expect(g.symbolic).toBe(-want);
        expect(Math.abs((g.numeric as number) - want)).toBeLessThanOrEqual(
          g.numericError as number,
        );
        expect(g.numericError as number).toBeLessThan(1e-13 * s);
      });
});
