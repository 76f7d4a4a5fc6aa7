import { describe, expect, it } from "vitest";
import { estimateOnLine } from "./gradient.ts";
import { coordinateLine } from "./line.ts";
import { richardson } from "./richardson.ts";
import type { Estimate } from "./types.ts";

/** Richardson's estimate of f' at x, as the numeric leg takes it. */
const at = (f: (x: number) => number, x: number) =>
  estimateOnLine(
    coordinateLine((v) => f(v[0]!), Float64Array.of(x), 0),
    "richardson",
  ) as Estimate;

describe("richardson's reused workspace", () => {
  it("survives an extrapolation started from inside f (a forward that itself differentiates)", () => {
    let innerCalls = 0;
    // sin(x), plus 0 × a derivative of exp taken during each evaluation.
    const f = (x: Float64Array) => {
      const inner = richardson((y) => Math.exp(y[0]!), Float64Array.of(x[0]!), 0);
      innerCalls++;
      expect(Math.abs(inner.derivative - Math.exp(x[0]!))).toBeLessThanOrEqual(inner.error);
      return Math.sin(x[0]!) + 0 * inner.derivative;
    };
    const r = richardson(f, Float64Array.of(0.7), 0);
    expect(innerCalls).toBeGreaterThan(20);
    expect(r.unreliable).toBeUndefined();
    expect(r.error).toBeLessThan(1e-12);
    expect(Math.abs(r.derivative - Math.cos(0.7))).toBeLessThanOrEqual(r.error);
  });

  it("takes tableaux longer than its first allocation (64 rows)", () => {
    // f = 0 never reaches the rounding stop: every one of the 100 rows is taken, in both sequences
    // (1 + 9 noise probes + 2 × 100 × 2 stencil points + 9 verification probes = 419 evaluations).
    const r = richardson(() => 0, Float64Array.of(0), 0, { maxSteps: 100 });
    expect(r.derivative).toBe(0);
    expect(r.evaluations).toBe(419);
  });
});

describe("richardson along a coordinate far smaller than its steps", () => {
  it("is unreliable where the steps span a pole at 0 (π/x at 1.09e-11: it read 251 ± 3.8e12)", () => {
    const x = 1.0931871967508465e-11;
    const r = at((v) => Math.PI / v, x);
    // The truth, −π/x² ≈ −2.6e22, is far outside the estimate: the estimate says so itself.
    expect(Math.abs(r.derivative + Math.PI / (x * x))).toBeGreaterThan(100 * r.error);
    expect(r.unreliable).toMatch(
      /^the steps \(1\.3e-1\) span 0 from x = 1\.093e-11, and at a step of \|x\|\/2 the derivative reads -3\.50509e\+22/,
    );
  });

  it("stays reliable where f is smooth across 0 (the quotient at |x|/2 agrees)", () => {
    for (const [f, d, x] of [
      [(v: number) => Math.cos(v) + v, (v: number) => 1 - Math.sin(v), 1e-11],
      [Math.sin, Math.cos, -3e-12],
      [Math.exp, Math.exp, 2e-9],
      [(v: number) => v * v * v, (v: number) => 3 * v * v, 5e-10],
      // Subnormal: |x|/2 does not move x (0/0 tells nothing).
      [(v: number) => Math.cos(v) + v, (v: number) => 1 - Math.sin(v), 5e-324],
      [(v: number) => Math.cos(v) + v, (v: number) => 1 - Math.sin(v), -5e-324],
    ] as const) {
      const r = at(f, x);
      expect(r.unreliable, `${f} at ${x}`).toBeUndefined();
      expect(Math.abs(r.derivative - d(x))).toBeLessThanOrEqual(r.error);
    }
  });
});

describe("richardson where its first steps span a pole away from 0", () => {
  it("starts again below the scale where f changes by a part of itself: a derivative its error covers", () => {
    // Steps from 0.25 past the pole read ≈ 1/h² and agree with each other (1/(x − 1e-9) at 2e-9
    // read 80 ± 1.3e10 for −1e18, its |x|/2 probe landing on the pole); derivatives by hand.
    for (const [f, d, x] of [
      [(v: number) => 1 / (v - 1e-9), (v: number) => -1 / (v - 1e-9) ** 2, 2e-9],
      [(v: number) => 1 / (v - 1e-9) - 1e9, (v: number) => -1 / (v - 1e-9) ** 2, 2e-9],
      [(v: number) => 1 / (v - 1), (v: number) => -1 / (v - 1) ** 2, 1.000000001],
      [(v: number) => 1 / (v * v - 1e-18), (v: number) => (-2 * v) / (v * v - 1e-18) ** 2, 2e-9],
    ] as const) {
      const r = at(f, x);
      expect(r.unreliable, `${f} at ${x}`).toBeUndefined();
      expect(Math.abs(r.derivative - d(x)), `${f} at ${x}`).toBeLessThanOrEqual(r.error);
      expect(r.error, `${f} at ${x}`).toBeLessThan(1e-4 * Math.abs(d(x)));
    }
  });

  it("never gives a number its error does not cover, at any distance from a pole (or is unreliable)", () => {
    // Odd and even poles and a logarithmic one, 10^-2 … 10^-13 from x on either side; the steps
    // start at 0.25 and span the pole for most. Derivatives by hand.
    const families = [
      [(t: number) => 1 / t, (t: number) => -1 / t ** 2],
      [(t: number) => 1 / t ** 2, (t: number) => -2 / t ** 3],
      [(t: number) => Math.log(Math.abs(t)), (t: number) => 1 / t],
    ] as const;
    let certified = 0;
    for (const [f, d] of families)
      for (const a of [1, 1e-9])
        for (let e = 2; e <= 13; e += 0.5)
          for (const side of [1, -1]) {
            const x = a + side * 10 ** -e;
            const r = at((v) => f(v - a), x);
            if (r.unreliable !== undefined) continue;
            certified++;
            const truth = d(x - a);
            expect(
              Math.abs(r.derivative - truth),
              `${f} at ${x} (pole at ${a})`,
            ).toBeLessThanOrEqual(r.error + 1e-14 * Math.abs(truth));
          }
    expect(certified).toBeGreaterThan(100);
  });

  it("is unreliable where no step float64 resolves stays clear of the pole (one ulp from x)", () => {
    const r = at((v) => 1 / (v - (1 + 2 ** -52)), 1);
    // f(1) = −2^52 ≈ −4.5e15; it flips sign across the pole, by 2^53 ≈ 9.0e15 or more, at every
    // spacing down to the smallest, 2^-40 ≈ 9.1e-13 (the scale is max(1, |x|) = 1).
    expect(r.unreliable).toMatch(
      /^f is not resolved by float64 here: it moves by 9\.\de\+15 \(of 4\.5e\+15\) at every spacing down to 9\.1e-13, as noise or faster than any step$/,
    );
  });
});
