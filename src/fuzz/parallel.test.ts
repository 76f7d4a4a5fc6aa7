import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { Claims } from "./claims.ts";
import type { FuzzResult } from "./fuzz.ts";
import { loadOps } from "./load.ts";
import { FuzzRun, Interrupted, plannedWorkers, workerPool } from "./parallel.ts";

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
    // Two threads (this one and a worker) and three: the tasks go wherever a thread is free.
    for (const threads of [2, 3]) {
      const pool = workerPool(threads, { ops: [file] })!;
      let many: FuzzResult;
      try {
        many = await new FuzzRun(opts, file).run(pool);
      } finally {
        await pool.close();
      }
      expect(outcome(many)).toEqual(outcome(one));
    }
    // Found in compositions (the 1-point sweep misses it), shrunk, and cubeRight not failed.
    const [cube, softplus] = one.perOp;
    expect(cube!.found).toBe(false);
    expect(softplus!.counterexample!.path).toMatch(/^\d+(:\d+)+$/);
    expect(softplus!.shrinks).toBeGreaterThan(0);
  });

  it("runs tasks on this thread, and on the pool's thread once it is ready", async () => {
    const pool = workerPool(2, {})!;
    let here = 0;
    let there = 0;
    try {
      const t0 = performance.now();
      // The worker answers a "ready" task with null; this thread with "here", after a while.
      while (there === 0 && performance.now() - t0 < 30_000) {
        const answers = await Promise.all(
          Array.from({ length: 4 }, () =>
            pool.run<string | null>({ kind: "ready" }, () => {
              const t = performance.now();
              while (performance.now() - t < 20);
              return "here";
            }),
          ),
        );
        here += answers.filter((a) => a === "here").length;
        there += answers.filter((a) => a === null).length;
      }
    } finally {
      await pool.close();
    }
    expect(here).toBeGreaterThan(0);
    expect(there).toBeGreaterThan(0);
  });
});

describe("a round of claimed tasks", () => {
  it("a pool thread's failure reaches answers(), and an abandoned round leaves nothing unhandled", async () => {
    const pool = workerPool(2, {})!;
    let unhandled = 0;
    const count = () => unhandled++;
    process.on("unhandledRejection", count);
    try {
      // Until the pool's thread is ready (it answers "ready" with null; this thread with "here").
      const t0 = performance.now();
      while ((await pool.run<string | null>({ kind: "ready" }, () => "here")) !== null)
        if (performance.now() - t0 > 30_000) throw new Error("the pool's thread never got ready");
      const claims = Claims.create(1, 2, true);
      // An ops module that does not exist: the pool's thread fails the round.
      const round = (file: string) =>
        pool.share<unknown>(
          (slot) => ({
            kind: "claims",
            file,
            settings: { runs: 1, seed: 1, maxDepth: 2, sweepPoints: 1, opsFile: file } as never,
            tasks: [{ kind: "sweep", op: 0 }],
            buffer: claims.buffer as SharedArrayBuffer,
            ops: 1,
            slot,
          }),
          () => true,
        );
      await expect(round("/no/such/ops.ts").answers()).rejects.toThrow(/no such file/);
      // The same, never read: its rejection must not surface.
      round("/no/such/other.ts");
      await new Promise((r) => setTimeout(r, 500));
      expect(unhandled).toBe(0);
    } finally {
      process.off("unhandledRejection", count);
      await pool.close();
    }
  });
});

describe("plannedWorkers", () => {
  it("keeps the threads asked for; by default as many as pay for their start", () => {
    const before = process.env.GRADTRIO_WORKERS;
    try {
      process.env.GRADTRIO_WORKERS = "";
      expect(plannedWorkers(3, 10, "runs")).toEqual({ threads: 3, note: null });
      const threads = (cases: number, cores: number) =>
        plannedWorkers(undefined, cases, "runs", cores);
      // 2 cores: V8's helpers take the second core from one thread, so a second thread starts
      // only for a job long enough to pay for its warming up there: 2 × 7500 cases.
      expect(threads(10, 2)).toEqual({
        threads: 1,
        note: "using 1 worker thread, not 2: 10 runs are too few to pay for starting more (--workers 2 forces 2)",
      });
      expect(threads(14_999, 2).threads).toBe(1);
      expect(threads(15_000, 2)).toEqual({ threads: 2, note: null });
      expect(threads(10 ** 7, 2).threads).toBe(2);
      // 4 cores: two threads on cores of their own once each has 1500 cases; a third and a
      // fourth on taken cores at 3 × 2 × 7500 and 4 × 3 × 7500 cases.
      expect(threads(2_999, 4).threads).toBe(1);
      expect(threads(3_000, 4).threads).toBe(2);
      expect(threads(44_999, 4).threads).toBe(2);
      expect(threads(45_000, 4).threads).toBe(3);
      expect(threads(90_000, 4)).toEqual({ threads: 4, note: null });
      // 8 cores: up to 5 on cores of their own (1500 cases each), then one per 7500 × t(t−1).
      expect(threads(7_499, 8).threads).toBe(4);
      expect(threads(7_500, 8).threads).toBe(5);
      expect(threads(224_999, 8).threads).toBe(5);
      expect(threads(225_000, 8).threads).toBe(6);
      expect(threads(10, 1)).toEqual({ threads: 1, note: null });
      expect(plannedWorkers(undefined, 10, "runs").threads).toBe(1);
      process.env.GRADTRIO_WORKERS = "5";
      expect(plannedWorkers(undefined, 10, "runs")).toEqual({ threads: 5, note: null });
      // Spaces around the digits, as --workers ' 5' takes them (Number() skips them).
      process.env.GRADTRIO_WORKERS = " 5 ";
      expect(plannedWorkers(undefined, 10, "runs")).toEqual({ threads: 5, note: null });
    } finally {
      if (before === undefined) delete process.env.GRADTRIO_WORKERS;
      else process.env.GRADTRIO_WORKERS = before;
    }
  });
});

describe("interrupting a fuzz", () => {
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
    const partial = run.partial();
    expect(partial.runs).toBe(3);
    expect([...run.inFlight].map((t) => t.kind)).toEqual(["judge"]);
    // An op's time so far counts its expressions judged, not its sweep alone.
    for (const s of partial.perOp.filter((o) => o.runs > 0)) {
      expect(s.ms).toBeGreaterThan(s.sweep!.ms);
      expect(s.ms).toBeLessThanOrEqual(partial.ms);
    }
  });
});

describe("interrupting a fuzz on worker threads", () => {
  it("rejects with Interrupted, keeps every run read so far and names the tasks in flight", async () => {
    // A correct op: every round judges cases until the signal.
    const ok = resolve(import.meta.dirname, "../../test/fixtures/ops/wrong-sign.ok.ts");
    const ops = (await loadOps(ok, "/")).map((o) => o.definition);
    const stop = new AbortController();
    let runs = 0;
    const run = new FuzzRun(
      {
        ops,
        seed: 2,
        runs: 1000,
        sweepPoints: 1,
        onProgress: (p) => {
          if (p.phase === "run" && ++runs === 40) stop.abort();
        },
      },
      ok,
    );
    const pool = workerPool(2, { ops: [ok] })!;
    try {
      await expect(run.run(pool, stop.signal)).rejects.toBeInstanceOf(Interrupted);
    } finally {
      await pool.close();
    }
    // The round that was read when the signal came is counted whole; the next one was stopped.
    expect(runs).toBeGreaterThanOrEqual(40);
    expect(run.partial().runs).toBe(runs);
    expect(runs).toBeLessThan(1000);
    const flying = [...run.inFlight];
    expect(flying.length).toBeGreaterThan(0);
    expect(flying.every((t) => t.kind === "judge")).toBe(true);
  });
});
