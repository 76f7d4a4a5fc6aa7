// Fast mode (more than 10^3 input elements, or --method fast) through the real bin: `check --json`
// has "directional" (uᵀ∇f by each leg) and numeric per element for every scalar input and small
// vector (docs/DESIGN.md, "In fast mode …"), with custom ops too; the text shows them, and explain
// names the methods that ran. The runs start together (each bin start is a second of tsx), the
// tests read their results.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Report } from "../src/check/report.ts";
import { numericMethodText } from "../src/cli/explain.ts";
import type { DirectionalMethod } from "../src/numeric/types.ts";
import { CHECK_JSON_KEYS } from "./check-json-keys.ts";
import { type Run, root, runsTogether, tempDir } from "./run-bin.ts";

const dir = tempDir("gradtrio-fast-");
const x = Array.from({ length: 2000 }, (_, k) => 0.001 * k);
writeFileSync(join(dir, "v2000.json"), JSON.stringify(x));
const at = ["--at", `x=@${join(dir, "v2000.json")}`];
const BUG = join(root, "test/fixtures/ops/second-arg.bug.ts");
const OK = join(root, "test/fixtures/ops/second-arg.ok.ts");
// Custom op elements past 256 per direction, but 1001 + 1 per-element partials share their measurement.
const x1001 = Array.from({ length: 1001 }, (_, k) => 0.5 + Math.sin(k));
writeFileSync(join(dir, "v1001.json"), JSON.stringify(x1001));

const cases = {
  json: ["check", "mean(sin(x^2))*w", ...at, "w=2", "--json"],
  text: ["check", "mean(sin(x^2))*w", ...at, "w=2"],
  scalarJson: ["check", "sin(x^2)", "--at", "x=3", "--method", "fast", "--json"],
  bug: ["check", "mean(hypot2(x, w))", ...at, "w=0.3", "--ops", BUG],
  // hypot2's wrong rule for its second argument is right where it equals the first (0.5).
  vectorBug: [
    "check",
    "mean(sin(x^2)) + sum(hypot2(0.5, v))",
    ...at,
    "v=[0.5,-1.5,0.5]",
    "--ops",
    BUG,
    "--json",
  ],
  customOp: [
    "check",
    "sum(hypot2Ok(x, w))",
    "--at",
    `x=@${join(dir, "v1001.json")}`,
    "w=0.3",
    "--ops",
    OK,
  ],
  explainComplex: ["explain", "mean(sin(x^2))*w", ...at, "w=2"],
  explainRichardson: ["explain", "mean(hypot2(x, w))", ...at, "w=0.3", "--ops", BUG],
  // --seed where fast mode does not run: a note, no error; the JSON as without it.
  seedSmall: ["check", "mean(x^2)", "--at", "x=[1,2,3]", "--seed", "7"],
  seedSmallJson: ["check", "mean(x^2)", "--at", "x=[1,2,3]", "--seed", "7", "--json"],
  seedCentral: ["check", "mean(sin(x^2))*w", ...at, "w=2", "--method", "central", "--seed", "7"],
  seedJacobian: ["check", "sigmoid(x)", "--at", "x=[1,2]", "--seed", "7"],
  seedFast: ["check", "sin(x^2)", "--at", "x=3", "--method", "fast", "--seed", "7"],
  seedLarge: ["check", "mean(sin(x^2))*w", ...at, "w=2", "--seed", "7"],
  explainSeedSmall: ["explain", "mean(x^2)", "--at", "x=[1,2,3]", "--seed", "7"],
  explainSeedJacobian: ["explain", "sigmoid(x)", "--at", "x=[1,2]", "--seed", "7"],
  explainSeedLarge: ["explain", "mean(sin(x^2))*w", ...at, "w=2", "--seed", "7"],
};
const runs = runsTogether(cases);

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

describe("fast mode's per-element partials of a small vector and with custom ops", () => {
  it("a backward rule wrong only in a small vector input is convicted at that element", () => {
    const r = runs.vectorBug;
    expect(r.stderr).toBe("");
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j.verdict).toBe("disagree");
    expect(j.blame).toBe("autograd");
    expect(j.reason).toMatch(/^autograd gives [\d.]+ at v\[1\] where symbolic gives -0\.94868/);
    // ∂/∂v_k Σ hypot(0.5, v) = v_k/hypot(0.5, v_k), by hand; the wrong rule gives 0.5/hypot.
    const v = j.gradients.v;
    [0.5, -1.5, 0.5].forEach((vk, k) => {
      const hand = vk / Math.hypot(0.5, vk);
      expect(v.numericError[k]).toBeGreaterThan(0);
      expect(v.numericError[k]).toBeLessThan(1e-9);
      expect(Math.abs(v.numeric[k] - hand), `v[${k}]`).toBeLessThanOrEqual(v.numericError[k]);
    });
    expect(v.autograd[1]).toBeCloseTo(0.5 / Math.hypot(0.5, 1.5), 14);
    expect(j.gradients.x.numeric).toBeNull();
  });

  it("sum(hypot2Ok(x, w)), 1001 + 1 elements: the complex step for uᵀ∇f and every partial", () => {
    const r = runs.customOp;
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("note: fast mode by the complex step along u");
    expect(r.stdout).toContain("note: fast mode: x, w per element by the complex step");
    expect(r.stdout).toContain("✓ agree");
    // ∂/∂w = Σ w/hypot(x_k, w), summed here by hand.
    const hand = x1001.reduce((s, v) => s + 0.3 / Math.hypot(v, 0.3), 0);
    const row = r.stdout.split("\n").find((l) => l.startsWith("w "))!;
    const [, , , numeric, , error] = row.split(/\s+/);
    expect(Math.abs(Number(numeric) - hand)).toBeLessThanOrEqual(Number(error));
    expect(Number(error)).toBeLessThan(1e-8);
  });
});

describe("--seed where fast mode does not run: a note says it had no effect, and why", () => {
  const seedNotes = (r: Run) => r.stdout.split("\n").filter((l) => l.includes("--seed"));
  const noEffect =
    "note: --seed 7 had no effect: it seeds fast mode's random direction u, and fast mode did not run: ";

  it("3 input elements under auto: exit 0, the note in the table", () => {
    const r = runs.seedSmall;
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(seedNotes(r)).toEqual([
      `${noEffect}3 input elements (fast mode runs above 1000, or with --method fast), so every element is checked`,
    ]);
  });

  it("--json: the contract's keys alone (it has no notes), the gradient 2x/3 as without --seed", () => {
    const r = runs.seedSmallJson;
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(Object.keys(j)).toEqual([...CHECK_JSON_KEYS]);
    expect(j.gradients.x.autograd).toEqual([2 / 3, 4 / 3, 2]);
  });

  it("an explicit --method over 1000 elements", () => {
    const r = runs.seedCentral;
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(seedNotes(r)).toEqual([`${noEffect}--method central checks every element`]);
  });

  it("a vector output (its Jacobian)", () => {
    const r = runs.seedJacobian;
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(seedNotes(r)).toEqual([
      `${noEffect}the output is not a scalar: its Jacobian is checked element by element`,
    ]);
  });

  it("no note where fast mode runs: --method fast, or over 1000 elements", () => {
    for (const r of [runs.seedFast, runs.seedLarge]) {
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("numeric method: fast");
      expect(seedNotes(r)).toEqual([]);
    }
  });
});

describe("explain --seed where fast mode does not run: the same note, under the numeric method", () => {
  const noEffect =
    "note: --seed 7 had no effect: it seeds fast mode's random direction u, and fast mode did not run: ";
  /** The text with its lines joined (explain wraps long lines), and its lines. */
  const read = (r: Run) => ({ text: r.stdout.replace(/\s+/g, " "), lines: r.stdout.split("\n") });

  it("3 input elements under auto: the note once, after the numeric method's words", () => {
    const r = runs.explainSeedSmall;
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const { text, lines } = read(r);
    expect(text.split("--seed")).toHaveLength(2);
    expect(text).toContain(
      `${noEffect}3 input elements (fast mode runs above 1000, or with --method fast), so every element is checked`,
    );
    const method = lines.findIndex((l) => l.includes("numeric method:"));
    const note = lines.findIndex((l) => l.includes("note: --seed 7"));
    expect(method).toBeGreaterThan(0);
    expect(note).toBeGreaterThan(method);
    expect(lines.slice(method + 1, note).every((l) => !l.includes("input"))).toBe(true);
  });

  it("a vector output: the note under the Jacobian's legs", () => {
    const r = runs.explainSeedJacobian;
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const { text } = read(r);
    expect(text).toContain("its derivative is the Jacobian");
    expect(text.split("--seed")).toHaveLength(2);
    expect(text).toContain(
      `${noEffect}the output is not a scalar: its Jacobian is checked element by element`,
    );
  });

  it("no note where fast mode runs (over 1000 elements)", () => {
    const r = runs.explainSeedLarge;
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const { text } = read(r);
    expect(text).toContain("numeric method: fast mode");
    expect(text).not.toContain("--seed");
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

  it("names each method the partials ran by when it is not uᵀ∇f's alone", () => {
    const fast = (method: DirectionalMethod, partialsBy: DirectionalMethod[]) =>
      numericMethodText({
        method: "fast",
        directional: { symbolic: 1, numeric: 1, numericError: 0, autograd: 1, method, partialsBy },
        gradients: {
          x: { numeric: null } as Report["gradients"][string],
          w: { numeric: 1 } as Report["gradients"][string],
        },
      });
    expect(fast("complex", ["complex"])).toContain(
      "by the complex step along a random unit vector u, not one derivative per element; and w per element, the same way along",
    );
    expect(fast("richardson", ["complex", "richardson"])).toContain(
      "uᵀ∇f by Richardson extrapolation along a random unit vector u, not one derivative per element; and w per element, by the complex step and Richardson extrapolation along",
    );
    expect(fast("richardson", ["complex"])).toContain("w per element, by the complex step along");
  });

  it("Richardson along u past 256 custom op elements", () => {
    const r = runs.explainRichardson;
    expect(r.code).toBe(0);
    const text = r.stdout.replace(/\s+/g, " ");
    expect(text).toContain("uᵀ∇f by Richardson extrapolation along a random unit vector u");
  });
});
