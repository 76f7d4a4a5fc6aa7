import { describe, expect, it } from "vitest";
import { scaledNarrowBug } from "../../test/fixtures/ops/tensor/scaled-narrow.bug.ts";
import { registerUnchecked } from "../../test/register-op.ts";
import type { TensorOpDefinition } from "../expr/ops.ts";
import { fuzz } from "./fuzz.ts";
import {
  backwardDeviation,
  formulaDerivatives,
  screen,
  sweepPoints,
  tensorScreen,
} from "./sweep.ts";

// x·y on (-4, 4)², its ∂/∂x 5% too large where x ∈ (1, 1.4) and y ∈ (-0.4, 0.4): 5% of x's range
// times 10% of y's, 0.5% of the domain.
const narrow2 = registerUnchecked({
  name: "sweepTestNarrow2",
  arity: 2,
  forward: (x, y) => x * y,
  backward: ({ args: [x, y], grad }) => [
    grad * y! * (x! > 1 && x! < 1.4 && y! > -0.4 && y! < 0.4 ? 1.05 : 1),
    grad * x!,
  ],
  formula: (x, y) => `(${x})*(${y})`,
});
// A correct relu with no formula: its kink at 0 must not be taken for a fault.
const relu = registerUnchecked({
  name: "sweepTestRelu",
  arity: 1,
  forward: (x) => Math.max(x, 0),
  backward: ({ args: [x], grad }) => [x! > 0 ? grad : 0],
});
// A backward that ignores the incoming gradient: right at the root, wrong anywhere else.
const dropsGrad = registerUnchecked({
  name: "sweepTestDropsGrad",
  arity: 1,
  forward: (x) => Math.exp(x),
  backward: ({ args: [x] }) => [Math.exp(x!)],
  formula: (x) => `exp(${x})`,
});

describe("the domain sweep", () => {
  it("puts exactly one point in each stratum of each argument, the same for the same seed", () => {
    const n = 1000;
    const pts = sweepPoints(narrow2, 3, n);
    for (const arg of [0, 1]) {
      const strata = new Set<number>();
      for (let k = 0; k < n; k++) strata.add(Math.floor(((pts[2 * k + arg]! + 4) / 8) * n));
      expect(strata.size).toBe(n);
    }
    expect(sweepPoints(narrow2, 3, n)).toEqual(pts);
    expect(sweepPoints(narrow2, 4, n)).not.toEqual(pts);
  });

  it("screens a backward off inside the fault, not outside, nor a correct one near its kink", () => {
    const f = formulaDerivatives(narrow2);
    expect(screen(narrow2, [1.2, 0.3], 2.5, f)).toBe(0);
    expect(screen(narrow2, [1.2, 0.5], 2.5, f)).toBe(-1);
    expect(screen(narrow2, [-3, 2], 2.5, f)).toBe(-1);
    expect(screen(relu, [1e-4], 2.5, null)).toBe(-1);
    expect(screen(relu, [-3e-3], 2.5, null)).toBe(-1);
    // The sweep's incoming gradient is 2.5: a backward that ignores it is off by 2.5×.
    expect(screen(dropsGrad, [0.3], 2.5, formulaDerivatives(dropsGrad))).toBe(0);
  });

  it("measures how far a backward strays, below the screen's threshold too", () => {
    const f = formulaDerivatives(narrow2);
    // Inside the fault ∂/∂x is 5% too large: (1.05 − 1)/1.05 relative to the larger.
    expect(backwardDeviation(narrow2, [1.2, 0.3], 2.5, f)).toBeCloseTo(0.05 / 1.05, 12);
    expect(backwardDeviation(narrow2, [1.2, 0.5], 2.5, f)).toBeLessThan(1e-15);
    // Off by 1e-11 relative: the screen passes it, the deviation measures it.
    const slightly = registerUnchecked({
      name: "sweepTestSlightly",
      arity: 1,
      forward: (x) => Math.sin(x),
      backward: ({ args: [x], grad }) => [grad * Math.cos(x!) * (1 + 1e-11)],
      formula: (x) => `sin(${x})`,
    });
    const g = formulaDerivatives(slightly);
    expect(screen(slightly, [0.4], 2.5, g)).toBe(-1);
    expect(backwardDeviation(slightly, [0.4], 2.5, g)).toBeCloseTo(1e-11, 14);
    // Without a formula: against the finite differences, beyond their error estimate.
    expect(backwardDeviation(relu, [0.5], 2.5, null)).toBe(0);
  });

  it.each([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])(
    "finds a 5%% fault on 0.5%% of a 2-argument op's domain with seed %i, shrunk, blamed",
    (seed) => {
      const r = fuzz({ ops: [narrow2], seed, runs: 1 });
      const cx = r.found!;
      expect(cx.path).toMatch(/^sweep:\d+$/);
      expect(cx.blame).toBe("autograd");
      const { x, y } = cx.at as { x: number; y: number };
      expect(x > 1 && x < 1.4 && y > -0.4 && y < 0.4).toBe(true);
      // Independent value: ∂/∂x of 2.5·x·y is 2.5·y; the fault makes it 1.05× that.
      const g = cx.gradients.x!;
      const truth = cx.expr.startsWith("2.5*") ? 2.5 * y : y;
      expect(g.autograd as number).toBeCloseTo(1.05 * truth, 12);
      expect(g.numeric as number).toBeCloseTo(truth, 8);
      // Replays from its path.
      const again = fuzz({ ops: [narrow2], seed, runs: 1, path: cx.path }).found!;
      expect([again.expr, again.at]).toEqual([cx.expr, cx.at]);
    },
  );

  it("passes a correct op with a kink and no formula (two legs)", () => {
    for (const seed of [1, 2, 3]) {
      const r = fuzz({ ops: [relu], seed, runs: 1 });
      expect(r.found).toBeNull();
      expect(r.perOp[0]!.sweep.points).toBe(10_000);
    }
  });

  it("screens a tensor op's (Jᵀw)·v against the forward's directional derivative", () => {
    // 3·x elementwise, its backward 5% too large in element 0 where x₀ ∈ (2.1, 2.15).
    const op = scaledNarrowBug.definition as TensorOpDefinition;
    const at = (x0: number) => ({
      shapes: [[3]],
      outShape: [3],
      args: [Float64Array.of(x0, -1, 0.5)],
      w: Float64Array.of(0.7, -0.2, 0.4),
      v: [Float64Array.of(0.3, 0.9, -0.6)],
    });
    expect(tensorScreen(op, at(2.12))).toBe(true);
    expect(tensorScreen(op, at(2.2))).toBe(false);
    expect(tensorScreen(op, at(-3))).toBe(false);
  });
});
