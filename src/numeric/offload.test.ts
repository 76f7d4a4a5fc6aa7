// Fast mode's numeric leg on a worker thread (offload.ts, leg-thread.ts): the numbers are those
// the leg computes on this thread, to the bit; the scalars' partials are the hand formula; a
// runner that fails or gives nothing, or a worker that dies without a word, costs time (little),
// never a number; the leg's reported time is its own, where it ran; and what a worker cannot do
// (custom ops) or need not (small inputs, another method) stays on this thread.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { logisticPartials, logisticPoint } from "../../test/fixtures/logistic.ts";
import { WORKER_RAN } from "../../test/run-bin.ts";
import { defineOp } from "../autograd/index.ts";
import { check } from "../check/check.ts";
import { parse } from "../expr/parse.ts";
import { type Point, toValues } from "../expr/point.ts";
import { mulberry32 } from "../random.ts";
import {
  type NumericLegResult,
  numericLeg,
  OFFLOAD_MIN,
  runNumericLeg,
  startNumericLeg,
} from "./leg.ts";
import { legThread, legThreadWith, STALL_MS } from "./leg-thread.ts";
import { type NumericJob, type NumericRunner, setNumericRunner, type TimedLeg } from "./offload.ts";

afterEach(() => setNumericRunner(null));

const n = OFFLOAD_MIN + 17;
const { x, y } = logisticPoint(n, mulberry32(11));
const expr = parse("mean(bce(sigmoid(w*x+b), y))");
const values = () => toValues({ w: 0.5, b: -0.2, x, y });

/** Everything the leg says, as text (Float64Arrays as arrays): equal means equal to the bit. */
const said = (l: NumericLegResult): string =>
  JSON.stringify({ ...l, gradients: [...l.gradients!], errors: [...l.errors!] }, (_, v) =>
    v instanceof Float64Array ? [...v] : v,
  );

/** A runner that records what it was asked, what came back and how long this thread waited. */
function recording(inner: NumericRunner) {
  const log = {
    started: [] as NumericJob[],
    taken: [] as boolean[],
    got: [] as (TimedLeg | undefined)[],
    waitMs: [] as number[],
  };
  const runner: NumericRunner = (job) => {
    log.started.push(job);
    const p = inner(job);
    if (p === undefined) return undefined;
    return {
      take() {
        const t0 = performance.now();
        const got = p.take();
        log.waitMs.push(performance.now() - t0);
        log.taken.push(got !== undefined);
        log.got.push(got);
        return got;
      },
    };
  };
  return { runner, log };
}

describe("fast mode's numeric leg on a worker thread", () => {
  it("says what the leg says on this thread, to the bit; w's and b's partials are the hand formula", () => {
    const here = numericLeg(expr, values());
    const { runner, log } = recording(legThread);
    setNumericRunner(runner);
    const { result: there } = startNumericLeg(expr, values(), { seed: 3 })();
    expect(log.started).toHaveLength(1);
    expect(log.started[0]!.opts).toEqual({ seed: 3 });
    expect(log.taken).toEqual([true]);
    // Another seed, another u: the worker's own result (not this thread's) came back.
    expect(said(there)).not.toBe(said(here));
    expect(said(there)).toBe(said(numericLeg(expr, values(), { seed: 3 })));
    // ∂/∂w mean(bce(σ(wx + b), y)) = mean((σ − y)·x), ∂/∂b = mean(σ − y).
    const { dw, db } = logisticPartials(x, y, 0.5, -0.2);
    const g = there.gradients!;
    const e = there.errors!;
    expect(Math.abs(g.get("w")![0]! - dw)).toBeLessThanOrEqual(
      e.get("w")![0]! + 1e-12 * Math.abs(dw),
    );
    expect(Math.abs(g.get("b")![0]! - db)).toBeLessThanOrEqual(
      e.get("b")![0]! + 1e-12 * Math.abs(db),
    );
    expect(there.method).toBe("fast");
    expect(there.notes.join(" ")).toContain("w, b per element by the complex step");
  });

  it.each([
    ["gives nothing", (() => ({ take: () => undefined })) as NumericRunner],
    [
      "throws as it starts",
      (() => {
        throw new Error("no threads here");
      }) as NumericRunner,
    ],
  ])("a runner that %s: the leg runs on this thread, the same numbers", (_, broken) => {
    const here = numericLeg(expr, values());
    setNumericRunner(broken);
    expect(said(startNumericLeg(expr, values())().result)).toBe(said(here));
  });

  it("is not asked for small inputs, another method, or custom ops", () => {
    const { runner, log } = recording(() => undefined);
    setNumericRunner(runner);
    const small = toValues({ w: 0.5, b: -0.2, x: x.slice(0, 5000), y: y.slice(0, 5000) });
    startNumericLeg(expr, small)();
    startNumericLeg(expr, values(), { method: "richardson" });
    defineOp({
      name: "offloadSq",
      arity: 1,
      forward: (a) => a * a,
      backward: ({ args: [a], grad }) => [2 * a! * grad],
    });
    startNumericLeg(parse("mean(offloadSq(w*x+b))"), toValues({ w: 0.5, b: -0.2, x }))();
    expect(log.started).toEqual([]);
    // Asked where it applies (the runner gives nothing: the leg runs here).
    startNumericLeg(expr, values(), { wrt: ["w"] })();
    expect(log.started.map((j) => j.opts)).toEqual([{ wrt: ["w"] }]);
  });
});

describe("the worker's heartbeat", () => {
  it("beats at every evaluation of f, Richardson's too (a stage of dozens is no stall)", () => {
    // At a kink the complex step does not apply: uᵀ∇f and w's partial go by Richardson, whose
    // evaluations of f each beat; were only the stages to beat, f, uᵀ∇f and w make 3.
    const xs = Array.from({ length: 1500 }, (_, k) => (k === 7 ? 0.4 : Math.sin(k)));
    let beats = 0;
    const r = runNumericLeg(parse("mean(relu(w*x-0.2))"), toValues({ w: 0.5, x: xs }), {}, () => {
      beats++;
    });
    expect(r.method).toBe("fast");
    expect(r.directional!.method).toBe("richardson");
    // Richardson's evaluations over the point: dozens per stage.
    expect(beats).toBeGreaterThan(20);
  });
});

describe("the vote's rounding bounds, had while the leg runs elsewhere", () => {
  /** The report without its times (they differ from run to run). */
  const untimed = (r: ReturnType<typeof check>) =>
    JSON.stringify(r, (k, v) => (k === "ms" ? undefined : v));
  // A runner that runs the leg when taken: check sees it as elsewhere, and has the bounds early.
  const later: NumericRunner = (job) => ({
    take: () => ({ result: numericLeg(job.expr, job.values, job.opts), ms: 1 }),
  });

  it.each([
    ["mean(bce(sigmoid(w*x+b), y))", { w: 0.5, b: -0.2, x, y }, "agree"],
    // Exact gradients (w and each x): no suspects, nothing asked for early.
    ["sum(x*w)", { x, w: 2 }, "agree"],
    // A small vector (every element asked for early) beside a large one; x·1e-9 makes the
    // cancellation in (1 − cos u)/u² ill-conditioned: the bounds decide the verdict.
    [
      "sum((1-cos(x*1e-7))/(x*1e-7)^2)*mean(v^2)+sum(v*w)",
      { x, v: [0.5, -1, 2], w: 3 },
      "inconclusive",
    ],
  ] as const)("%s: the report is the one without (to the bit)", (src, at, verdict) => {
    const alone = check(src, { at: at as Point });
    expect(alone.verdict).toBe(verdict);
    setNumericRunner(later);
    const early = check(src, { at: at as Point });
    expect([early.verdict, early.reason]).toEqual([alone.verdict, alone.reason]);
    // (As one boolean: a report of 65553-element gradients is too long a failure message.)
    expect(untimed(early) === untimed(alone)).toBe(true);
  });
});

describe("a worker started ahead of its job (prestart)", () => {
  const COUNTING = new URL("../../test/fixtures/counting-leg-entry.mjs", import.meta.url);
  const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

  it("runs the next job (no other thread started): the numbers of this thread's leg, to the bit", () => {
    const file = join(mkdtempSync(join(tmpdir(), "gradtrio-prestart-")), "starts");
    writeFileSync(file, "");
    const starts = () => readFileSync(file, "utf8").split("\n").filter(Boolean).length;
    process.env.GRADTRIO_TEST_STARTS = file;
    try {
      const runner = legThreadWith({ entry: COUNTING });
      runner.prestart();
      runner.prestart(); // one spare at a time
      // Its thread starts before any job is given.
      for (let t = 0; t < 200 && starts() === 0; t++) sleep(50);
      expect(starts()).toBe(1);
      const job = { expr, values: values(), opts: { seed: 5 } };
      const got = runner(job)!.take();
      expect(got).toBeDefined();
      expect(said(got!.result)).toBe(said(numericLeg(expr, values(), { seed: 5 })));
      expect(starts()).toBe(1);
      // The spare is used up: the next job starts its own thread.
      expect(said(runner(job)!.take()!.result)).toBe(said(got!.result));
      expect(starts()).toBe(2);
    } finally {
      delete process.env.GRADTRIO_TEST_STARTS;
    }
  });
});

describe("a worker that fails", () => {
  it("gives nothing at once, and says why with GRADTRIO_DEBUG=1", () => {
    // A point without y: the worker's leg throws (unknown variable).
    const pending = legThread({
      expr,
      values: toValues({ w: 0.5, b: -0.2, x: [1, 2] }),
      opts: {},
    })!;
    const t0 = Date.now();
    const { value, stderr } = debugged(() => pending.take());
    expect(value).toBeUndefined();
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(stderr).toMatch(/^gradtrio: debug: fast mode's numeric leg on a worker thread: .*'y'/);
  });
});

/** What `run` writes to stderr with GRADTRIO_DEBUG=1, and what it returns. */
function debugged<T>(run: () => T): { value: T; stderr: string } {
  const written: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((s: string) => written.push(s) > 0) as typeof process.stderr.write;
  process.env.GRADTRIO_DEBUG = "1";
  try {
    return { value: run(), stderr: written.join("") };
  } finally {
    process.stderr.write = write;
    delete process.env.GRADTRIO_DEBUG;
  }
}

const now = () => performance.timeOrigin + performance.now();
const DYING = new URL("../../test/fixtures/dying-leg-entry.mjs", import.meta.url);

/**
 * A runner whose worker (test/fixtures/dying-leg-entry.mjs, the real entry inside) dies as `die`
 * says, or for "slow" sleeps `paceMs` after its first evaluation and `sleepMs` after its third
 * (alive, no beat); `log.noticed`: ms from its death to `take` giving up on it. With `stallMs`
 * (the least silence that gives up on it, below its start's time) `take` is called once it has
 * started (its first evaluation done).
 */
function dying(
  die: "exit" | "throw" | "oom" | "slow",
  {
    sleepMs = 0,
    paceMs = 0,
    stallMs,
  }: { sleepMs?: number; paceMs?: number; stallMs?: number } = {},
) {
  // [0]: its last moment alive, [1]: its first evaluation done (dying-leg-entry.mjs).
  const clock = new Float64Array(new SharedArrayBuffer(16));
  const inner = legThreadWith({
    entry: DYING,
    // A small heap, filled in a moment.
    ...(die === "oom" ? { resourceLimits: { maxOldGenerationSizeMb: 64 } } : {}),
    ...(stallMs === undefined ? {} : { stallMs }),
  });
  const log = { noticed: Number.NaN, died: false, took: [] as (TimedLeg | undefined)[] };
  const runner: NumericRunner = (job) => {
    const p = inner({ ...job, die, clock, sleepMs, paceMs } as NumericJob);
    if (p === undefined) return undefined;
    return {
      take() {
        const t0 = Date.now();
        if (stallMs !== undefined)
          while (clock[1] === 0 && Date.now() - t0 < 30_000)
            Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
        const got = p.take();
        log.died = clock[0]! > 0;
        log.noticed = now() - clock[0]!;
        log.took.push(got);
        return got;
      },
    };
  };
  return { runner, log };
}

describe("a worker that dies without a word", () => {
  /** Dies as `die` says: seen within a second of it, the leg runs here, the same numbers. */
  function fallsBackAtOnce(die: "exit" | "throw" | "oom", why: RegExp) {
    const here = numericLeg(expr, values(), { seed: 5 });
    const { runner, log } = dying(die);
    setNumericRunner(runner);
    const t0 = Date.now();
    const { value: got, stderr } = debugged(() => startNumericLeg(expr, values(), { seed: 5 })());
    expect(log.died).toBe(true);
    expect(log.took).toEqual([undefined]);
    // Measured: < 5 ms after an exit, 36-116 ms after the out-of-memory end (load 2.5-4.4). The
    // only other way a death is seen, the stall watch, needs STALL_MS (20 s) of silence: under
    // half of that it was seen at once (exit hook, thread's end), whatever the machine's load
    // (V8 ending a thread out of memory, its last collections, is slowed by it).
    expect(log.noticed).toBeLessThan(STALL_MS / 2);
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(stderr.trim()).toMatch(why);
    expect(said(got.result)).toBe(said(here));
  }

  it("exits mid-leg (process.exit): seen at once (its exit hook), the leg run here", () => {
    fallsBackAtOnce("exit", /: it exited mid-leg \(code 7\)$/);
  });

  it("throws at its top level, uncaught: seen at once (its exit hook), the leg run here", () => {
    fallsBackAtOnce("throw", /: it exited mid-leg \(code 1\)$/);
  });

  // No JavaScript runs then: its end is seen by its thread's /proc entry (Linux).
  it.runIf(existsSync("/proc/thread-self"))(
    "runs out of memory mid-leg (ERR_WORKER_OUT_OF_MEMORY): seen within a poll, the leg run here",
    () => {
      fallsBackAtOnce(
        "oom",
        /: its thread ended without a word \(out of memory\?\) after 3 evaluations$/,
      );
    },
  );

  it("a slow worker (no evaluation for 1.5 s) is waited for: its own result comes back", () => {
    const { runner, log } = dying("slow", { sleepMs: 1500 });
    setNumericRunner(runner);
    const t0 = Date.now();
    const { result } = startNumericLeg(expr, values(), { seed: 5 })();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1500);
    expect(log.took).toHaveLength(1);
    expect(log.took[0]).toBeDefined();
    expect(said(result)).toBe(said(numericLeg(expr, values(), { seed: 5 })));
  });
});

describe("the patience with a live worker: 10 times its slowest evaluation, at least a bound", () => {
  it("a worker with an evaluation of 0.5 s is waited for through a silence of 3 s (bound 1.5 s)", () => {
    // At 10^7 elements one evaluation took 25 s at load 13 on 2 cores: a fixed bound (20 s) gave
    // up on such a worker, and this thread did its work again.
    const { runner, log } = dying("slow", { paceMs: 500, sleepMs: 3000, stallMs: 1500 });
    setNumericRunner(runner);
    const { value, stderr } = debugged(() => startNumericLeg(expr, values(), { seed: 5 })());
    expect(stderr).toMatch(WORKER_RAN);
    expect(log.took).toHaveLength(1);
    expect(log.took[0]).toBeDefined();
    expect(said(value.result)).toBe(said(numericLeg(expr, values(), { seed: 5 })));
  });

  it("a live worker silent far past its pace (30 s after evaluations of ms) is given up", () => {
    const { runner, log } = dying("slow", { sleepMs: 30_000, stallMs: 200 });
    setNumericRunner(runner);
    const t0 = Date.now();
    const { value, stderr } = debugged(() => startNumericLeg(expr, values(), { seed: 5 })());
    // 10 times its slowest evaluation (tens of ms here), at least 200 ms.
    expect(Date.now() - t0).toBeLessThan(25_000);
    expect(log.took).toEqual([undefined]);
    expect(stderr).toMatch(
      /: no evaluation done in [\d.]+ s \(10 times its slowest so far, at least 0\.2 s\)\n$/,
    );
    expect(said(value.result)).toBe(said(numericLeg(expr, values(), { seed: 5 })));
  });
});

describe("the numeric leg's ms: its own time where it ran, not a wait for it", () => {
  it("check reports the runner's time of the leg, not how long it took to take it", () => {
    // A runner that ran the leg (here, as it starts) and says it took 4321 ms: taking it is ~0 ms.
    setNumericRunner((job) => {
      const result = numericLeg(job.expr, job.values, job.opts);
      return { take: () => ({ result, ms: 4321 }) };
    });
    const r = check("mean(bce(sigmoid(w*x+b), y))", { at: { w: 0.5, b: -0.2, x, y } });
    expect(r.legs.numeric.ms).toBe(4321);
    expect(r.legs.numeric.status).toBe("ok");
  });

  it("on a worker thread: the leg's time measured there (the wait here is another number)", () => {
    const { runner, log } = recording(legThread);
    setNumericRunner(runner);
    const { result, ms } = startNumericLeg(expr, values())();
    expect(log.got).toHaveLength(1);
    expect(log.got[0]!.ms).toBe(ms);
    expect(said(result)).toBe(said(numericLeg(expr, values())));
    // The leg's passes over 2·65553 elements take some time; the worker's start (tsx in a
    // checkout) takes longer, and this thread waited through it: the wait is not the leg's time.
    expect(ms).toBeGreaterThan(0);
    expect(ms).toBeLessThan(log.waitMs[0]!);
    const r = check("mean(bce(sigmoid(w*x+b), y))", { at: { w: 0.5, b: -0.2, x, y } });
    expect(log.got).toHaveLength(2);
    expect(r.legs.numeric.ms).toBe(log.got[1]!.ms);
  });

  it("on this thread (no runner, or the worker gave nothing): the leg's own time", () => {
    const t0 = performance.now();
    const { ms } = startNumericLeg(expr, values())();
    expect(ms).toBeGreaterThan(0);
    expect(ms).toBeLessThanOrEqual(performance.now() - t0);
  });
});
