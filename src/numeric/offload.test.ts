// Fast mode's per-element partials on a worker thread (offload.ts, partials-thread.ts): the
// numbers are those the leg computes itself, to the bit; the partials are the hand formula; a
// runner that fails or gives nothing costs time, never a number; and what a worker cannot do
// (custom ops) or need not (small inputs, another method) stays on this thread.
import { afterEach, describe, expect, it } from "vitest";
import { logisticPartials } from "../../test/fixtures/logistic.ts";
import { defineOp } from "../autograd/index.ts";
import { parse } from "../expr/parse.ts";
import { toValues } from "../expr/point.ts";
import { mulberry32 } from "../random.ts";
import { type NumericLegResult, numericLeg, OFFLOAD_MIN, startNumericLeg } from "./leg.ts";
import { type PartialsRunner, setPartialsRunner } from "./offload.ts";
import { partialsThread } from "./partials-thread.ts";

afterEach(() => setPartialsRunner(null));

const n = OFFLOAD_MIN + 17;
const r = mulberry32(11);
const x = Array.from({ length: n }, () => 4 * r() - 2);
const y = Array.from({ length: n }, () => (r() < 0.5 ? 0 : 1));
const expr = parse("mean(bce(sigmoid(w*x+b), y))");
const values = () => toValues({ w: 0.5, b: -0.2, x, y });

/** Everything the leg says, as text (Float64Arrays as arrays): equal means equal to the bit. */
const said = (l: NumericLegResult): string =>
  JSON.stringify({ ...l, gradients: [...l.gradients!], errors: [...l.errors!] }, (_, v) =>
    v instanceof Float64Array ? [...v] : v,
  );

/** A runner that records what it was asked and whether its results came back. */
function recording(inner: PartialsRunner) {
  const log = { started: [] as number[][], taken: [] as (number | undefined)[] };
  const runner: PartialsRunner = (job) => {
    log.started.push([...job.coordinates]);
    const p = inner(job);
    if (p === undefined) return undefined;
    return {
      coordinates: p.coordinates,
      take() {
        const got = p.take();
        log.taken.push(got?.length);
        return got;
      },
    };
  };
  return { runner, log };
}

describe("fast mode's partials on a worker thread", () => {
  it("are the leg's own numbers to the bit, and the hand formula", () => {
    const here = numericLeg(expr, values());
    const { runner, log } = recording(partialsThread);
    setPartialsRunner(runner);
    const there = startNumericLeg(expr, values())();
    // w and b: the flat coordinates 0 and 1 (the point's order), both from the worker.
    expect(log.started).toEqual([[0, 1]]);
    expect(log.taken).toEqual([2]);
    expect(said(there)).toBe(said(here));
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
    expect(there.notes.join(" ")).toContain("w, b per element by the complex step");
  });

  it.each([
    ["gives nothing", (() => ({ coordinates: [0, 1], take: () => undefined })) as PartialsRunner],
    [
      "throws as it starts",
      (() => {
        throw new Error("no threads here");
      }) as PartialsRunner,
    ],
    [
      "answers for other coordinates",
      (() => ({ coordinates: [0], take: () => [] })) as PartialsRunner,
    ],
  ])("a runner that %s: the leg computes them itself, the same numbers", (_, broken) => {
    const here = numericLeg(expr, values());
    setPartialsRunner(broken);
    expect(said(startNumericLeg(expr, values())())).toBe(said(here));
  });

  it("is not asked for small inputs, another method, or custom ops", () => {
    const { runner, log } = recording(() => undefined);
    setPartialsRunner(runner);
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
    // Asked where it applies (the runner gives nothing: the leg computes them).
    startNumericLeg(expr, values());
    expect(log.started).toEqual([[0, 1]]);
  });
});

describe("a worker that fails", () => {
  it("gives nothing at once, and says why with GRADTRIO_DEBUG=1", () => {
    const written: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((s: string) => written.push(s) > 0) as typeof process.stderr.write;
    process.env.GRADTRIO_DEBUG = "1";
    try {
      // A layout without y: the worker's evaluation throws (unknown variable).
      const pending = partialsThread({
        expr,
        layout: new Map([["x", { offset: 0, shape: [4] }]]),
        x: new Float64Array(4),
        coordinates: [0],
      })!;
      const t0 = Date.now();
      expect(pending.take()).toBeUndefined();
      expect(Date.now() - t0).toBeLessThan(30_000);
    } finally {
      process.stderr.write = write;
      delete process.env.GRADTRIO_DEBUG;
    }
    expect(written.join("")).toMatch(
      /^gradtrio: debug: fast mode's partials on a worker thread: .*no value for it/,
    );
  });
});
