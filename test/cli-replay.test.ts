/**
 * A counterexample the fuzzer prints can be replayed: `fuzz --seed S --path P` finds the same
 * case, and `check EXPR --at … --ops FILE` shows the same blame with the module's ops loaded.
 */
import { describe, expect, it } from "vitest";
import { memoryIO } from "../src/cli/io.ts";
import { main } from "../src/cli/main.ts";

const BUG = "test/fixtures/ops/wrong-sign.bug.ts";

describe("replaying a fuzz counterexample", () => {
  it("check without --ops does not know the module's op (run first: ops register globally)", async () => {
    const io = memoryIO();
    expect(await main(["check", "mycos(x)", "--at", "x=0.5"], io)).toBe(2);
    expect(io.stderr[0]).toMatch(/^gradtrio: error: unknown function 'mycos'/);
  });
  it("finds the same case by seed and path, and check --ops convicts autograd", async () => {
    const first = memoryIO();
    expect(await main(["fuzz", "--ops", BUG, "--seed", "7", "--json"], first)).toBe(1);
    const found = JSON.parse(first.stdout.join("\n")).found;
    expect(found.blame).toBe("autograd");

    const again = memoryIO();
    const replay = [
      "fuzz",
      "--ops",
      BUG,
      "--seed",
      String(found.seed),
      "--path",
      found.path,
      "--json",
    ];
    expect(await main(replay, again)).toBe(1);
    const refound = JSON.parse(again.stdout.join("\n")).found;
    expect(refound.expr).toBe(found.expr);
    expect(refound.at).toEqual(found.at);

    const at = Object.entries(found.at as Record<string, unknown>).map(
      ([k, v]) => `${k}=${JSON.stringify(v)}`,
    );
    const check = memoryIO();
    expect(await main(["check", found.expr, "--at", ...at, "--ops", BUG, "--json"], check)).toBe(1);
    expect(JSON.parse(check.stdout.join("\n"))).toMatchObject({
      verdict: "disagree",
      blame: "autograd",
    });
  });
});

describe("replaying a path that is no case, or one that passes", () => {
  const MIXED = "test/fixtures/ops/mixed/correct-and-wrong.ts";
  it("a sweep point past the sweep's end is one error line, exit 2 (it printed '0 runs ok')", async () => {
    const io = memoryIO();
    const argv = ["fuzz", "--ops", MIXED, "--seed", "1", "--path", "sweep:99999"];
    expect(await main(argv, io)).toBe(2);
    expect(io.stdout).toEqual([]);
    expect(io.stderr).toEqual([
      "gradtrio: error: path 'sweep:99999' is no case: the sweep has points sweep:0 to sweep:9999",
    ]);
  });
  it.each([
    ["", "empty"],
    [":", "the case index is empty"],
    ["5:", "shrink step 1 is empty (a trailing ':')"],
    ["5::1", "shrink step 1 is empty"],
    ["-1", "the case index '-1' is not a whole number ≥ 0"],
    ["1.5", "the case index '1.5' is not a whole number ≥ 0"],
    ["5:x", "shrink step 1 'x' is not a whole number ≥ 0"],
    ["sweep:", "the sweep point is empty"],
    ["sweep:1:2", "a sweep point has no shrink steps"],
  ])("a malformed path '%s' is one error line naming the part, exit 2", async (path, why) => {
    const io = memoryIO();
    expect(await main(["fuzz", "--ops", MIXED, "--seed", "1", "--path", path], io)).toBe(2);
    expect(io.stdout).toEqual([]);
    expect(io.stderr).toEqual([
      `gradtrio: error: path '${path}': ${why} (a path looks like 12:0:3 or sweep:42, as a counterexample reports it)`,
    ]);
  });
  it("too many shrink steps: the first one past the end is named (fast-check's internal error)", async () => {
    const io = memoryIO();
    const path = `5${":0".repeat(40)}`;
    expect(await main(["fuzz", "--ops", MIXED, "--seed", "1", "--path", path], io)).toBe(2);
    expect(io.stdout).toEqual([]);
    expect(io.stderr).toHaveLength(1);
    expect(io.stderr[0]).toMatch(
      new RegExp(
        `^gradtrio: error: path '${path}' is no case of seed 1: case 5(:0)* shrinks no further: there is no 5(:0)+$`,
      ),
    );
  });
  it("a path that is a case of one op but not of another says so for that op (it printed '0 runs ok')", async () => {
    const TWO = "test/fixtures/ops/mixed/two-correct.ts";
    const run = async (path: string, json = false) => {
      const io = memoryIO();
      const argv = ["fuzz", "--ops", TWO, "--seed", "1", "--path", path, "--workers", "1"];
      expect(await main(json ? [...argv, "--json"] : argv, io)).toBe(0);
      return io.stdout;
    };
    const text = await run("7:30");
    expect(text.find((l) => l.includes("pathHypot"))).toMatch(/pathHypot +1 runs {2}ok {2}/);
    expect(text.find((l) => l.includes("pathSq"))).toMatch(
      /pathSq +0 runs {2}no case at --path {2}/,
    );
    const note = text.find((l) => l.includes("names no case"))!;
    const m =
      /^ {4}note: path '7:30' names no case of this op: case 7 has (\d+) shrinks, 7:0 to 7:(\d+): there is no 7:30$/.exec(
        note,
      );
    expect(m, note).not.toBeNull();
    const last = Number(m![2]);
    expect(Number(m![1])).toBe(last + 1);
    const json = JSON.parse((await run("7:30", true)).join("\n"));
    expect(
      json.perOp.map((s: { op: string; notAtPath: string | null }) => [s.op, s.notAtPath]),
    ).toEqual([
      ["pathHypot", null],
      ["pathSq", note.slice("    note: ".length)],
    ]);
    // The count it gives holds: the last shrink is a case of pathSq, the next one is none.
    expect((await run(`7:${last}`)).find((l) => l.includes("pathSq"))).toMatch(
      /pathSq +1 runs {2}ok/,
    );
    expect((await run(`7:${last + 1}`)).find((l) => l.includes("pathSq"))).toMatch(
      /pathSq +0 runs {2}no case at --path/,
    );
  });
  it("an op whose replayed case passes was shrunk in no step: the line does not say 'shrunk'", async () => {
    const io = memoryIO();
    expect(await main(["fuzz", "--ops", MIXED, "--seed", "1", "--path", "5"], io)).toBe(1);
    const right = io.stdout.find((l) => l.includes("cubeRight"))!;
    expect(right).toMatch(/cubeRight +1 runs {2}ok {2}/);
    expect(right).not.toContain("shrunk");
  });
});
