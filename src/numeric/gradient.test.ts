import { describe, expect, it } from "vitest";
import { failure } from "../../test/failure.ts";
import { isGradtrioError } from "../errors.ts";
import { parse } from "../expr/parse.ts";
import { toValues } from "../expr/point.ts";
import { mulberry32 } from "../random.ts";
import { backwardDifference, centralDifference, forwardDifference } from "./difference.ts";
import { compileForward, flattenValues } from "./evaluate.ts";
import { directionalDerivative, gradient, randomUnitVector } from "./gradient.ts";
import { jvp } from "./jvp.ts";
import { richardson } from "./richardson.ts";

function fOf(text: string, point: Record<string, number | number[]>) {
  const { x, layout } = flattenValues(toValues(point));
  return { f: compileForward(parse(text), layout), x };
}

describe("kinks", () => {
  it.each([
    ["abs(x)", 0, -1, 1],
    ["relu(x)", 0, 0, 1],
    ["clamp(x, 0, 1)", 1, 1, 0],
    ["clamp(x, 0, 1)", 0, 0, 1],
  ])("%s at %d: left %d, right %d", (text, at, left, right) => {
    const { f, x } = fOf(text, { x: at });
    const r = gradient(f, x);
    expect(r.kinks).toHaveLength(1);
    const k = r.kinks[0]!;
    expect(k.coordinate).toBe(0);
    expect(k.left).toBeCloseTo(left, 8);
    expect(k.right).toBeCloseTo(right, 8);
    // The error bound covers every subgradient.
    expect(r.error[0]).toBeGreaterThanOrEqual(Math.abs(left - right) / 2);
  });

  it("finds the kink coordinate inside a vector", () => {
    const { f, x } = fOf("sum(abs(x))", { x: [0.5, 0, -2] });
    const r = gradient(f, x);
    expect(r.kinks.map((k) => k.coordinate)).toEqual([1]);
    expect(r.gradient[0]).toBeCloseTo(1, 12);
    expect(r.gradient[2]).toBeCloseTo(-1, 12);
  });

  it.each([
    ["abs(x)", 0.3],
    ["relu(x)*x", 0],
    ["abs(x)^3", 0],
    ["clamp(x, 0, 1)", 0.5],
    ["clamp(x, 0, 1)", 1.5],
    ["sin(x^2)", 3],
    ["x^2", 0],
  ])("none for %s at %d (smooth there)", (text, at) => {
    const { f, x } = fOf(text, { x: at });
    expect(gradient(f, x).kinks).toEqual([]);
    expect(gradient(f, x, { method: "central" }).kinks).toEqual([]);
  });

  it("plain central differences find kinks too", () => {
    const { f, x } = fOf("abs(x)", { x: 0 });
    expect(gradient(f, x, { method: "central" }).kinks).toHaveLength(1);
  });
});

describe("non-finite stencil points", () => {
  it("log near 0: the steps shrink, the derivative 1/x survives, the shrink is noted", () => {
    const { f, x } = fOf("log(x)", { x: 1e-3 });
    const r = gradient(f, x);
    expect(r.gradient[0]).toBeCloseTo(1000, 6);
    expect(Math.abs(r.gradient[0]! - 1000)).toBeLessThanOrEqual(r.error[0]!);
    expect(r.notes.join()).toMatch(/coordinate 0: f\(x − h·e_0\) = NaN with h = 0\.25/);
  });

  it("a one-sided stencil where one side is never finite", () => {
    // sqrt(x) + log(x - 2)·0... : f = sqrt(x) on x ≥ 1, NaN below 1; at x = 1 only the right side exists.
    const f = (v: Float64Array) => (v[0]! >= 1 ? Math.sqrt(v[0]!) : Number.NaN);
    const r = gradient(f, Float64Array.of(1));
    expect(r.gradient[0]).toBeCloseTo(0.5, 8); // d/dx sqrt(x) = 1/(2 sqrt x)
    expect(Math.abs(r.gradient[0]! - 0.5)).toBeLessThanOrEqual(r.error[0]!);
    expect(r.notes.join()).toMatch(/used a forward stencil/);
    // The value met on the way is reported (fast mode's costly custom ops decide on it).
    expect(r.nonFinite).toEqual([]);
    expect(r.nonFiniteMet).toHaveLength(1);
    expect(r.nonFiniteMet[0]!.coordinate).toBe(0);
  });

  it("reports the coordinate and the step when no stencil is finite", () => {
    const f = (v: Float64Array) => (v[1] === 2 ? v[0]! : Number.NaN);
    const r = gradient(f, Float64Array.of(1, 2));
    expect(r.gradient[0]).toBeCloseTo(1, 12);
    expect(r.gradient[1]).toBeNaN();
    expect(r.error[1]).toBe(Number.POSITIVE_INFINITY);
    expect(r.nonFinite).toHaveLength(1);
    expect(r.nonFinite[0]!.coordinate).toBe(1);
    expect(r.nonFinite[0]!.step).toBe(0.5); // the first step tried: max(1, |2|)/4
    expect(r.nonFinite[0]!.where).toMatch(/e_1/);
  });

  it("a non-finite f(x) is reported at the point, never averaged away", () => {
    const { f, x } = fOf("log(x)", { x: -1 });
    const r = gradient(f, x);
    expect(r.gradient[0]).toBeNaN();
    expect(r.nonFinite[0]!.step).toBe(0);
    expect(r.nonFinite[0]!.where).toMatch(/at the point itself/);
  });

  it("plain differences switch to the other side", () => {
    const f = (v: Float64Array) => (v[0]! >= 1 ? v[0]! ** 2 : Number.NaN);
    const c = centralDifference(f, Float64Array.of(1), 0);
    expect(c.stencil).toBe("forward");
    expect(c.derivative).toBeCloseTo(2, 6);
    expect(c.nonFinite?.step).toBeGreaterThan(0);
  });
});

describe("plain differences and Richardson on hand formulas", () => {
  const cube = (v: Float64Array) => v[0]! ** 3; // d/dx x³ = 3x²
  it.each([
    ["central", centralDifference, 1e-9],
    ["forward", forwardDifference, 1e-6],
    ["backward", backwardDifference, 1e-6],
  ] as const)("%s difference of x^3 at 2 is 12 within its error", (_, fn, tol) => {
    const r = fn(cube, Float64Array.of(2), 0);
    expect(Math.abs(r.derivative - 12)).toBeLessThan(tol);
    expect(Math.abs(r.derivative - 12)).toBeLessThanOrEqual(r.error);
  });

  it("Richardson on exp at 1 is e to ~1e-13 with an honest estimate", () => {
    const r = richardson((v) => Math.exp(v[0]!), Float64Array.of(1), 0);
    expect(Math.abs(r.derivative - Math.E)).toBeLessThan(1e-12);
    expect(Math.abs(r.derivative - Math.E)).toBeLessThanOrEqual(r.error);
    expect(r.error).toBeLessThan(1e-11);
  });

  it("does not modify the caller's x", () => {
    const x = Float64Array.of(1, 2);
    gradient((v) => v[0]! * v[1]!, x);
    expect([...x]).toEqual([1, 2]);
  });

  it("rejects bad input with a GradtrioError", () => {
    const code = (fn: () => unknown) => failure(fn).code;
    expect(code(() => richardson(cube, Float64Array.of(1), 3))).toBe("INVALID_ARGUMENT");
    expect(code(() => gradient(cube, Float64Array.of(Number.NaN)))).toBe("NON_FINITE");
    expect(code(() => gradient(cube, [1] as unknown as Float64Array))).toBe("INVALID_ARGUMENT");
    expect(code(() => gradient(cube, Float64Array.of(1), { method: "nope" as "central" }))).toBe(
      "INVALID_ARGUMENT",
    );
  });
});

describe("honest error estimates (a sample; bench/numeric.bench.ts runs 10^4 points)", () => {
  const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
  const seeds: [
    string,
    (r: () => number) => Record<string, number | number[]>,
    (p: Record<string, unknown>) => number[],
  ][] = [
    ["x^2", (r) => ({ x: 20 * r() - 10 }), (p) => [2 * (p.x as number)]],
    [
      "sin(x^2)",
      (r) => ({ x: 20 * r() - 10 }),
      (p) => [2 * (p.x as number) * Math.cos((p.x as number) ** 2)],
    ],
    [
      "mean(x^2)",
      (r) => ({ x: [20 * r() - 10, 20 * r() - 10, 20 * r() - 10] }),
      (p) => (p.x as number[]).map((v) => (2 * v) / 3),
    ],
    [
      "bce(clamp(sigmoid(w*x+b), 1e-8, 1-1e-8), y)",
      (r) => ({ w: 6 * r() - 3, b: 6 * r() - 3, x: 6 * r() - 3, y: r() }),
      (pt) => {
        const { w, b, x, y } = pt as Record<string, number>;
        const p = sigmoid(w * x + b);
        // dbce/dz = p − y; dbce/dy = log(1 − p) − log p
        return [(p - y) * x, p - y, (p - y) * w, Math.log1p(-p) - Math.log(p)];
      },
    ],
  ];
  it.each(seeds)(
    "%s: the true error is within the estimate on ≥ 99%% of 300 points",
    (text, point, grad) => {
      const rnd = mulberry32(2024);
      let total = 0;
      let honest = 0;
      for (let k = 0; k < 300; k++) {
        const pt = point(rnd);
        const { f, x } = fOf(text, pt);
        const r = gradient(f, x, { kinks: false });
        const want = grad(pt);
        for (let i = 0; i < x.length; i++) {
          total++;
          if (Math.abs(r.gradient[i]! - want[i]!) <= r.error[i]!) honest++;
        }
      }
      expect(honest / total).toBeGreaterThanOrEqual(0.99);
    },
  );
});

describe("fast mode and jvp", () => {
  it("the directional derivative agrees with a hand dot product uᵀ∇f", () => {
    const data = Array.from({ length: 2000 }, (_, i) => Math.sin(i) * 2);
    const { f, x } = fOf("mean(sin(x^2))", { x: data });
    const u = randomUnitVector(x.length, 5);
    const d = directionalDerivative(f, x, u);
    // ∂/∂x_i mean(sin(x²)) = 2 x_i cos(x_i²) / n
    let want = 0;
    for (let i = 0; i < data.length; i++)
      want += (u[i]! * 2 * data[i]! * Math.cos(data[i]! ** 2)) / data.length;
    expect(Math.abs(d.derivative - want)).toBeLessThanOrEqual(d.error);
    expect(d.error).toBeLessThan(1e-10);
    // O(1) in n: noise probes, two interleaved step sequences and the convergence probes
    // below the kept step (n is 2000).
    expect(d.evaluations).toBeLessThan(120);
  });

  it("random unit vectors are unit and reproducible", () => {
    const a = randomUnitVector(100, 9);
    expect(Math.hypot(...a)).toBeCloseTo(1, 14);
    expect([...randomUnitVector(100, 9)]).toEqual([...a]);
    expect([...randomUnitVector(100, 10)]).not.toEqual([...a]);
  });

  it("jvp of (x·y, sin x) along v is the hand Jacobian times v", () => {
    const F = (v: Float64Array) => Float64Array.of(v[0]! * v[1]!, Math.sin(v[0]!));
    const r = jvp(F, Float64Array.of(1, 2), Float64Array.of(0.5, -1));
    // J = [[y, x], [cos x, 0]] at (1, 2): J·v = [2·0.5 − 1, 0.5 cos 1]
    const want = [0, 0.5 * Math.cos(1)];
    for (let c = 0; c < 2; c++) {
      expect(Math.abs(r.value[c]! - want[c]!)).toBeLessThanOrEqual(r.error[c]!);
      expect(Math.abs(r.value[c]! - want[c]!)).toBeLessThan(1e-12);
    }
  });
});

describe("option validation", () => {
  const f = (x: Float64Array) => x[0]! ** 2;
  const x = Float64Array.of(1);
  const invalid = (run: () => unknown, message: string) => {
    let caught: unknown;
    try {
      run();
    } catch (e) {
      caught = e;
    }
    expect(isGradtrioError(caught) && caught.code).toBe("INVALID_ARGUMENT");
    expect((caught as Error).message).toBe(message);
  };
  it("a difference step ≤ 0 or not finite", () => {
    invalid(
      () => centralDifference(f, x, 0, { step: 0 }),
      "centralDifference: step must be a finite number > 0, got 0",
    );
    invalid(
      () => forwardDifference(f, x, 0, { step: -1e-6 }),
      "forwardDifference: step must be a finite number > 0, got -0.000001",
    );
    invalid(
      () => backwardDifference(f, x, 0, { step: Number.NaN }),
      "backwardDifference: step must be a finite number > 0, got NaN",
    );
  });
  it("richardson: firstStep ≤ 0, maxSteps < 2, an unknown stencil", () => {
    invalid(
      () => richardson(f, x, 0, { firstStep: 0 }),
      "richardson: firstStep must be a finite number > 0, got 0",
    );
    invalid(
      () => richardson(f, x, 0, { firstStep: Number.POSITIVE_INFINITY }),
      "richardson: firstStep must be a finite number > 0, got Infinity",
    );
    invalid(
      () => richardson(f, x, 0, { maxSteps: 1 }),
      "richardson: maxSteps must be an integer ≥ 2 (one extrapolation needs two steps), got 1",
    );
    invalid(
      () => richardson(f, x, 0, { stencil: "sideways" as "central" }),
      "richardson: unknown stencil 'sideways' (central, forward, backward)",
    );
    // The smallest valid tableau still extrapolates: d/dx x² = 2 at 1.
    expect(Math.abs(richardson(f, x, 0, { maxSteps: 2 }).derivative - 2)).toBeLessThan(1e-12);
  });
});

describe("jvp without any extrapolated entry", () => {
  it("gives NaN (error ∞), not 0, when F stops being finite after the first step", () => {
    // Finite at x ± 0.25 (the first step), NaN at x ± 0.125: no tableau entry is ever extrapolated.
    const F = (x: Float64Array) => {
      const d = Math.abs(x[0]! - 1);
      return Float64Array.of(d === 0 || d >= 0.2 ? x[0]! ** 2 : Number.NaN);
    };
    const r = jvp(F, Float64Array.of(1), Float64Array.of(1));
    expect(Number.isNaN(r.value[0])).toBe(true);
    expect(r.error[0]).toBe(Number.POSITIVE_INFINITY);
  });
});

describe("one-sided fallback of a plain central difference", () => {
  it("takes the one-sided step sqrt(eps), not the central cbrt(eps)", () => {
    // sqrt(1 + x) on x ≥ 0 only: at x = 1e-6 the central stencil (h ≈ 6e-6) leaves the domain.
    const f = (x: Float64Array) => (x[0]! >= 0 ? Math.sqrt(1 + x[0]!) : Number.NaN);
    const r = gradient(f, Float64Array.of(1e-6), { method: "central", kinks: false });
    // d/dx sqrt(1 + x) = 1/(2 sqrt(1 + x)); with h = cbrt(eps) the truncation is ≈ 7.5e-7.
    const want = 0.5 / Math.sqrt(1 + 1e-6);
    expect(Math.abs(r.gradient[0]! - want)).toBeLessThan(1e-7);
    expect(r.notes[0]).toMatch(/used a forward stencil$/);
  });
});

describe("measured noise of a one-sided tableau at a domain edge", () => {
  // Noise of amplitude 1e-10 (a hash of x's bits) on x, defined for x ≥ 0 only.
  const bits = new Float64Array(1);
  const words = new Uint32Array(bits.buffer);
  const hash = (x: number): number => {
    bits[0] = x;
    let h = (words[0]! ^ Math.imul(words[1]!, 0x9e3779b1)) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
    h ^= h >>> 13;
    return (h >>> 0) / 2 ** 31 - 1;
  };
  const f = (x: Float64Array) => (x[0]! >= 0 ? x[0]! + 1e-10 * hash(x[0]!) : Number.NaN);
  it("is measured on the stencil's side, so the estimate covers the noise (d/dx x = 1)", () => {
    // x < 2^-26: the noise probe at x − 2^-26 is outside the domain.
    for (let t = 0; t < 15; t++) {
      const r = richardson(f, Float64Array.of(t * 1e-9), 0, { stencil: "forward" });
      expect(Math.abs(r.derivative - 1), `x = ${t * 1e-9}`).toBeLessThanOrEqual(r.error);
    }
  });
});

describe("gradient's coordinates option", () => {
  const f = (x: Float64Array) => x[0]! * x[1]! ** 2;
  const x = Float64Array.of(2, 3);

  it("estimates only the coordinates named; the others are 0 with error 0", () => {
    const r = gradient(f, x, { coordinates: [1] });
    // ∂/∂x₁ x₀x₁² = 2x₀x₁ = 12 (by hand)
    expect(r.gradient[1]).toBeCloseTo(12, 10);
    expect([r.gradient[0], r.error[0]]).toEqual([0, 0]);
  });

  it("is bad input, one GradtrioError, for an index out of range or not an array", () => {
    for (const coordinates of [[2], [-1], [0.5]])
      expect(() => gradient(f, x, { coordinates })).toThrow(
        /^gradient: coordinate .* is out of range \(x has 2 elements\)$/,
      );
    expect(() => gradient(f, x, { coordinates: 1 as never })).toThrow(
      "gradient: coordinates must be an array of indices",
    );
  });
});
