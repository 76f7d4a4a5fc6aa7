// The proof of issue 6: with the default runs and a fixed seed, `gradtrio fuzz` finds every
// planted bug of test/fixtures/ops (blaming autograd, shrunk, replayable) and passes every
// correct twin. Each fixture is one module, so each case is one command line.
import { readdirSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { fuzzCommand } from "../src/cli/fuzz.ts";
import { memoryIO } from "../src/cli/io.ts";
import { fuzz } from "../src/fuzz/fuzz.ts";
import { loadOps } from "../src/fuzz/load.ts";

const root = resolve(import.meta.dirname, "..");
const dir = "test/fixtures/ops";
const files = readdirSync(resolve(root, dir));
const bugs = files.filter((f) => f.endsWith(".bug.ts")).sort();
const twins = files.filter((f) => f.endsWith(".ok.ts")).sort();
const SEED = 20261122;

async function run(file: string, extra: { path?: string } = {}) {
  const io = memoryIO({ cwd: root });
  const code = await fuzzCommand({ ops: `${dir}/${file}`, seed: SEED, json: true, ...extra }, io);
  expect(io.stderr.join("\n")).not.toContain("error");
  return { code, json: JSON.parse(io.stdout.join("\n")) };
}

describe("gradtrio fuzz on the planted bugs", () => {
  it("has at least 10 planted bugs, each with a twin", () => {
    expect(bugs.length).toBeGreaterThanOrEqual(10);
    expect(twins.map((f) => f.replace(".ok.ts", ""))).toEqual(
      bugs.map((f) => f.replace(".bug.ts", "")),
    );
  });

  it.each(bugs)("finds %s, blames autograd, and replays it from seed and path", async (file) => {
    const { code, json } = await run(file);
    expect(code).toBe(1);
    const found = json.found;
    expect(found.blame).toBe("autograd");
    expect(found.verdict).toBe("disagree");
    // The three legs are there, and the two others agree with each other, not with autograd.
    // The input where autograd is furthest from symbolic (the others may differ by rounding).
    const off = (v: Record<string, number>) => Math.abs(v.autograd! - v.symbolic!);
    const g = Object.values(found.gradients as Record<string, Record<string, number>>).reduce(
      (a, b) => (off(b) > off(a) ? b : a),
    );
    expect(Math.abs(g.symbolic! - g.numeric!)).toBeLessThan(1e-6 * Math.abs(g.symbolic!) + 1e-12);
    // Autograd is off from both by more than the numeric leg's own reported error.
    expect(Math.abs(g.autograd! - g.numeric!)).toBeGreaterThan(g.numericError!);
    expect(Math.abs(g.autograd! - g.symbolic!)).toBeGreaterThan(g.numericError!);
    expect(found.replay.fuzz).toBe(
      `gradtrio fuzz --ops ${dir}/${file} --seed ${SEED} --path ${found.path}`,
    );
    const again = await run(file, { path: found.path });
    expect(again.code).toBe(1);
    expect([again.json.found.expr, again.json.found.at]).toEqual([found.expr, found.at]);
  });

  it("finds a 5% fault on 0.5% of the domain with every seed from 1 to 10", async () => {
    const ops = (await loadOps(`${dir}/narrow-fault.bug.ts`, root)).map((o) => o.definition);
    for (let seed = 1; seed <= 10; seed++) {
      const cx = fuzz({ ops, seed, runs: 1 }).found;
      expect(cx?.blame, `seed ${seed}`).toBe("autograd");
      // The fault: x in (2.1, 2.15).
      expect(cx!.at.x as number).toBeGreaterThan(2.1);
      expect(cx!.at.x as number).toBeLessThan(2.15);
    }
  });

  it.each(twins)("passes the correct twin %s", async (file) => {
    const { code, json } = await run(file);
    expect(json.found).toBeNull();
    expect(code).toBe(0);
    expect(json.perOp[0].runs).toBeGreaterThanOrEqual(100);
  });
});
