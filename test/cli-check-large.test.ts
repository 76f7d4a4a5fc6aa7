// `check --json` on large @FILE inputs, in-process: the JSON written with a worker formatting
// part of its numbers is exactly JSON.stringify of the report, and its gradients are the hand
// formula of the logistic loss.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { check } from "../src/check/check.ts";
import { reportToJson } from "../src/check/report.ts";
import { memoryIO } from "../src/cli/io.ts";
import { MIN } from "../src/cli/json-stream.ts";
import { main } from "../src/cli/main.ts";
import { mulberry32 } from "../src/random.ts";
import { writeLogisticPoint } from "./fixtures/logistic.ts";

const dir = mkdtempSync(join(tmpdir(), "gradtrio-large-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("check --json on inputs of several chunks", () => {
  const n = 2 * MIN + 1234;
  const r = mulberry32(7);
  const { x, y } = writeLogisticPoint(dir, n, r);
  const expr = "mean(bce(sigmoid(w*x+b), y))";

  it("writes JSON.stringify of the report; the gradients are the hand formula", async () => {
    const io = memoryIO({ cwd: dir });
    // The pieces the worker formatted arrive as bytes.
    let bytePieces = 0;
    const write = io.outPieces.bind(io);
    io.outPieces = (pieces) => {
      const all = [...pieces];
      bytePieces += all.filter((p) => typeof p !== "string").length;
      write(all);
    };
    const argv = ["check", expr, "--at", "w=0.5", "b=-0.2", "x=@x.json", "y=@y.json", "--json"];
    const code = await main(argv, io);
    expect(io.stderr).toEqual([]);
    expect(code).toBe(0);
    const direct = check(expr, { at: { w: 0.5, b: -0.2, x, y } });
    expect(io.stdout).toEqual([JSON.stringify(reportToJson(direct))]);
    // d/dx_k mean(bce(σ(w x + b), y)) = w (σ(w x_k + b) − y_k) / n.
    const g = JSON.parse(io.stdout[0]!).gradients;
    const s = (k: number) => 1 / (1 + Math.exp(-(0.5 * x[k]! - 0.2)));
    for (const k of [0, MIN - 1, MIN, n - 1]) {
      const hand = (0.5 * (s(k) - y[k]!)) / n;
      for (const leg of [g.x.autograd[k], g.x.symbolic[k]])
        expect(Math.abs(leg - hand)).toBeLessThanOrEqual(1e-12 * Math.abs(hand));
    }
    expect(g.x.autograd).toHaveLength(n);
    // Fast mode: the directional derivative, and the scalars' partials by numeric too.
    const { directional } = JSON.parse(io.stdout[0]!);
    expect(Math.abs(directional.numeric - directional.autograd)).toBeLessThanOrEqual(
      directional.numericError,
    );
    for (const p of [g.w, g.b])
      expect(Math.abs(p.numeric - p.autograd)).toBeLessThanOrEqual(p.numericError);
    // At least the point's x, handed over before the legs run (the gradients race the vote).
    expect(bytePieces).toBeGreaterThanOrEqual(1);
  });

  it("writes gradients of the widest JSON numbers whole (−2x/n ≈ −1e-6: 25 characters each)", async () => {
    // 0 − mean(x²) over x in [0.05, 0.5]: gradients −2x/n of ~1e-6–1e-5, printed without exponent.
    const m = MIN + 4321;
    const u = Array.from({ length: m }, () => 0.05 + 0.45 * r());
    writeFileSync(join(dir, "u.json"), JSON.stringify(u));
    const io = memoryIO({ cwd: dir });
    expect(await main(["check", "0-mean(x^2)", "--at", "x=@u.json", "--json"], io)).toBe(0);
    const direct = check("0-mean(x^2)", { at: { x: u } });
    expect(io.stdout).toEqual([JSON.stringify(reportToJson(direct))]);
    const g = JSON.parse(io.stdout[0]!).gradients.x;
    for (const leg of [g.autograd, g.symbolic]) expect(leg).toHaveLength(m);
    expect(g.autograd[7]).toBeCloseTo((-2 * u[7]!) / m, 20);
  });
});
