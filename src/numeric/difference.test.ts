// A plain difference quotient's error estimate compares two steps, h and 2h; where the step is not
// small against the scale on which f varies, the two may agree by chance while both are far off.
// Quotients at h/2, h/4, h/8 that do not converge mark the estimate unreliable.
import { describe, expect, it } from "vitest";
import { centralDifference, forwardDifference } from "./difference.ts";
import { gradient } from "./gradient.ts";

describe("a central difference whose step spans a period of f", () => {
  // sin(1e6·x) at 0.3 with h = cbrt(eps) ≈ 6.1e-6 (1e6·h ≈ 6 rad): d/dx = 1e6·cos(3e5).
  const f = (v: Float64Array) => Math.sin(1e6 * v[0]!);
  const truth = 1e6 * Math.cos(3e5);

  it("is unreliable, not certified ± 6.4e2 while 1e6 off", () => {
    const r = centralDifference(f, Float64Array.of(0.3), 0);
    expect(Math.abs(r.derivative - truth)).toBeGreaterThan(9e5);
    expect(r.unreliable).toMatch(/^the difference quotients do not converge as the step shrinks/);
    // The error covers the quotients' spread (tens of thousands), never less than the old estimate.
    expect(r.error).toBeGreaterThan(7e4);
  });

  it("gradient by method central reports the coordinate as unreliable", () => {
    const g = gradient(f, Float64Array.of(0.3), { method: "central", kinks: false });
    expect(g.unreliable.map((u) => u.coordinate)).toEqual([0]);
  });
});

describe("where the step is small against f's scale, the estimate stands", () => {
  it.each([
    // name, f, x, d/dx by hand
    ["exp at 1", (v: Float64Array) => Math.exp(v[0]!), 1, Math.E],
    ["sin(3x) at 0.4", (v: Float64Array) => Math.sin(3 * v[0]!), 0.4, 3 * Math.cos(1.2)],
    ["x^3 at 2", (v: Float64Array) => v[0]! ** 3, 2, 12],
    ["x at 5 (no truncation: rounding only)", (v: Float64Array) => v[0]!, 5, 1],
    ["log at 1e-3", (v: Float64Array) => Math.log(v[0]!), 1e-3, 1e3],
  ])("%s: certified, and within its error", (_, f, x, want) => {
    for (const fn of [centralDifference, forwardDifference]) {
      const r = fn(f, Float64Array.of(x), 0);
      expect(r.unreliable).toBeUndefined();
      expect(Math.abs(r.derivative - want)).toBeLessThanOrEqual(r.error);
    }
  });
});
