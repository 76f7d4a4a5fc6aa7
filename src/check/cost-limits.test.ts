// The cost limits: an explicit per-element method (O(n²) over n input elements) and a Hessian
// (O(n³)) past what runs in seconds are refused in one line, at once; sizes up to them still run.
import { describe, expect, it } from "vitest";
import { failure } from "../../test/failure.ts";
import { CAS_BUDGET_MS } from "../symbolic/cas.ts";
import { check, checkMatrixSize, checkMethodSize } from "./check.ts";

describe("an explicit per-element method on a large input", () => {
  it.each([
    ["richardson", 5000],
    ["central", 10000],
    ["complex", 20000],
  ] as const)("%s runs up to %i input elements and is refused above", (method, limit) => {
    expect(() => checkMethodSize(method, limit)).not.toThrow();
    const e = failure(() => checkMethodSize(method, limit + 1));
    expect(e.code).toBe("INVALID_ARGUMENT");
    expect(e.message).toBe(
      `method ${method} on ${limit + 1} input elements is not run (over ${limit}: it evaluates f over all of them for each element); use --method fast, or the default auto, which takes it above 1000 elements`,
    );
  });

  it("auto and fast have no limit", () => {
    for (const method of ["auto", "fast"] as const)
      expect(() => checkMethodSize(method, 1e8)).not.toThrow();
  });

  it("check refuses one at once, counting every input's elements", () => {
    const x = Array.from({ length: 20000 }, (_, i) => Math.sin(i));
    const t0 = performance.now();
    // x's 20000 and the scalar w: one over complex's limit.
    const e = failure(() => check("mean(sin(x)*w)", { at: { w: 2, x }, method: "complex" }));
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(e.message).toMatch(/^method complex on 20001 input elements is not run \(over 20000/);
  });

  it("above the fast-mode size an explicit method still differentiates every element", () => {
    const x = Array.from({ length: 1001 }, (_, i) => i / 1001);
    const r = check("mean(sin(x)*w)", { at: { w: 2, x }, method: "complex" });
    expect(r.method).toBe("complex");
    expect(r.verdict).toBe("agree");
    // ∂/∂x_k = w cos(x_k) / n, the hand formula.
    const g = r.gradients.x!.numeric as number[];
    for (const k of [0, 500, 1000])
      expect(Math.abs(g[k]! - (2 * Math.cos(x[k]!)) / 1001)).toBeLessThanOrEqual(1e-15);
  });
});

describe("a Hessian's size", () => {
  it("256×256 is checked, 257×257 refused", () => {
    expect(() => checkMatrixSize("Hessian", 256, 256)).not.toThrow();
    const e = failure(() => checkMatrixSize("Hessian", 257, 257));
    expect(e.code).toBe("INVALID_ARGUMENT");
    expect(e.message).toBe(
      "a Hessian of 257×257 entries is not checked (over 65536: its cost grows as the cube of the input elements); check the gradient (order 1) or fewer inputs",
    );
  });

  it("a Jacobian keeps its 4·10⁶ entries", () => {
    expect(() => checkMatrixSize("Jacobian", 2000, 2000)).not.toThrow();
    expect(failure(() => checkMatrixSize("Jacobian", 2000, 2001)).message).toMatch(
      /^a Jacobian of 2000×2001 entries is not checked \(over 4000000: each leg's is dense\)/,
    );
  });

  it("check refuses a Hessian of 257 inputs at once", () => {
    const x = Array.from({ length: 257 }, (_, i) => i / 257);
    const t0 = performance.now();
    const e = failure(() => check("sum(x^3)", { at: { x }, order: 2 }));
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(e.message).toMatch(/^a Hessian of 257×257 entries is not checked \(over 65536/);
  });
});

describe("the symbolic leg within the CAS's time budget", () => {
  /** a₀ = x; aₖ = aₖ₋₁^x + sin(aₖ₋₁)·cos(aₖ₋₁): written out, 3ᵏ copies of a₀. */
  const chain = (n: number): string => {
    let text = "a0 = x";
    for (let k = 1; k <= n; k++) text += `; a${k} = a${k - 1}^x + sin(a${k - 1})*cos(a${k - 1})`;
    return `${text}; a${n}`;
  };
  /** d aₙ/dx by hand: (a^x)' = a^x·(ln a + x·a'/a), (sin a·cos a)' = cos(2a)·a'. */
  const byHand = (n: number, x: number): number => {
    let [a, da] = [x, 1];
    for (let k = 1; k <= n; k++)
      [a, da] = [
        a ** x + Math.sin(a) * Math.cos(a),
        a ** x * (Math.log(a) + (x * da) / a) + Math.cos(2 * a) * da,
      ];
    return da;
  };

  it("composes a block nerdamer cannot derive whole in time: three legs, bounded time", () => {
    // Whole, nerdamer took 57 s on a6 and did not finish a8 in 120 s.
    for (const n of [6, 8]) {
      const t0 = performance.now();
      const r = check(chain(n), { at: { x: 0.7 } });
      expect(performance.now() - t0).toBeLessThan(CAS_BUDGET_MS + 8000);
      expect(r.verdict).toBe("agree");
      expect(r.legs.symbolic.status).toBe("ok");
      const g = r.gradients!.x!;
      expect(g.symbolic as number).toBeCloseTo(byHand(n, 0.7), 12);
      expect(g.formula).toBeNull();
      expect(r.notes).toContain(
        `symbolic: nerdamer did not finish the derivative whole in ${CAS_BUDGET_MS / 1000} s, so the leg composed each op's CAS derivative by the chain rule (no formula shown)`,
      );
    }
  });
});
