// Options given twice (docs/DESIGN.md, the command line): `check`/`explain --ops` load every
// module given, in order; `fuzz --ops` twice and every other single-valued option twice are one
// error line, exit 2, never silently the last one. Through the real bin: the runs start
// together (each bin start is a second of tsx), the tests read their results.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type NamedRun, oneError, root, runsTogether, tempDir, UNSET_WORKERS } from "./run-bin.ts";

const dir = tempDir("gradtrio-options-");
const api = join(root, "src/autograd/index.ts");
// Two modules, each with an op the other lacks: cubeA's backward is wrong (2x² for 3x²).
writeFileSync(
  join(dir, "a.mjs"),
  `import { defineOp } from ${JSON.stringify(api)};
export const cubeA = defineOp({ name: "cubeA", arity: 1, forward: (x) => x * x * x,
  backward: ({ args: [x], grad }) => [2 * x * x * grad], formula: (x) => \`(\${x})^3\` });`,
);
writeFileSync(
  join(dir, "b.ts"),
  `import { defineOp } from ${JSON.stringify(api)};
export const squareB = defineOp({ name: "squareB", arity: 1, forward: (x: number) => x * x,
  backward: ({ args: [x], grad }) => [2 * x! * grad], formula: (x) => \`(\${x})^2\` });`,
);

const point = ["--at", "x=1", "y=2"];
/** [the option given twice, the command line]. */
const twice: [string, string[]][] = [
  ["--wrt", ["check", "x*y", ...point, "--wrt", "x", "--wrt", "y"]],
  ["--order", ["check", "x*y", ...point, "--order", "2", "--order", "1"]],
  ["--dtype", ["check", "x*y", ...point, "--dtype", "float32", "--dtype", "float64"]],
  ["--rtol", ["check", "x*y", ...point, "--rtol", "1e-3", "--rtol", "1e-9"]],
  ["--method", ["explain", "x*y", ...point, "--method", "fast", "--method", "auto"]],
  ["--seed", ["check", "x*y", ...point, "--seed", "1", "--seed", "2"]],
  ["--out", ["teach", "--out", "a.html", "--out", "b.html"]],
  ["--runs", ["fuzz", "--ops", "b.ts", "--runs", "5", "--runs", "9"]],
  ["--workers", ["gate", "--workers", "1", "--workers", "2"]],
];

/** GRADTRIO_WORKERS as unset (empty). */
const unset = UNSET_WORKERS;
/** GRADTRIO_WORKERS values that are no thread count (0x2, 2e0, +2 and 2.0 were read as 2). */
const badWorkers = ["abc", "0", "-1", "1.5", "99999", "0x2", "2e0", "+2", "2.0"];

const cases: Record<string, NamedRun> = {
  checkOps: ["check", "cubeA(x) + squareB(x)", "--at", "x=2", "--ops", "a.mjs", "--ops", "b.ts"],
  explainOps: [
    "explain",
    "cubeA(x) + squareB(x)",
    "--at",
    "x=2",
    "--ops",
    "a.mjs",
    "--ops",
    "b.ts",
  ],
  fuzzOps: ["fuzz", "--ops", "a.mjs", "--ops", "b.ts"],
  ...Object.fromEntries(twice.map(([flag, argv]) => [flag, argv])),
  // Bad input where the worker-thread note would be said: the error line alone.
  maxDepth: ["fuzz", "--ops", "b.ts", "--max-depth", "100"],
  gateBadEntry: { argv: ["gate", join(root, "test/fixtures/gate/bad-expr.config.ts")], cwd: root },
  ...Object.fromEntries(
    badWorkers.map((w) => [
      `GRADTRIO_WORKERS=${w}`,
      { argv: ["fuzz", "--ops", "b.ts", "--runs", "5"], env: { GRADTRIO_WORKERS: w } },
    ]),
  ),
};
const runs = runsTogether(cases, { cwd: dir, env: unset }, 180_000);

describe("--ops given twice", () => {
  it("check loads both modules: cubeA's wrong backward is convicted beside squareB", () => {
    const r = runs.checkOps!;
    expect(r.stderr).toBe("");
    expect(r.code).toBe(1);
    // d/dx (x³ + x²) at 2 = 12 + 4 = 16; autograd's wrong rule gives 8 + 4 = 12.
    expect(r.stdout).toMatch(/blame autograd — autograd gives 12 at x where symbolic gives 16/);
  });

  it("explain loads both modules", () => {
    const r = runs.explainOps!;
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("cubeA(x) + squareB(x)");
  });

  it("fuzz takes one module: one error line, exit 2, nothing fuzzed", () => {
    const r = runs.fuzzOps!;
    oneError(
      r,
      "--ops is given twice: fuzz takes one ops module (export every op from one module, or run fuzz once per module)",
    );
  });
});

describe("a single-valued option given twice is one error line, exit 2", () => {
  it.each(twice.map(([flag]) => [flag]))("%s", (flag) => {
    const r = runs[flag]!;
    oneError(r, `${flag} is given twice`);
  });
});

describe("bad input is one line, also where the fuzz would say how many threads it uses", () => {
  it("--max-depth 100: the error alone (the worker-thread note came first)", () => {
    const r = runs.maxDepth!;
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      "gradtrio: error: option '--max-depth <D>' argument '100' is invalid. --max-depth must be an integer from 1 to 8\n",
    );
  });

  it("gate with a bad entry: the error alone (the worker-thread note came first)", () => {
    const r = runs.gateBadEntry!;
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines[0]).toBe(
      "gradtrio: error: config: checks[1].expr: unknown function 'sine'; did you mean 'sin'?",
    );
    expect(lines.slice(1)).toEqual(["  sine(x)", "  ^"]); // the expression and the caret
  });

  it.each(badWorkers.map((w) => [w]))(
    "GRADTRIO_WORKERS=%s is an error (ignored, or 0x2, 2e0, +2, 2.0 read as 2)",
    (w) => {
      const r = runs[`GRADTRIO_WORKERS=${w}`]!;
      oneError(r, `GRADTRIO_WORKERS must be an integer from 1 to 256 (or unset), got '${w}'`);
    },
  );
});
