// Tensor custom ops (defineOp with a shape rule): the autograd leg of the README's examples against
// PyTorch's softmax Jacobian and the layer norm's Jacobian by hand; the user's mistakes as one-line
// errors; the symbolic leg without a formula; and the planted tensor bugs caught by fuzz with
// default runs while their correct twins pass (the API for seeds 1–3, the CLI for one pair).
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { layerNorm, mySoftmax } from "../examples/tensor-ops.ts";
import { defineOp } from "../src/autograd/define-op.ts";
import { tensor } from "../src/autograd/tensor.ts";
import { check } from "../src/check/check.ts";
import type { Point } from "../src/expr/point.ts";
import { fuzz } from "../src/fuzz/fuzz.ts";
import { loadOps } from "../src/fuzz/load.ts";
import { FuzzRun, workerPool } from "../src/fuzz/parallel.ts";
import "../src/vitest/index.ts";
import torchJacobians from "./fixtures/torch-jacobians.json" with { type: "json" };

const here = import.meta.dirname;
const bin = resolve(here, "../bin/gradtrio.js");
const fixture = (name: string) => resolve(here, "fixtures/ops/tensor", name);

const maxAbs = (m: number[][]) => Math.max(...m.flat().map(Math.abs));
function expectClose(got: number[][] | null | undefined, want: number[][], tol: number) {
  expect(got).not.toBeNull();
  const scale = maxAbs(want);
  got!.forEach((row, i) => {
    row.forEach((v, j) => {
      expect(Math.abs(v - want[i]![j]!)).toBeLessThanOrEqual(tol * scale);
    });
  });
}

describe("tensor custom ops: the three legs", () => {
  it("mySoftmax: its Jacobian three ways is PyTorch's torch.softmax Jacobian", () => {
    const ref = torchJacobians.find((c) => c.expr === "softmax(x)")!;
    const r = check("mySoftmax(x)", { at: ref.at as unknown as Point });
    expect(r.verdict).toBe("agree");
    expectClose(r.jacobian!.autograd, ref.jacobian as number[][], 1e-9);
    expectClose(r.jacobian!.symbolic, ref.jacobian as number[][], 1e-9);
    expectClose(r.jacobian!.numeric, ref.jacobian as number[][], 1e-5);
  });

  it("layerNorm: ∂y/∂x is g_i/σ·(δ_ij − 1/n − x̂_i x̂_j/n), ∂y/∂g = diag(x̂), ∂y/∂b = I", () => {
    const x = [0.3, -1.2, 2.5, 0.7];
    const g = [1.5, -0.5, 2, 0.25];
    const b = [0.1, 0.2, -0.3, 0];
    const n = x.length;
    const mu = x.reduce((a, v) => a + v, 0) / n;
    const sigma = Math.sqrt(x.reduce((a, v) => a + (v - mu) ** 2, 0) / n + 1e-5);
    const xh = x.map((v) => (v - mu) / sigma);
    const want = x.map((_, i) => [
      ...x.map((__, j) => (g[i]! / sigma) * ((i === j ? 1 : 0) - 1 / n - (xh[i]! * xh[j]!) / n)),
      ...x.map((__, j) => (i === j ? xh[i]! : 0)),
      ...x.map((__, j) => (i === j ? 1 : 0)),
    ]);
    const r = check("layerNorm(x, g, b)", { at: { x, g, b } });
    expect(r.verdict).toBe("agree");
    expectClose(r.jacobian!.autograd, want, 1e-9);
    expectClose(r.jacobian!.symbolic, want, 1e-9);
    expectClose(r.jacobian!.numeric, want, 1e-5);
  });

  it("a tensor op is a graph node named like PyTorch's custom Function, with its gradient", () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    const y = mySoftmax(x);
    expect(y.gradFn!.name).toBe("MySoftmaxBackward");
    y.backward(tensor([1, 0, 0]));
    // d y0/d x_j = y0(δ_0j − y_j)
    const e = [1, 2, 3].map((v) => Math.exp(v));
    const s = e.reduce((a, v) => a + v, 0);
    const p = e.map((v) => v / s);
    [...x.grad!.data].forEach((v, j) => {
      expect(v).toBeCloseTo(p[0]! * ((j === 0 ? 1 : 0) - p[j]!), 14);
    });
  });

  it("the vitest matcher takes a tensor op like any op", () => {
    expect("sum(mySoftmax(x)*w) + sum(layerNorm(x, w, w))").toHaveAgreeingGradients({
      at: { x: [0.5, -1, 2], w: [1, -2, 0.5] },
    });
  });

  it("a formula may call another tensor op; one that calls its own op is refused", () => {
    defineOp({
      name: "softmaxOfDouble",
      arity: 1,
      shape: (s) => s,
      forward: ({ args: [x] }) =>
        mySoftmax.definition.forward({
          args: [x!.map((v) => 2 * v)],
          shapes: [[x!.length]],
          outShape: [x!.length],
        }),
      backward: ({ out: y, grad: g }) => {
        const dot = y.reduce((a, yi, i) => a + yi * g[i]!, 0);
        return [y.map((yi, i) => 2 * yi * (g[i]! - dot))];
      },
      formula: (x) => `mySoftmax(2*${x})`,
    });
    const r = check("sum(softmaxOfDouble(x)*w)", { at: { x: [0.1, -0.4, 0.3], w: [1, 2, -1] } });
    expect(r.legs.symbolic.status).toBe("ok");
    expect(r.verdict).toBe("agree");
    // A formula that calls its own op is refused where it is defined.
    expect(() =>
      defineOp({
        name: "selfish",
        arity: 1,
        shape: (s) => s,
        forward: ({ args: [x] }) => x!,
        backward: ({ grad }) => [grad],
        formula: (x) => `selfish(${x})`,
      }),
    ).toThrow(`defineOp("selfish"): its formula calls 'selfish' itself`);
  });

  it("without a formula the symbolic leg gives up for cause and two legs decide", () => {
    defineOp({
      name: "twiceNoFormula",
      arity: 1,
      shape: (s) => s,
      forward: ({ args: [x] }) => x!.map((v) => 2 * v),
      backward: ({ grad }) => [grad.map((g) => 2 * g)],
    });
    const r = check("sum(twiceNoFormula(x)^2)", { at: { x: [1, 2] } });
    expect(r.legs.symbolic.status).toBe("unavailable");
    expect(r.legs.symbolic.reason).toMatch(/has no formula/);
    expect(r.gradients!.x!.autograd).toEqual([8, 16]);
  });
});

describe("tensor custom ops: the user's mistakes are one-line errors", () => {
  const base = {
    arity: 1,
    shape: (s: readonly number[]) => s,
    forward: ({ args: [x] }: { args: readonly Float64Array[] }) => x!.slice(),
    backward: ({ grad }: { grad: Float64Array }) => [grad.slice()],
  };
  const run = (name: string, over: object) => {
    const op = defineOp({ ...base, name, ...over });
    return () =>
      op(tensor([1, 2, 3], { requiresGrad: true }))
        .sum()
        .backward();
  };

  it("names the op and the phase", () => {
    expect(run("fwdShort", { forward: () => [1, 2] })).toThrow(
      "fwdShort: forward returned 2 value(s) for the output, expected 3 (shape [3])",
    );
    expect(run("fwdType", { forward: () => 5 })).toThrow(/fwdType: forward returned number/);
    expect(
      run("fwdThrows", {
        forward: () => {
          throw new Error("boom");
        },
      }),
    ).toThrow("fwdThrows: its forward threw: boom");
    expect(run("bwdCount", { backward: () => [] })).toThrow(
      /bwdCount: backward returned 0 array\(s\), expected an array of 1/,
    );
    expect(run("bwdShape", { backward: () => [[1]] })).toThrow(
      /bwdShape: backward returned 1 value\(s\) for argument 1, expected 3/,
    );
    expect(run("bwdNaN", { backward: () => [[1, Number.NaN, 3]] })).toThrow(
      /bwdNaN: backward returned NaN at index 1 of argument 1/,
    );
    expect(run("badRule", { shape: () => [0] })).toThrow(/badRule: its shape rule returned \[0\]/);
  });

  it("check: a forward of the wrong length or type, or NaN from finite inputs, is bad input naming the op", () => {
    defineOp({ ...base, name: "chkShort", forward: ({ args: [x] }) => x!.slice(1) });
    defineOp({
      ...base,
      name: "chkType",
      forward: ({ args: [x] }) => Array.from(x!, String) as never,
    });
    defineOp({ ...base, name: "chkNaN", forward: ({ args: [x] }) => x!.map(() => Number.NaN) });
    // It had been a table and "? inconclusive" (exit 3), the op unnamed for the NaN.
    const at = { x: [1, 2, 3] };
    expect(() => check("sum(chkShort(x))", { at })).toThrow(
      "chkShort: forward returned 2 value(s) for the output, expected 3 (shape [3])",
    );
    expect(() => check("chkShort(x)", { at })).toThrow(/^chkShort: forward returned 2 value/);
    expect(() => check("sum(chkType(x))", { at })).toThrow(
      "chkType: forward returned string at index 0 of the output, expected a number",
    );
    expect(() => check("sum(chkNaN(x))", { at })).toThrow(
      "chkNaN: forward returned NaN at index 0 of the output where its inputs are finite",
    );
    // NaN outside the declared domain is the point's problem: inconclusive, as for log at -1.
    defineOp({
      ...base,
      name: "chkLogDomain",
      domain: [[0, Number.POSITIVE_INFINITY]],
      forward: ({ args: [x] }) => x!.map(Math.log),
      backward: ({ args: [x], grad }) => [grad.map((g, i) => g / x![i]!)],
    });
    expect(check("sum(chkLogDomain(x))", { at: { x: [1, -2] } }).verdict).toBe("inconclusive");
    expect(() => check("sum(chkLogDomain(x))", { at: { x: [1, 2] } })).not.toThrow();
  });

  it("check: a forward that throws inside its domain is bad input naming the op, as its NaN there", () => {
    const throwsPast1 = (v: number) => {
      if (v > 1) throw new Error(`past 1: ${v}`);
      return v * v;
    };
    defineOp({
      ...base,
      name: "chkThrows",
      domain: [[-5, 5]],
      forward: ({ args: [x] }) => x!.map(throwsPast1),
    });
    // It had been "? inconclusive: the function could not be evaluated at the point" (exit 3).
    expect(() => check("sum(chkThrows(x))", { at: { x: [0.5, 2] } })).toThrow(
      "chkThrows: its forward threw: past 1: 2",
    );
    // An element outside [-5, 5]: the point's problem, inconclusive.
    expect(check("sum(chkThrows(x))", { at: { x: [0.5, 7] } })).toMatchObject({
      verdict: "inconclusive",
      rule: "no value",
    });
  });

  it("a shape the rule refuses: gradtrio: error: …, exit 2, no stack trace", () => {
    const r = spawnSync(
      "node",
      [
        bin,
        "check",
        "sum(mySoftmax(A))",
        "--at",
        "A=[[1,2],[3,4]]",
        "--ops",
        "examples/tensor-ops.ts",
      ],
      { encoding: "utf8", cwd: resolve(here, "..") },
    );
    expect(r.status).toBe(2);
    expect(r.stderr.split("\n")[0]).toBe(
      "gradtrio: error: mySoftmax: takes a vector, got shape [2,2] (argument shapes [2, 2])",
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe("fuzzing tensor ops", () => {
  it("its sanity check: a formula that is not the forward, a rule that accepts no shape", () => {
    const wrongFormula = defineOp({
      name: "halfWrongFormula",
      arity: 1,
      shape: (s) => s,
      forward: ({ args: [x] }) => x!.map((v) => v / 2),
      backward: ({ grad }) => [grad.map((g) => g / 2)],
      formula: (x) => `${x}/3`,
    });
    const sanityError = (op: Parameters<typeof fuzz>[0]["ops"][number]) =>
      fuzz({ ops: [op], seed: 1, runs: 1 }).perOp[0]!.sanityError;
    expect(sanityError(wrongFormula)).toMatch(
      /op 'halfWrongFormula' at shapes \[\]: its formula gives 0\.\d+ where its forward gives/,
    );
    const noShape = defineOp({
      name: "fiveDims",
      arity: 1,
      shape: (s) => (s.length === 5 ? s : "five dimensions only"),
      forward: ({ args: [x] }) => x!,
      backward: ({ grad }) => [grad],
    });
    expect(sanityError(noShape)).toBe(
      "op 'fiveDims': its shape rule accepts none of the shapes tried (up to 4×3)",
    );
  });

  const pairs = ["softmax", "bias-add", "matmul"];

  it("catches every planted bug with default runs, for seeds 1–3; the correct twins pass", async () => {
    for (const name of pairs)
      for (const kind of ["ok", "bug"]) {
        const ops = (await loadOps(fixture(`${name}.${kind}.ts`), "/")).map((o) => o.definition);
        for (const seed of [1, 2, 3]) {
          const r = fuzz({ ops, seed });
          expect([name, kind, seed, r.found !== null]).toEqual([name, kind, seed, kind === "bug"]);
          if (kind === "bug") expect(r.found!.blame).toBe("autograd");
        }
      }
  }, 240_000);

  it("the sweep finds a backward wrong on 0.5% of the domain for seeds 1–5, shrunk; its twin passes", async () => {
    const load = async (kind: string) =>
      (await loadOps(fixture(`scaled-narrow.${kind}.ts`), "/")).map((o) => o.definition);
    const [bug, ok] = [await load("bug"), await load("ok")];
    for (const seed of [1, 2, 3, 4, 5]) {
      const cx = fuzz({ ops: bug, seed }).found!;
      expect([seed, cx.path]).toEqual([seed, expect.stringMatching(/^sweep:\d+$/)]);
      expect(cx.blame).toBe("autograd");
      expect(cx.expr).toBe("sum(w*scaledNarrowBug(x))");
      // The fault: x₀ in (2.1, 2.15), where ∂/∂x₀ of sum(w*3x) is 3·w₀ and the backward 1.05× it.
      const x = (cx.at.x as number[]).flat(2) as number[];
      const w = [cx.at.w as number[]].flat(2) as number[];
      expect(x[0]! > 2.1 && x[0]! < 2.15).toBe(true);
      const g = [cx.gradients.x!.autograd as number[]].flat(2) as number[];
      const n = [cx.gradients.x!.numeric as number[]].flat(2) as number[];
      expect(g[0]).toBeCloseTo(3.15 * w[0]!, 12);
      expect(n[0]).toBeCloseTo(3 * w[0]!, 8);
      // Shrunk: 4 significant digits or fewer (the sweep's points have 16).
      expect(x.every((v) => Number(v.toPrecision(4)) === v)).toBe(true);
      // Replays from its path.
      const again = fuzz({ ops: bug, seed, path: cx.path }).found!;
      expect([again.expr, again.at]).toEqual([cx.expr, cx.at]);
      const r = fuzz({ ops: ok, seed });
      expect([seed, r.found, r.perOp[0]!.sweep.points]).toEqual([seed, null, 10_000]);
    }
  }, 240_000);

  it("the README's examples are confirmed", () => {
    const r = fuzz({ ops: [layerNorm, mySoftmax], seed: 7 });
    expect(r.perOp.map((s) => [s.op, s.found, s.runs])).toEqual([
      ["layerNorm", false, 100],
      ["mySoftmax", false, 100],
    ]);
  }, 120_000);

  it("from the CLI: the planted softmax bug exits 1 with a replay, its twin exits 0", () => {
    const cli = (file: string) =>
      spawnSync("node", [bin, "fuzz", "--ops", fixture(file), "--seed", "5"], {
        encoding: "utf8",
        cwd: resolve(here, ".."),
      });
    const bug = cli("softmax.bug.ts");
    expect(bug.status).toBe(1);
    expect(bug.stdout).toMatch(/counterexample for op 'softmaxBug'/);
    expect(bug.stdout).toMatch(/gradtrio check 'sum\(w\*softmaxBug\(x\)\)'/);
    expect(cli("softmax.ok.ts").status).toBe(0);
  }, 120_000);

  it("from the CLI: the correct softmax's Jacobian where 1 − y cancels exits 0; the planted bug there exits 1", () => {
    // ∂out[2]/∂x[2] = y₂(1 − y₂) at y₂ = 1 − 3.4e-9: the legs differ by the rounding of 1 − y₂
    // (1e-16, 3e-8 of the entry), which the allowance of a backward reading its output covers.
    const cli = (expr: string, ops: string) =>
      spawnSync("node", [bin, "check", expr, "--at", "x=[-30,0.5,20]", "--ops", ops], {
        encoding: "utf8",
        cwd: resolve(here, ".."),
      });
    const ok = cli("softmaxOk(x)", resolve(here, "fixtures/ops/collude/ops.ts"));
    expect([ok.status, ok.stderr]).toEqual([0, ""]);
    expect(ok.stdout).toMatch(/✓ agree: all three legs agree/);
    expect(cli("softmaxBug(x)", fixture("softmax.bug.ts")).status).toBe(1);
  }, 60_000);

  it("--workers gives the same result as one thread", async () => {
    // Everything but the timings.
    const strip = (r: Awaited<ReturnType<FuzzRun["run"]>>) =>
      r.perOp.map(({ ms: _, msToDetection: __, sweep: { points, suspects }, ...s }) => ({
        ...s,
        points,
        suspects,
        counterexample:
          s.counterexample === null
            ? null
            : { ...s.counterexample, report: s.counterexample.report?.verdict ?? null },
      }));
    const pool = workerPool(2)!;
    try {
      for (const name of ["matmul.ok.ts", "scaled-narrow.bug.ts"]) {
        const file = fixture(name);
        const ops = (await loadOps(file, "/")).map((o) => o.definition);
        const opts = { ops, seed: 3, runs: 30, opsFile: "ops.ts" };
        const one = await new FuzzRun(opts, file).run(null);
        const two = await new FuzzRun(opts, file).run(pool);
        expect(strip(two)).toEqual(strip(one));
        expect(one.found === null).toBe(name.includes(".ok."));
        if (one.found === null) expect(one.perOp[0]!.runs).toBe(30);
      }
    } finally {
      await pool.close();
    }
  }, 120_000);
});
