// `gradtrio check` where an intermediate overflows float64 under a finite output (review11 finding
// 18): exit 3 with the overflowing intermediate named, where it exited 1 ("blame autograd", or no
// majority) on correct built-ins; and the gradient that overflows (finding 10) named as such.
// Through the real bin, as the reviewer ran them.
import { describe, expect, it } from "vitest";
import { runsTogether } from "./run-bin.ts";

const OPS = "test/fixtures/ops/overflow/ops.ts";
const cases = {
  sigmoidExp: ["check", "sigmoid(exp(x))", "--at", "x=710"],
  gumbel: ["check", "exp(-exp(x))", "--at", "x=710"],
  invCosh: ["check", "1/cosh(y)", "--at", "y=800"],
  minSinh: ["check", "minimum(1.95, sinh(cosh(y)))^0.5", "--at", "y=8.626"],
  sigmoidAbs: ["check", "sigmoid(abs(cosh(x^3)))", "--at", "x=-8.991"],
  sigmoidExpJson: ["check", "sigmoid(exp(x))", "--at", "x=710", "--json"],
  customOp: ["check", "sigmoid(bigExp(x))", "--at", "x=710", "--ops", OPS],
  wrongBackward: ["check", "sigmoid(bigExpBad(x))", "--at", "x=1", "--ops", OPS],
  gradientOverflows: ["check", "x/y", "--at", "x=1", "y=1e-200"],
  float32: ["check", "sigmoid(exp(x))", "--at", "x=90", "--dtype", "float32"],
} as const;
const runs = runsTogether(cases);

describe("an overflowing intermediate under a finite output: exit 3, named", () => {
  it.each([
    ["sigmoidExp", "exp(x) overflows float64: exp(710) = Infinity"],
    ["gumbel", "exp(x) overflows float64: exp(710) = Infinity"],
    ["invCosh", "cosh(y) overflows float64: cosh(800) = Infinity"],
    ["minSinh", "sinh(cosh(y)) overflows float64: sinh(2787.36"],
    ["sigmoidAbs", "cosh(x^3) overflows float64: cosh(-726.81"],
    ["customOp", "bigExp(x) overflows float64: bigExp(710) = Infinity"],
    ["float32", "exp(x) overflows float32: exp(90) = 1.2204032943178408e+39"],
  ] as const)("%s", (name, said) => {
    const r = runs[name];
    expect(r.stderr).toBe("");
    expect(r.code).toBe(3);
    expect(r.stdout).toContain(`? inconclusive: ${said}`);
    expect(r.stdout).toContain("while the function stays finite");
    expect(r.stdout).not.toMatch(/blame autograd|no majority/);
    expect(r.stdout).not.toContain("f(x) = NaN");
  });

  it("--json: the verdict and reason, the value 1 (σ(∞) by hand) and autograd's NaN as null", () => {
    expect(runs.sigmoidExpJson.code).toBe(3);
    const j = JSON.parse(runs.sigmoidExpJson.stdout);
    expect(j).toMatchObject({ verdict: "inconclusive", blame: null, value: 1 });
    expect(j.reason).toMatch(/^exp\(x\) overflows float64: exp\(710\) = Infinity/);
    expect(j.gradients.x.autograd).toBeNull();
    expect(j.gradients.x.numeric).toBe(0);
  });

  it("a wrong backward at an ordinary point still exits 1", () => {
    expect(runs.wrongBackward.code).toBe(1);
    expect(runs.wrongBackward.stdout).toContain("✗ disagree: blame autograd");
  });
});

describe("a gradient past float64's range (x/y at y = 1e-200)", () => {
  it("exit 3, the reason says the gradient overflows float64, not a singularity", () => {
    const r = runs.gradientOverflows;
    expect(r.code).toBe(3);
    expect(r.stdout).toContain("? inconclusive: the gradient overflows float64");
    expect(r.stdout).not.toContain("on a singularity");
  });
});
