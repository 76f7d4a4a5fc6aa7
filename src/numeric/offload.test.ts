// Fast mode's numeric leg on a worker thread (offload.ts, leg-thread.ts): the numbers are those
// the leg computes on this thread, to the bit; the scalars' partials are the hand formula; a
// runner that fails or gives nothing costs time, never a number; and what a worker cannot do
// (custom ops) or need not (small inputs, another method) stays on this thread.
import { afterEach, describe, expect, it } from "vitest";
import { logisticPartials, logisticPoint } from "../../test/fixtures/logistic.ts";
import { defineOp } from "../autograd/index.ts";
import { parse } from "../expr/parse.ts";
import { toValues } from "../expr/point.ts";
import { mulberry32 } from "../random.ts";
import {
  type NumericLegResult,
  numericLeg,
  OFFLOAD_MIN,
  runNumericLeg,
  startNumericLeg,
} from "./leg.ts";
import { legThread } from "./leg-thread.ts";
import { type NumericJob, type NumericRunner, setNumericRunner } from "./offload.ts";

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

/** A runner that records what it was asked and whether its result came back. */
function recording(inner: NumericRunner) {
  const log = { started: [] as NumericJob[], taken: [] as boolean[] };
  const runner: NumericRunner = (job) => {
    log.started.push(job);
    const p = inner(job);
    if (p === undefined) return undefined;
    return {
      take() {
        const got = p.take();
        log.taken.push(got !== undefined);
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
    const there = startNumericLeg(expr, values(), { seed: 3 })();
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
    expect(said(startNumericLeg(expr, values())())).toBe(said(here));
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

describe("a worker that fails", () => {
  it("gives nothing at once, and says why with GRADTRIO_DEBUG=1", () => {
    const written: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((s: string) => written.push(s) > 0) as typeof process.stderr.write;
    process.env.GRADTRIO_DEBUG = "1";
    try {
      // A point without y: the worker's leg throws (unknown variable).
      const pending = legThread({
        expr,
        values: toValues({ w: 0.5, b: -0.2, x: [1, 2] }),
        opts: {},
      })!;
      const t0 = Date.now();
      expect(pending.take()).toBeUndefined();
      expect(Date.now() - t0).toBeLessThan(30_000);
    } finally {
      process.stderr.write = write;
      delete process.env.GRADTRIO_DEBUG;
    }
    expect(written.join("")).toMatch(
      /^gradtrio: debug: fast mode's numeric leg on a worker thread: .*'y'/,
    );
  });
});
