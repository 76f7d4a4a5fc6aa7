/**
 * A fuzz counterexample's report gives each input's gradient formula, the one its replay
 * `gradtrio check` shows. Judging composes derivatives and builds no display formulas; the
 * reported case alone is derived once more, whole (not once per shrink step).
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it, vi } from "vitest";
import { check } from "../src/check/check.ts";
import { fuzz } from "../src/fuzz/fuzz.ts";
import { softabs } from "./fixtures/ops/negative-inputs.bug.ts";

/** Symbolic legs run with display formulas built (not composing derivatives). */
const whole = vi.hoisted(() => ({ runs: 0 }));
vi.mock("../src/symbolic/leg.ts", async (importOriginal) => {
  const leg = await importOriginal<typeof import("../src/symbolic/leg.ts")>();
  const { composingDerivatives } = await import("../src/symbolic/compose.ts");
  return {
    ...leg,
    symbolicLeg: (...args: Parameters<typeof leg.symbolicLeg>) => {
      if (!composingDerivatives()) whole.runs++;
      return leg.symbolicLeg(...args);
    },
  };
});

const root = new URL("..", import.meta.url).pathname;
const bin = `${root}bin/gradtrio.js`;

interface Found {
  expr: string;
  at: Record<string, unknown>;
  report: { gradients: Record<string, { formula: string | null }> };
  replay: { check: string };
}

const formulas = (gradients: Record<string, { formula: string | null }>) =>
  Object.fromEntries(Object.entries(gradients).map(([k, g]) => [k, g.formula]));

/** `gradtrio fuzz --json` on a planted bug, then its printed replay command, both through the bin. */
function fuzzAndReplay(ops: string): { found: Found; replayed: Record<string, string | null> } {
  const run = spawnSync("node", [bin, "fuzz", "--ops", ops, "--seed", "3", "--json"], {
    cwd: root,
    encoding: "utf8",
  });
  expect(run.status).toBe(1);
  const found = JSON.parse(run.stdout).found as Found;
  expect(found.replay.check).toMatch(/^gradtrio check /);
  // The command as printed (shell-quoted), with the checkout's bin for `gradtrio`.
  const replay = spawnSync(
    "sh",
    ["-c", `node ${bin} ${found.replay.check.slice("gradtrio ".length)} --json`],
    { cwd: root, encoding: "utf8" },
  );
  expect(replay.status).toBe(1);
  return { found, replayed: formulas(JSON.parse(replay.stdout).gradients) };
}

describe("a fuzz counterexample's gradient formulas", () => {
  it("are what its replay check prints, by hand d/dx cos(x) = -sin(x) (wrong-sign, CLI)", () => {
    const { found, replayed } = fuzzAndReplay("test/fixtures/ops/wrong-sign.bug.ts");
    expect(found.expr).toMatch(/^mycos\(x\)$/);
    expect(formulas(found.report.gradients)).toEqual({ x: "-sin(x)" });
    expect(replayed).toEqual({ x: "-sin(x)" });
  });

  it("are what its replay check prints for each input, by hand ∂(xy²) = (y², 2xy) (swapped-partials, CLI)", () => {
    const { found, replayed } = fuzzAndReplay("test/fixtures/ops/swapped-partials.bug.ts");
    expect(found.expr).toBe("mulsq(x, y)");
    expect(formulas(found.report.gradients)).toEqual({ x: "y^2", y: "2*x*y" });
    expect(replayed).toEqual({ x: "y^2", y: "2*x*y" });
  });

  it("of a case found in compositions and shrunk are check's, derived once for the counterexample", () => {
    const before = whole.runs;
    // One sweep point: the composed expressions find the bug (negative inputs), then shrink it.
    const r = fuzz({ ops: [softabs], runs: 200, seed: 3, sweepPoints: 1 });
    const runs = whole.runs - before;
    const cx = r.found!;
    expect(cx.path).not.toMatch(/^sweep:/);
    expect(r.perOp[0]!.shrinks).toBeGreaterThan(10);
    expect(runs).toBe(1);
    // softabs(softabs(softabs(z))) = sqrt(z² + 3): by hand, d/dz = z/sqrt(z² + 3).
    expect(cx.expr).toBe("softabs(softabs(softabs(z)))");
    expect(cx.report!.gradients.z!.formula).toBe("z/sqrt(z^2+3)");
    expect(cx.report!.gradients.z!.formula).toBe(
      check(cx.expr, { at: cx.at }).gradients.z!.formula,
    );
  });
});
