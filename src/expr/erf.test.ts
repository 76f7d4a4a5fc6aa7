import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { erf } from "./erf.ts";

// [x, erf(x) to 60 digits rounded to float64, Python's math.erf(x)]; see the generator
// test/fixtures/erf-reference.py (Python decimal, independent of gradtrio).
const { points } = JSON.parse(
  readFileSync(new URL("../../test/fixtures/erf-reference.json", import.meta.url), "utf8"),
) as { points: [number, number, number][] };

const ulp = (v: number): number =>
  v === 0 ? Number.MIN_VALUE : 2 ** (Math.floor(Math.log2(Math.abs(v))) - 52);

describe("erf", () => {
  it("is within 3 ulps of a 60-digit reference at 314 points in [-6, 6]", () => {
    let worst = 0;
    for (const [x, exact] of points) worst = Math.max(worst, Math.abs(erf(x) - exact) / ulp(exact));
    expect(worst).toBeLessThanOrEqual(3);
  });

  it("is odd, saturates at ±1 and passes NaN", () => {
    expect(erf(-0.7)).toBe(-erf(0.7));
    expect(erf(6)).toBe(1);
    expect(erf(-Infinity)).toBe(-1);
    expect(erf(Number.NaN)).toBeNaN();
    expect(erf(0)).toBe(0);
  });
});
