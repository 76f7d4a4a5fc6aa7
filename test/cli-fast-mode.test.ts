// Fast mode (more than 10^3 input elements, or --method fast) through the real bin: `check --json`
// has "directional" (uᵀ∇f by each leg) and numeric per element for every scalar input
// (docs/DESIGN.md, "In fast mode …"), the text shows them, and explain names the method that ran.
// The runs start together (each bin start is a second of tsx), the tests read their results.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { CHECK_JSON_KEYS } from "./check-json-keys.ts";
import { type Run, root, runBin } from "./run-bin.ts";

const dir = mkdtempSync(join(tmpdir(), "gradtrio-fast-"));
const x = Array.from({ length: 2000 }, (_, k) => 0.001 * k);
writeFileSync(join(dir, "v2000.json"), JSON.stringify(x));
const at = ["--at", `x=@${join(dir, "v2000.json")}`];
const BUG = join(root, "test/fixtures/ops/second-arg.bug.ts");

const cases = {
  json: ["check", "mean(sin(x^2))*w", ...at, "w=2", "--json"],
  text: ["check", "mean(sin(x^2))*w", ...at, "w=2"],
  scalarJson: ["check", "sin(x^2)", "--at", "x=3", "--method", "fast", "--json"],
  bug: ["check", "mean(hypot2(x, w))", ...at, "w=0.3", "--ops", BUG],
  explainComplex: ["explain", "mean(sin(x^2))*w", ...at, "w=2"],
  explainRichardson: ["explain", "mean(hypot2(x, w))", ...at, "w=0.3", "--ops", BUG],
};
const runs = {} as Record<keyof typeof cases, Run>;

beforeAll(async () => {
  const done = await Promise.all(Object.values(cases).map((argv) => runBin(argv)));
  Object.keys(cases).forEach((k, i) => {
    runs[k as keyof typeof cases] = done[i]!;
  });
}, 120_000);

describe("check in fast mode", () => {
  it("--json has directional, its keys as docs/DESIGN.md lists them, and w per element", () => {
    const r = runs.json;
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(Object.keys(j)).toEqual([...CHECK_JSON_KEYS, "directional"]);
    const d = j.directional;
    expect(Object.keys(d)).toEqual(["numeric", "symbolic", "autograd", "numericError"]);
    // uᵀ∇f: the exact legs' and numeric's within numeric's own error estimate.
    expect(Math.abs(d.numeric - d.symbolic)).toBeLessThanOrEqual(d.numericError);
    expect(Math.abs(d.autograd - d.symbolic)).toBeLessThanOrEqual(1e-12 * Math.abs(d.symbolic));
    // ∂/∂w (mean(sin(x²))·w) = mean(sin(x²)), summed here by hand.
    const hand = x.reduce((s, v) => s + Math.sin(v * v), 0) / x.length;
    const w = j.gradients.w;
    expect(typeof w.numeric).toBe("number");
    expect(w.numericError).toBeGreaterThan(0);
    expect(w.numericError).toBeLessThan(1e-8);
    expect(Math.abs(w.numeric - hand)).toBeLessThanOrEqual(w.numericError);
    // x is too large for a partial per element: its numeric check is the directional one.
    expect(j.gradients.x.numeric).toBeNull();
    expect(j.gradients.x.autograd).toHaveLength(2000);
  });

  it("the table shows w's numeric partial", () => {
    const r = runs.text;
    expect(r.code).toBe(0);
    const row = r.stdout.split("\n").find((l) => l.startsWith("w "))!;
    expect(row).toMatch(/0\.40257733635\d* ± \d\.\de-\d+/);
    expect(r.stdout).toContain("note: fast mode: w per element by the complex step");
  });

  it("--method fast on a scalar: numeric per element (6·cos 9) and the directional", () => {
    const r = runs.scalarJson;
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    const g = j.gradients.x;
    const exact = 6 * Math.cos(9);
    expect(Math.abs(g.numeric - exact)).toBeLessThanOrEqual(g.numericError);
    expect(g.numericError).toBeLessThan(1e-6);
    // u is a unit vector of one element: ±1.
    expect(Math.abs(Math.abs(j.directional.numeric) - Math.abs(exact))).toBeLessThan(1e-12);
  });

  it("a backward rule wrong in the scalar argument only is convicted at that element", () => {
    // hypot2's rule for b is its rule for a: ∂/∂w mean(hypot(x, w)) is mean(w/hypot), autograd
    // gives mean(x/hypot).
    const r = runs.bug;
    expect(r.code).toBe(1);
    const hypot = x.map((v) => Math.hypot(v, 0.3));
    const hand = hypot.reduce((s, h) => s + 0.3 / h, 0) / x.length;
    const row = r.stdout.split("\n").find((l) => l.startsWith("w "))!;
    const [symbolic, numeric] = row.split(/\s+/).slice(2, 4).map(Number);
    expect(Math.abs(symbolic! - hand)).toBeLessThan(1e-12);
    expect(Math.abs(numeric! - hand)).toBeLessThan(1e-8);
    expect(row).toMatch(/✗$/);
    expect(r.stdout).toMatch(/blame autograd — autograd gives [\d.]+ at w where/);
  });
});

describe("explain in fast mode names the method that ran", () => {
  it("the complex step along u, and the scalar per element", () => {
    const r = runs.explainComplex;
    expect(r.code).toBe(0);
    const text = r.stdout.replace(/\s+/g, " ");
    expect(text).toContain("uᵀ∇f by the complex step along a random unit vector u");
    expect(text).not.toContain("Richardson");
    expect(text).toContain("and w per element, the same way along each element's unit vector");
    expect(text).toContain("(the numeric leg checked x by the one directional derivative uᵀ∇f");
  });

  it("Richardson along u past 256 custom op elements", () => {
    const r = runs.explainRichardson;
    expect(r.code).toBe(0);
    const text = r.stdout.replace(/\s+/g, " ");
    expect(text).toContain("uᵀ∇f by Richardson extrapolation along a random unit vector u");
  });
});
