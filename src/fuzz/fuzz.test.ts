import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { cubeAbsGrad, hyp } from "../../test/fixtures/ops/mixed/abs-grad.ts";
import { cubeRight, sinWrong } from "../../test/fixtures/ops/mixed/correct-and-wrong.ts";
import { nanPast15, nanPast19 } from "../../test/fixtures/ops/non-finite/tensor-nan.ts";
import { softplusStable } from "../../test/fixtures/ops/part-of-domain.bug.ts";
import { registerUnchecked } from "../../test/register-op.ts";
import type { Expr } from "../expr/ast.ts";
import { parse } from "../expr/parse.ts";
import { DEFAULT_VARIABLES, fuzzCaseArbitrary } from "./arbitraries.ts";
import { formatCounterexample } from "./format.ts";
import { casesOf, fuzz, prepareFuzz } from "./fuzz.ts";

// x^3 whose backward forgets the incoming gradient: right at the root, wrong anywhere inside.
const dropsGrad = registerUnchecked({
  name: "fuzzTestCube",
  arity: 1,
  forward: (x) => x ** 3,
  backward: ({ args: [x] }) => [3 * x! ** 2],
  formula: (x) => `(${x})^3`,
});
// A correct relu: its kink at 0 gives inconclusive points, which are not counterexamples.
const relu = registerUnchecked({
  name: "fuzzTestRelu",
  arity: 1,
  forward: (x) => Math.max(x, 0),
  backward: ({ args: [x], grad }) => [x! > 0 ? grad : 0],
});

// x^2 whose forward throws past 4.5: fine on the sanity check's (-4, 4), not once nested.
const brittle = registerUnchecked({
  name: "fuzzTestBrittle",
  arity: 1,
  forward: (x) => {
    if (Math.abs(x) > 4.5) throw new RangeError(`too large: ${x}`);
    return x * x;
  },
  backward: ({ args: [x], grad }) => [2 * x! * grad],
  formula: (x) => `(${x})^2`,
});

/** Some call of `op` is an argument of another call (its incoming gradient is not 1). */
const nestedCall = (e: Expr, op: string): boolean =>
  e.kind === "call" && e.args.some((a) => (a.kind === "call" && a.op === op) || nestedCall(a, op));

describe("fuzz", () => {
  it("finds a backward that ignores the incoming gradient, nested inside another call", () => {
    const r = fuzz({ ops: [dropsGrad], seed: 11 });
    const cx = r.found!;
    expect(cx.blame).toBe("autograd");
    expect(nestedCall(parse(cx.expr), "fuzzTestCube")).toBe(true);
    // Shrunk: a small expression at a grid point.
    expect(cx.expr.length).toBeLessThan(30);
    expect(cx.replay.fuzz).toBe(`gradtrio fuzz --ops FILE --seed 11 --path ${cx.path}`);
    expect(cx.replay.check).toMatch(/^gradtrio check '.*' --at [a-z]=-?[\d.]+/);
  });

  it("replays the same counterexample from its seed and path", () => {
    const first = fuzz({ ops: [dropsGrad], seed: 29 }).found!;
    const again = fuzz({ ops: [dropsGrad], seed: 29, path: first.path }).found!;
    expect([again.expr, again.at]).toEqual([first.expr, first.at]);
  });

  it("blames autograd when the op's forward throws inside its domain, as check does (as for a NaN)", () => {
    const r = fuzz({ ops: [brittle], seed: 1 });
    const cx = r.found!;
    // It had been verdict "error", blame none: "the op's forward threw".
    expect(cx.verdict).toBe("disagree");
    expect(cx.blame).toBe("autograd");
    // 4*x at x = -0.531 is -2.124, squared 4.511376: the outer call throws (no domain: the whole line).
    expect([cx.expr, cx.at]).toEqual(["fuzzTestBrittle(fuzzTestBrittle(4*x))", { x: -0.531 }]);
    expect(cx.reason).toBe(
      "custom op 'fuzzTestBrittle': its forward threw at 4.511376, inside its domain (it declares none: the whole line): too large: 4.511376",
    );
    expect(cx.replay.check).toBe(
      "gradtrio check 'fuzzTestBrittle(fuzzTestBrittle(4*x))' --at x=-0.531 --ops FILE",
    );
    expect(formatCounterexample(cx)).toContain("  blame: autograd");
    expect(r.ok).toBe(false);
  });

  it("skips inconclusive points (a kink) instead of reporting them", () => {
    const r = fuzz({ ops: [relu], seed: 3, runs: 60 });
    expect(r.found).toBeNull();
    expect(r.perOp[0]!.agree).toBeGreaterThan(30);
  });

  it("reports progress per case, and stats per op", () => {
    const seen: string[] = [];
    const r = fuzz({ ops: [relu], seed: 4, runs: 5, onProgress: (p) => seen.push(p.phase) });
    expect(seen.slice(0, 2)).toEqual(["start", "sweep"]);
    expect(seen.at(-1)).toBe("done");
    expect(seen.filter((p) => p === "run").length).toBeGreaterThanOrEqual(5);
    expect(r.perOp.map((s) => s.op)).toEqual(["fuzzTestRelu"]);
  });

  it("fuzzes every op of a module and fails only the wrong one", () => {
    const r = fuzz({ ops: [cubeRight, sinWrong], seed: 1, runs: 30 });
    expect(r.perOp.map((s) => [s.op, s.found])).toEqual([
      ["cubeRight", false],
      ["sinWrong", true],
    ]);
    expect(r.perOp[0]!.runs).toBe(30);
    const cx = r.perOp[1]!.counterexample!;
    expect([cx.op, cx.expr, cx.blame]).toEqual(["sinWrong", "sinWrong(x)", "autograd"]);
    // Independent value: d/dx sin(x) = cos(x); the planted backward gives −cos(x).
    const x = cx.at.x as number;
    expect(cx.gradients.x!.autograd).toBeCloseTo(-Math.cos(x), 12);
    expect(cx.gradients.x!.numeric).toBeCloseTo(Math.cos(x), 8);
    expect(r.found).toBe(cx);
  });

  it("attributes a failing composition to the op whose backward is wrong in it", () => {
    // A 1-point sweep misses softplusStable's fault (x > 2): it enters cubeRight's expressions,
    // where its failures are its own, not cubeRight's.
    const r = fuzz({ ops: [cubeRight, softplusStable], seed: 1, sweepPoints: 1, runs: 100 });
    const [cube, softplus] = r.perOp;
    expect(cube!.found).toBe(false);
    expect(cube!.elsewhere).toBeGreaterThan(0);
    expect(softplus!.found).toBe(true);
    expect(softplus!.counterexample!.expr).toContain("softplusStable(");
  });

  it("attributes a composition to the op that is off, even by less than the sweep screens for", () => {
    // softplusStable(cubeRight(4x)) at x ≈ 0.7: softplus's argument ≈ 25, where its backward is
    // off by e^−25 ≈ 1.4e-11 (below the screen's 1e-9, within check's reach); cubeRight is exact.
    for (const seed of [15, 42]) {
      const r = fuzz({ ops: [cubeRight, softplusStable], seed, sweepPoints: 1, runs: 100 });
      expect(r.perOp[0]!.found, `seed ${seed}`).toBe(false);
      expect(r.perOp[0]!.elsewhere, `seed ${seed}`).toBeGreaterThan(0);
    }
  });

  it("screens each op with the gradient it received: a |grad| fault is not a correct op's", () => {
    // cubeAbsGrad(a) = a³ with backward |grad|·3a²: right for grad > 0 (the sweep's 2.5), wrong
    // inside hyp where the gradient reaching it is negative. hyp was blamed on seeds 1–7.
    for (const seed of [1, 2, 3, 4, 5, 6, 7]) {
      const r = fuzz({ ops: [cubeAbsGrad, hyp], seed, runs: 100 });
      const [cube, h] = r.perOp;
      expect(h!.found, `seed ${seed}: ${h!.counterexample?.expr}`).toBe(false);
      expect(cube!.found, `seed ${seed}`).toBe(true);
      const cx = cube!.counterexample!;
      expect(cx.expr).toContain("cubeAbsGrad(");
      // Shrinking kept the blame (it ended in "no majority" on seeds 1 and 7): autograd is off
      // from the finite differences by more than 4× their estimate, which symbolic confirms.
      expect(cx.report!.blame, `seed ${seed}: ${cx.report!.reason}`).toBe("autograd");
      const g = cx.report!.gradients[cx.report!.failing[0]!]!;
      const [a, n, ne] = [g.autograd, g.numeric, g.numericError] as number[];
      expect(Math.abs(a! - n!)).toBeGreaterThan(4 * ne!);
    }
  });

  it("reports an op that fails its sanity check and fuzzes the others, as gradtrio fuzz does", () => {
    const nan = registerUnchecked({
      name: "fuzzTestNaN",
      arity: 1,
      forward: (x) => Math.sqrt(x),
      backward: ({ args: [x], grad }) => [grad / (2 * Math.sqrt(x!))],
    });
    // By default (the CLI's behaviour): reported, not thrown; the correct op runs all its cases.
    const r = fuzz({ ops: [nan, relu], seed: 1, runs: 5 });
    expect(r.perOp[0]!.sanityError).toMatch(/^op 'fuzzTestNaN': forward\(-[\d.]+\) gave NaN/);
    expect(r.perOp[0]!.runs).toBe(0);
    expect(r.perOp[1]!.runs).toBe(5);
    expect(r.perOp[1]!.sanityError).toBeNull();
    // No counterexample, yet not ok: √x is NaN below 0, where it declares no domain.
    expect(r.found).toBeNull();
    expect(r.ok).toBe(false);
    expect(fuzz({ ops: [relu], seed: 1, runs: 5 }).ok).toBe(true);
    expect(fuzz({ ops: [dropsGrad], seed: 29 }).ok).toBe(false);
    // On request, the first failing op throws before any op is fuzzed.
    expect(() => fuzz({ ops: [relu, nan], seed: 1, runs: 5, onSanityFailure: "throw" })).toThrow(
      /^op 'fuzzTestNaN': forward\(-[\d.]+\) gave NaN, not a finite number/,
    );
    expect(() => fuzz({ ops: [relu], onSanityFailure: "reprot" as never })).toThrow(
      'onSanityFailure must be "report" or "throw", got "reprot"',
    );
  });

  it("says where a tensor op's forward is NaN inside its domain: op, point, phase, replay", () => {
    const r = fuzz({ ops: [nanPast15, nanPast19], seed: 1, runs: 5 });
    const [sane, fuzzed] = r.perOp;
    // Sanity: the point, and an element of it past 1.5 where the forward (2x) gives NaN.
    const m =
      /^op 'nanPast15' at shapes \[(\d+)\]: forward at x = (\[[^\]]*\]) gave NaN in output element (\d+), not a finite number, inside its domain$/.exec(
        sane!.sanityError!,
      );
    expect(m, sane!.sanityError!).not.toBeNull();
    const x = JSON.parse(m![2]!) as number[];
    expect(x).toHaveLength(Number(m![1]));
    expect(x[Number(m![3])]).toBeGreaterThan(1.5);
    expect(x.slice(0, Number(m![3])).every((v) => v <= 1.5)).toBe(true);
    // In the fuzz: a counterexample that errs, at a point with an element past 1.9, with replays.
    const cx = fuzzed!.counterexample!;
    expect(cx.verdict).toBe("error");
    expect(cx.reason).toMatch(
      /^nanPast19: forward returned NaN at index \d+ of the output where its inputs are finite and inside its domain$/,
    );
    expect((cx.at.x as number[]).some((v) => v > 1.9)).toBe(true);
    expect(cx.replay.fuzz).toBe(`gradtrio fuzz --ops FILE --seed 1 --path ${cx.path}`);
    expect(cx.replay.check).toMatch(/^gradtrio check 'sum\(w\*nanPast19\(x\)\)' --at /);
    const text = formatCounterexample(cx);
    expect(text).toContain("  blame: none (an error, not a vote)");
    expect(text.some((l) => l.startsWith("  input "))).toBe(false); // no empty table of legs
    expect(r.ok).toBe(false);
  });

  it("rejects bad options", () => {
    expect(() => fuzz({ ops: [relu], runs: 0 })).toThrow(
      "runs must be an integer from 1 to 100000000, got 0",
    );
    expect(() => fuzz({ ops: [relu], path: "a:b" })).toThrow(
      "path 'a:b': the case index 'a' is not a whole number ≥ 0 (a path looks like 12:0:3 or sweep:42, as a counterexample reports it)",
    );
    expect(() => fuzz({ ops: [] })).toThrow("give at least one op");
    // −5 would have run seed 2³² − 5's fuzz (fast-check reads 32 signed bits).
    for (const seed of [-5, 1.5, 2 ** 53])
      expect(() => fuzz({ ops: [relu], seed, runs: 1 })).toThrow(
        `seed must be an integer from 0 to 9007199254740991, got ${seed}`,
      );
    // A module's path is not its ops.
    expect(() => fuzz({ ops: "./ops.mjs" } as never)).toThrow(
      "fuzz: ops must be an array of ops (made with defineOp, or registered names), got string (a module's ops are its exports: import them, or run gradtrio fuzz --ops FILE)",
    );
    // A JavaScript caller's typo is refused, not ignored (runs would have stayed 100).
    expect(() => fuzz({ ops: [relu], rnus: 3 } as never)).toThrow(
      "fuzz: unknown option 'rnus' (did you mean 'runs'?; known: ops, runs,",
    );
  });
});

describe("casesOf", () => {
  it("gives fast-check's stream for the seed, however it is asked for in chunks", () => {
    const runs = 150;
    // 2³² − 7: fast-check reads its low 32 bits as −7.
    for (const seed of [1, 42, 2 ** 32 - 7]) {
      const { ctx } = prepareFuzz({ ops: [cubeRight, dropsGrad], runs, seed });
      const got = [];
      for (let from = 0; from < runs; from += 7)
        got.push(...casesOf(ctx, 1, [0, 1], from, Math.min(from + 7, runs)));
      // The stream as fast-check's own check draws it: one sample from the first case on.
      const arbitrary = fuzzCaseArbitrary({
        ops: ctx.defs,
        focus: ctx.defs[1]!,
        variables: DEFAULT_VARIABLES,
        maxDepth: ctx.maxDepth,
      });
      expect(got).toEqual(fc.sample(arbitrary, { seed: seed | 0, numRuns: runs }));
    }
  });
});
