// The real CLI at an input large enough for fast mode's numeric leg to run on a worker thread
// (numeric/offload.ts, installed by the command's process only): it writes exactly the report the
// library computes on one thread, and the scalars' partials are the hand formula.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { check } from "../src/check/check.ts";
import { reportToJson } from "../src/check/report.ts";
import { OFFLOAD_MIN } from "../src/numeric/leg.ts";
import { mulberry32 } from "../src/random.ts";
import { logisticPartials, writeLogisticPoint } from "./fixtures/logistic.ts";
import { runBin, WORKER_RAN } from "./run-bin.ts";

const dir = mkdtempSync(join(tmpdir(), "gradtrio-offload-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it("check --json with the numeric leg on a worker thread: the library's report, the hand formula", async () => {
  const n = OFFLOAD_MIN + 99;
  const { x, y } = writeLogisticPoint(dir, n, mulberry32(5));
  const expr = "mean(bce(sigmoid(w*x+b), y))";
  const argv = ["check", expr, "--at", "w=0.5", "b=-0.2", "x=@x.json", "y=@y.json", "--json"];
  // GRADTRIO_DEBUG=1: the worker says it ran the leg (one that fails or dies says why instead).
  const run = await runBin(argv, { cwd: dir, env: { GRADTRIO_DEBUG: "1" } });
  expect(run.stderr).toMatch(WORKER_RAN);
  expect(run.code).toBe(0);
  expect(run.stdout).toBe(
    `${JSON.stringify(reportToJson(check(expr, { at: { w: 0.5, b: -0.2, x, y } })))}\n`,
  );
  // ∂/∂w = mean((σ − y)·x), ∂/∂b = mean(σ − y), by the numeric leg within its error.
  const { dw, db } = logisticPartials(x, y, 0.5, -0.2);
  const g = JSON.parse(run.stdout).gradients;
  expect(Math.abs(g.w.numeric - dw)).toBeLessThanOrEqual(g.w.numericError + 1e-12 * Math.abs(dw));
  expect(Math.abs(g.b.numeric - db)).toBeLessThanOrEqual(g.b.numericError + 1e-12 * Math.abs(db));
}, 60_000);
