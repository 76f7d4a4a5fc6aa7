import { describe, expect, it } from "vitest";
import { richardson } from "./richardson.ts";

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
