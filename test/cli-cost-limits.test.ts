// What ran for minutes with no word, through the real bin: an explicit per-element method on
// 65536 elements (richardson > 10 min) and a Hessian past its size (1001 inputs > 2 min) are one
// line `gradtrio: error: …` and exit 2, at once (src/check/cost-limits.test.ts has the boundaries).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { oneError, runBin } from "./run-bin.ts";

const dir = mkdtempSync(join(tmpdir(), "gradtrio-cost-limits-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (n: number) => {
  const path = join(dir, `x${n}.json`);
  writeFileSync(path, JSON.stringify(Array.from({ length: n }, (_, i) => Math.sin(i))));
  return path;
};

describe("costly checks are refused in one line, exit 2, at once", () => {
  it.each([
    [
      "--method richardson on 65537 elements",
      ["check", "mean(sin(x)*w)", "--at", "w=2", `x=@${file(65536)}`, "--method", "richardson"],
      "method richardson on 65537 input elements is not run (over 5000: it evaluates f over all of them for each element); use --method fast, or the default auto, which takes it above 1000 elements",
    ],
    [
      "--order 2 on 1001 elements",
      ["check", "sum(x^3)", "--at", `x=@${file(1001)}`, "--order", "2"],
      "a Hessian of 1001×1001 entries is not checked (over 65536: its cost grows as the cube of the input elements); check the gradient (order 1) or fewer inputs",
    ],
  ])(
    "%s",
    async (_name, argv, line) => {
      const t0 = performance.now();
      // Killed after 60 s (code null): the runs refused took minutes.
      const r = await runBin(argv, { timeout: 60_000 });
      oneError(r, line);
      expect(performance.now() - t0).toBeLessThan(30_000);
    },
    90_000,
  );
});

describe("--wrt: the size limits count the differentiated elements only (review11 #3)", () => {
  it("--order 2 --wrt w over 2000 data elements is a 1×1 Hessian: checked, exit 0", async () => {
    const r = await runBin(
      [
        "check",
        "sum(x^2)*w^2",
        "--at",
        `x=@${file(2000)}`,
        "w=1.5",
        "--wrt",
        "w",
        "--order",
        "2",
        "--json",
      ],
      { timeout: 60_000 },
    );
    expect([r.code, r.stderr]).toEqual([0, ""]);
    const h = JSON.parse(r.stdout).hessian;
    expect(h.inputs).toEqual(["w"]);
    let sx2 = 0;
    for (let i = 0; i < 2000; i++) sx2 += Math.sin(i) ** 2;
    expect(h.autograd[0][0]).toBeCloseTo(2 * sx2, 8);
  }, 90_000);
});
