import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { fuzzCommand } from "./fuzz.ts";
import { memoryIO } from "./io.ts";

const ops = resolve(import.meta.dirname, "../../test/fixtures/ops");
const io = (isTTY = false) => memoryIO({ cwd: ops, isTTY });

describe("gradtrio fuzz", () => {
  it("prints the shrunk counterexample with the three legs, the blame and the replay (exit 1)", async () => {
    const out = io();
    expect(await fuzzCommand({ ops: "wrong-sign.bug.ts", seed: 5 }, out)).toBe(1);
    const text = out.stdout.join("\n");
    expect(text).toContain("counterexample for op 'mycos':");
    expect(text).toMatch(/input\s+symbolic\s+numeric\s+± error\s+autograd/);
    expect(text).toContain("blame: autograd");
    // Found alone, by the sweep of its domain: the path names the sweep's point.
    expect(text).toMatch(/gradtrio fuzz --ops wrong-sign\.bug\.ts --seed 5 --path sweep:\d+/);
    expect(text).toMatch(/gradtrio check 'mycos\(.*\)' --at x=[-\d.]+ --ops wrong-sign\.bug\.ts/);
  });

  it("says so when nothing is found (exit 0), with plain progress lines off a terminal", async () => {
    const out = io();
    process.env.GRADTRIO_PROGRESS_MS = "1";
    try {
      expect(await fuzzCommand({ ops: "wrong-sign.ok.ts", seed: 5, runs: 20 }, out)).toBe(0);
    } finally {
      delete process.env.GRADTRIO_PROGRESS_MS;
    }
    expect(out.stdout.at(-1)).toBe("no counterexample in 20 runs");
    // One line per interval (1 ms here): runs done of 20, the rate, counterexamples so far.
    expect(out.stderr.length).toBeGreaterThan(0);
    for (const line of out.stderr)
      expect(line).toMatch(/^fuzz: \d+\/20 runs, [\d.]+ runs\/s, counterexamples so far: 0$/);
  });

  it("--json gives the same as data", async () => {
    const out = io();
    expect(await fuzzCommand({ ops: "third-arg.bug.ts", seed: 2, json: true }, out)).toBe(1);
    const json = JSON.parse(out.stdout.join("\n"));
    expect(json.seed).toBe(2);
    expect(json.found.op).toBe("lerp");
    expect(json.found.blame).toBe("autograd");
    expect(Object.keys(json.found.gradients).length).toBeGreaterThan(0);
    expect(json.found.report.verdict).toBe("disagree");
    expect(json.perOp[0]).toMatchObject({ op: "lerp", found: true });
  });

  it("fuzzes and reports every op of a module; only the wrong one fails", async () => {
    const out = io();
    const code = await fuzzCommand(
      { ops: "mixed/correct-and-wrong.ts", seed: 3, runs: 20, json: true },
      out,
    );
    expect(code).toBe(1);
    const json = JSON.parse(out.stdout.join("\n"));
    expect(json.perOp.map((s: { op: string; found: boolean }) => [s.op, s.found])).toEqual([
      ["cubeRight", false],
      ["sinWrong", true],
    ]);
    expect(json.perOp[0].counterexample).toBeNull();
    expect(json.perOp[0].sweep.points).toBe(10000);
    expect(json.perOp[1].counterexample.op).toBe("sinWrong");
    expect(json.found.op).toBe("sinWrong");
  });

  it("reports an op failing its sanity check as failed and fuzzes the others (exit 1, as the gate)", async () => {
    const text = io();
    expect(await fuzzCommand({ ops: "mixed/sound-and-insane.ts", seed: 1, runs: 20 }, text)).toBe(
      1,
    );
    expect(text.stderr).toEqual([]);
    const lines = text.stdout.join("\n");
    expect(lines).toMatch(/badArityMixed\s+0 runs {2}SANITY CHECK FAILED/);
    expect(lines).toContain("it must return an array of 2 number(s), one per argument");
    expect(lines).toMatch(/squareSound\s+20 runs {2}ok/);
    expect(text.stdout.at(-1)).toBe(
      "no counterexample in 20 runs; 1 op(s) failed the sanity check (not fuzzed)",
    );
    const json = io();
    expect(
      await fuzzCommand({ ops: "mixed/sound-and-insane.ts", seed: 1, runs: 20, json: true }, json),
    ).toBe(1);
    const r = JSON.parse(json.stdout.join("\n"));
    expect(r.found).toBeNull();
    expect(r.perOp.map((s: { op: string; runs: number }) => [s.op, s.runs])).toEqual([
      ["badArityMixed", 0],
      ["squareSound", 20],
    ]);
    expect(r.perOp[0].sanityError).toContain("it must return an array of 2 number(s)");
    expect(r.perOp[1].sanityError).toBeNull();
  });

  it.each([
    ["invalid/forward-throws.ts", "op 'brittle': forward("],
    ["invalid/forward-nan.ts", "gave NaN, not a finite number, inside its domain"],
    ["invalid/backward-arity.ts", "it must return an array of 2 number(s)"],
    ["invalid/formula-mismatch.ts", "they define different functions"],
  ])(
    "an op failing its sanity check (%s) is a failure named in --json, exit 1",
    async (file, message) => {
      const out = io();
      expect(await fuzzCommand({ ops: file, json: true }, out)).toBe(1);
      expect(out.stderr).toEqual([]);
      expect(JSON.parse(out.stdout.join("\n")).perOp[0].sanityError).toContain(message);
    },
  );

  it("a tensor op's NaN forward is named with its point and element (it said only 'not finite')", async () => {
    const out = io();
    expect(await fuzzCommand({ ops: "non-finite/tensor-nan.ts", seed: 1, runs: 5 }, out)).toBe(1);
    const text = out.stdout.join("\n");
    expect(text).toMatch(
      /nanPast15 +0 runs {2}SANITY CHECK FAILED.*\n {4}op 'nanPast15' at shapes \[2\]: forward at x = \[[-\d.]+,1\.\d+\] gave NaN in output element 1, not a finite number, inside its domain\n/,
    );
    expect(text).toContain("  blame: none (an error, not a vote)");
  });

  it.each([
    ["nope.ts", {}, "gradtrio: error: cannot read ops module 'nope.ts': no such file"],
    [
      "invalid/throws-on-load.ts",
      {},
      "gradtrio: error: ops module 'invalid/throws-on-load.ts' failed to load: RangeError: weights file not found",
    ],
    ["invalid/no-ops.ts", {}, "exports no ops made with defineOp"],
    [
      "invalid/formula-malformed.ts",
      {},
      `failed to load: defineOp("badFormMalformed"): its formula "(a^^2" is malformed: unbalanced parenthesis: this '(' is never closed`,
    ],
    [
      "invalid/formula-unknown-call.ts",
      {},
      `gradtrio: error: defineOp("sinnOp"): its formula "sinn(t)" is malformed: unknown function 'sinn'; did you mean 'sin'?`,
    ],
    [
      "invalid/formula-whole-tensor.ts",
      {},
      `gradtrio: error: defineOp("scaledNorm"): its formula "2*rowNormalize(t)" calls rowNormalize, which works on whole tensors, but an op without a shape rule is a function of numbers, one element at a time: write the formula elementwise, or give the op a shape rule (a tensor op)`,
    ],
    [
      "invalid/formula-calls-itself.ts",
      {},
      `failed to load: defineOp("selfy"): its formula calls 'selfy' itself`,
    ],
    [
      "invalid/formulas-call-each-other.ts",
      {},
      `defineOp("mutualB"): its formula calls 'mutualB' itself, through 'mutualA' (mutualB → mutualA → mutualB)`,
    ],
    ["wrong-sign.ok.ts", { path: "1:2" }, "--path replays a case of one seed: give --seed too"],
    ["wrong-sign.ok.ts", { runs: 0 }, "runs must be an integer from 1 to 100000000, got 0"],
  ])("bad input %s → one line, exit 2", async (file, extra, message) => {
    const out = io();
    expect(await fuzzCommand({ ops: file, ...extra }, out)).toBe(2);
    expect(out.stderr).toHaveLength(1);
    expect(out.stderr[0]).toContain(message);
    expect(out.stderr[0]).toMatch(/^gradtrio: error: /);
    expect(out.stdout).toEqual([]);
  });
});
