// What a learner coming from PyTorch notebooks types, and the hint each gets: one error line
// (plus the caret for errors in the expression), exit 2 — or, for Python floats, the check runs.
import { describe, expect, it } from "vitest";
import { memoryIO } from "../src/cli/io.ts";
import { main } from "../src/cli/main.ts";

async function run(...argv: string[]) {
  const io = memoryIO();
  const code = await main(argv, io);
  return { code, out: io.stdout, errLines: io.stderr.join("\n").split("\n") };
}

describe("hints for Python and PyTorch habits", () => {
  it.each([
    [
      "torch.sin(x)",
      "unexpected '.'; write sin(x) without 'torch.': functions are called by name",
      5,
    ],
    [
      "math.cos(x)",
      "unexpected '.'; write cos(x) without 'math.': functions are called by name",
      4,
    ],
    [
      "torch.nn.functional.relu(x)",
      "unexpected '.'; write relu(x) without 'torch.': functions are called by name",
      5,
    ],
    [
      "x.pow(2)",
      "unexpected '.'; method syntax is not part of the language: write pow(x, 2) or x^2",
      1,
    ],
    ["x.sum()", "unexpected '.'; method syntax is not part of the language: write sum(x)", 1],
    [
      "x.grad + 1",
      "unexpected '.'; a name cannot contain '.' (method and attribute syntax is not part of the language)",
      1,
    ],
    ["ln(x)", "unknown function 'ln'; did you mean 'log'? (log is the natural logarithm)", 0],
    ["x**2", "unexpected '**'; write powers with '^'", 1],
  ] as const)("%s", async (expr, message, column) => {
    const r = await run("check", expr, "--at", "x=1");
    expect(r.code).toBe(2);
    expect(r.errLines).toEqual([
      `gradtrio: error: ${message}`,
      `  ${expr}`,
      `  ${" ".repeat(column)}^`,
    ]);
  });

  it("accepts Python floats in an array: x=[1.,2.,3.] is [1, 2, 3]", async () => {
    const r = await run("check", "sum(x^2)", "--at", "x=[1.,2.,3.]", "--json");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out[0]!).gradients.x.autograd).toEqual([2, 4, 6]);
    const half = await run("check", "sum(x)", "--at", "x=[.5, -.5]", "--json");
    expect(JSON.parse(half.out[0]!).at.x).toEqual([0.5, -0.5]);
  });

  it.each([
    [
      "x=1,2,3 → brackets",
      ["sum(x)", "--at", "x=1,2,3"],
      "--at x=1,2,3: a vector is written in brackets: --at x=[1,2,3]",
    ],
    [
      "names are case-sensitive",
      ["sin(X)", "--at", "x=1"],
      "missing --at for 'X': the expression uses 'X'; add --at X=… ('x' is not a variable of the expression); names are case-sensitive: 'x' is not 'X'",
    ],
    [
      "the expression after --at",
      ["--at", "x=1", "sin(x)"],
      "missing the expression: 'sin(x)' after --at was read as a NAME=VALUE; give the expression first, e.g. gradtrio check 'sin(x)' --at …",
    ],
  ] as const)("%s", async (_n, argv, message) => {
    const r = await run("check", ...argv);
    expect(r.code).toBe(2);
    expect(r.out).toEqual([]);
    expect(r.errLines).toEqual([`gradtrio: error: ${message}`]);
  });

  it("explain gives the same hint for an expression after --at", async () => {
    const r = await run("explain", "--at", "x=1", "x^2");
    expect(r.errLines[0]).toMatch(/^gradtrio: error: missing the expression: 'x\^2' after --at/);
  });
});
