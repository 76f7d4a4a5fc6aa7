// Bad input the fuzz, the gate, teach and --at once took badly, through the real bin: one line
// `gradtrio: error: …` and exit 2 (docs/DESIGN.md), where there had been a hang, an internal
// error, a silent 0 or a wrong count. The runs start together (each bin start is a second of
// tsx), the tests read their results.
import { readFileSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { oneError, root, runsTogether, tempDir, UNSET_WORKERS } from "./run-bin.ts";

const dir = tempDir("gradtrio-bad-input-");
const OK = join(root, "test/fixtures/ops/missing-chain.ok.ts");
const fuzz = (...argv: string[]) => ["fuzz", "--ops", OK, "--seed", "1", ...argv];
const unset = UNSET_WORKERS;

writeFileSync(join(dir, "tiny.json"), "[1, 2, 1e-400]");
writeFileSync(
  join(dir, "seed.config.mjs"),
  "export default { seed: -1, checks: [{ expr: 'x^2', at: { x: 3 } }] };",
);
writeFileSync(
  join(dir, "runs.config.mjs"),
  "export default { checks: [{ expr: 'x^2', domain: { x: { interval: [0, 1] } }, runs: 2.5 }] };",
);

const argvs = {
  // Reaching case K skips the K before it: this one took forever.
  hugePath: fuzz("--path", "99999999999999999999"),
  // fast-check's "Unable to replay, got wrong path" came out as an internal error.
  shrinkPath: fuzz("--path", "5:99:99:99"),
  passingReplay: fuzz("--path", "5", "--json"),
  passingReplayText: fuzz("--path", "5:0:1"),
  // A sweep point that passes for two ops: each said "0 runs  ok".
  passingSweepPoint: [
    "fuzz",
    "--ops",
    join(root, "test/fixtures/ops/mixed/two-correct.ts"),
    "--seed",
    "1",
    "--path",
    "sweep:3",
  ],
  hugeSeed: ["fuzz", "--ops", OK, "--seed", "99999999999999999999"],
  hugeRuns: ["fuzz", "--ops", OK, "--runs", "1000000000"],
  // Hex and exponent forms were read as numbers (--seed 0x10 was seed 16), though --at refuses them.
  hexSeed: ["check", "x^2", "--at", "x=3", "--method", "fast", "--seed", "0x10"],
  exponentSeed: ["check", "x^2", "--at", "x=3", "--method", "fast", "--seed", "1e3"],
  hexRuns: ["fuzz", "--ops", OK, "--runs", "0x10"],
  exponentRuns: ["fuzz", "--ops", OK, "--runs", "1e3"],
  gateWorkers: {
    argv: ["gate", join(root, "test/fixtures/gate/passing.config.ts")],
    env: { GRADTRIO_WORKERS: "99999" },
  },
  gateNote: ["gate", join(root, "test/fixtures/gate/passing.config.ts")],
  // Turned the progress lines off in silence.
  ...Object.fromEntries(
    ["abc", "0", "-5", "1.5"].map((ms) => [
      `progress ${ms}`,
      { argv: ["fuzz", "--ops", OK, "--runs", "3"], env: { GRADTRIO_PROGRESS_MS: ms } },
    ]),
  ),
  gateProgress: {
    argv: ["gate", join(root, "test/fixtures/gate/passing.config.ts")],
    env: { GRADTRIO_PROGRESS_MS: "0" },
  },
  fuzzHelp: ["fuzz", "--help"],
  teachHelp: ["teach", "--help"],
  underflow: ["check", "x^2", "--at", "x=1e-400"],
  underflowInArray: ["check", "sum(x^2)", "--at", "x=[1, 2e-324]"],
  underflowInFile: ["check", "sum(x^2)", "--at", "x=@tiny.json", "--json"],
  subnormal: ["check", "x^2", "--at", "x=1e-310", "--json"],
  hugeShard: [
    "gate",
    join(root, "test/fixtures/gate/passing.config.ts"),
    "--shard",
    "99999999999999999999/99999999999999999999",
  ],
  configSeed: ["gate", join(dir, "seed.config.mjs")],
  configRuns: ["gate", join(dir, "runs.config.mjs")],
};
const runs = runsTogether(argvs, { cwd: dir, env: unset, timeout: 120_000 }, 180_000);

describe("fuzz --path, --seed, --runs", () => {
  it("a case past the last one a fuzz runs is refused at once (it hung)", () => {
    oneError(
      runs.hugePath,
      "path '99999999999999999999': case 99999999999999999999 is past the last case a fuzz runs (at most 100000000 runs: cases 0 to 99999999) (a path looks like 12:0:3 or sweep:42, as a counterexample reports it)",
    );
  });

  it("a shrink step past the shrinks there are is named (it was an internal error)", () => {
    oneError(
      runs.shrinkPath,
      /^gradtrio: error: path '5:99:99:99' is no case of seed 1: case 5 has (\d+) shrinks, 5:0 to 5:\d+: there is no 5:99\n$/,
    );
    const [, n, last] = runs.shrinkPath.stderr.match(/has (\d+) shrinks, 5:0 to 5:(\d+)/)!;
    expect(Number(last)).toBe(Number(n) - 1);
  });

  it("a replayed case that passes is one run, shrunk in no step (it said 99 shrinks)", () => {
    const r = runs.passingReplay;
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.found).toBeNull();
    const [op] = json.perOp;
    expect(op).toMatchObject({ runs: 1, shrinks: 0, found: false, counterexample: null });
    // The one case is counted once, whatever it was judged.
    expect(op.agree + op.inconclusive + op.elsewhere + op.legDefects).toBe(1);
  });

  it("a replayed shrink that passes: the text says 1 run and nothing shrunk", () => {
    const r = runs.passingReplayText;
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/sin2xOk +1 runs {2}ok {2}[\d.]+ s\n/);
    expect(r.stdout).not.toContain("shrunk");
  });

  it("a replayed sweep point that passes: each op's line names the point checked (it said 0 runs)", () => {
    const r = runs.passingSweepPoint;
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(4);
    for (const [k, op] of ["pathHypot", "pathSq"].entries())
      expect(lines[1 + k]).toMatch(
        new RegExp(
          `^  ${op} +sweep:3  ok  \\(the op alone at point 3 of its domain sweep: passed the screen\\)  [\\d.]+ s$`,
        ),
      );
    expect(lines[3]).toBe("no counterexample at sweep:3");
    expect(r.stdout).not.toContain("0 runs");
  });

  it("--seed and --runs out of range name their range", () => {
    oneError(
      runs.hugeSeed,
      "option '--seed <S>' argument '99999999999999999999' is invalid. --seed must be an integer from 0 to 9007199254740991",
    );
    oneError(
      runs.hugeRuns,
      "option '--runs <N>' argument '1000000000' is invalid. --runs must be an integer from 1 to 100000000",
    );
  });

  it("--seed and --runs take plain decimal digits only (as --at does)", () => {
    for (const [r, option, text, range] of [
      [runs.hexSeed, "--seed <S>", "0x10", "0 to 9007199254740991"],
      [runs.exponentSeed, "--seed <S>", "1e3", "0 to 9007199254740991"],
      [runs.hexRuns, "--runs <N>", "0x10", "1 to 100000000"],
      [runs.exponentRuns, "--runs <N>", "1e3", "1 to 100000000"],
    ] as const)
      oneError(
        r,
        `option '${option}' argument '${text}' is invalid. ${option.split(" ")[0]} must be an integer from ${range}`,
      );
  });
});

describe("worker threads", () => {
  it("GRADTRIO_WORKERS out of range names the variable and the range, for the gate too", () => {
    oneError(
      runs.gateWorkers,
      "GRADTRIO_WORKERS must be an integer from 1 to 256 (or unset), got '99999'",
    );
  });

  it("GRADTRIO_PROGRESS_MS that is no interval is bad input naming it, as GRADTRIO_WORKERS", () => {
    for (const ms of ["abc", "0", "-5", "1.5"])
      oneError(
        runs[`progress ${ms}` as keyof typeof runs],
        `GRADTRIO_PROGRESS_MS must be an integer from 1 to 2147483647 (milliseconds; or unset), got '${ms}'`,
      );
    oneError(
      runs.gateProgress,
      "GRADTRIO_PROGRESS_MS must be an integer from 1 to 2147483647 (milliseconds; or unset), got '0'",
    );
  });

  it("--help and the README give the same range", () => {
    expect(runs.fuzzHelp.stdout.replace(/\s+/g, " ")).toContain("worker threads, 1 to 256");
    const readme = readFileSync(join(root, "README.md"), "utf8");
    expect(readme).toContain("`GRADTRIO_WORKERS` sets N (an integer from 1 to 256, as `--workers`");
  });

  // The note is said only where the machine has more cores than the job's threads.
  it.skipIf(availableParallelism() < 2)("the gate's note counts cases, not runs", () => {
    const r = runs.gateNote;
    expect(r.code).toBe(0);
    // The note is said where the job's threads are fewer than the cores (the passing config:
    // 5 checks, 4 more random points, 20 fuzz runs of one op: 29 cases).
    expect(r.stderr).toMatch(/^gate: using 1 worker thread, not \d+: 29 cases are too few/);
    expect(r.stderr).not.toContain("runs are too few");
  });
});

describe("teach --at", () => {
  it("its help says it takes @FILE, as check and explain do", () => {
    const help = runs.teachHelp.stdout.replace(/\s+/g, " ");
    expect(help).toContain(
      "--at <NAME=VALUE...> a variable's value: a number, a JSON array or @FILE",
    );
    expect(help).toContain("--at x=@x.json");
  });
});

describe("--at numbers float64 cannot hold", () => {
  it("one that underflows to 0 is refused, as one that overflows is (it became 0)", () => {
    oneError(
      runs.underflow,
      "--at x=1e-400 underflows to 0 in float64 (the smallest nonzero is 5e-324)",
    );
    oneError(
      runs.underflowInArray,
      "--at x=[1, 2e-324]: 2e-324 underflows to 0 in float64 (the smallest nonzero is 5e-324)",
    );
  });

  it("one in an @FILE too, naming the file and the literal (JSON.parse made it 0)", () => {
    oneError(
      runs.underflowInFile,
      "--at x=@tiny.json: 1e-400 underflows to 0 in float64 (the smallest nonzero is 5e-324)",
    );
  });

  it("a subnormal that is not 0 is kept", () => {
    const r = runs.subnormal;
    expect(r.code).toBe(0);
    // d/dx x² = 2x, exact in float64: 2e-310.
    expect(JSON.parse(r.stdout).gradients.x.autograd).toBe(2e-310);
  });
});

describe("gate numbers", () => {
  it("a --shard count past 2^53 − 1 is refused (it rounded: 0 entries run, exit 0)", () => {
    oneError(
      runs.hugeShard,
      "--shard 99999999999999999999/99999999999999999999: N must be at most 9007199254740991",
    );
  });

  it("seed -1 is refused, naming the field (it was accepted)", () => {
    oneError(runs.configSeed, "config: seed must be an integer from 0 to 9007199254740991, got -1");
  });

  it("a domain check's runs must be a whole number", () => {
    oneError(
      runs.configRuns,
      "config: checks[0].runs must be an integer from 1 to 100000000, got 2.5",
    );
  });
});
