import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import type { FuzzResult } from "./fuzz.ts";
import { loadOps } from "./load.ts";
import { FuzzRun, Interrupted, workerPool } from "./parallel.ts";

const file = resolve(import.meta.dirname, "../../test/fixtures/ops/mixed/cube-and-softplus.ts");

/** Everything but the timings. */
function outcome(r: FuzzResult) {
  return r.perOp.map(({ ms: _, msToDetection: __, sweep, ...s }) => ({
    ...s,
    sweep: { points: sweep.points, suspects: sweep.suspects },
    counterexample:
      s.counterexample === null
        ? null
        : { ...s.counterexample, report: s.counterexample.report?.verdict ?? null },
  }));
}

describe("fuzzing on worker threads", () => {
  it("gives the same result as one thread: the same counterexample, the same shrink", async () => {
    const ops = (await loadOps(file, "/")).map((o) => o.definition);
    const opts = { ops, seed: 1, runs: 60, sweepPoints: 1, opsFile: "ops.ts" };
    const one = await new FuzzRun(opts, file).run(null);
    const pool = workerPool(2)!;
    let two: FuzzResult;
    try {
      two = await new FuzzRun(opts, file).run(pool);
    } finally {
      await pool.close();
    }
    expect(outcome(two)).toEqual(outcome(one));
    // Found in compositions (the 1-point sweep misses it), shrunk, and cubeRight not failed.
    const [cube, softplus] = one.perOp;
    expect(cube!.found).toBe(false);
    expect(softplus!.counterexample!.path).toMatch(/^\d+(:\d+)+$/);
    expect(softplus!.shrinks).toBeGreaterThan(0);
  });

  it("an interrupted run rejects with Interrupted and keeps what was done", async () => {
    const ops = (await loadOps(file, "/")).map((o) => o.definition);
    const stop = new AbortController();
    let runs = 0;
    const run = new FuzzRun({
      ops,
      seed: 2,
      runs: 1000,
      onProgress: (p) => {
        if (p.phase === "run" && ++runs === 3) stop.abort();
      },
    });
    await expect(run.run(null, stop.signal)).rejects.toBeInstanceOf(Interrupted);
    expect(run.partial().runs).toBe(3);
    expect([...run.inFlight].map((t) => t.kind)).toEqual(["judge"]);
  });
});
