// --dtype float32 where the gradient is below float32's range (review 11, finding 21): autograd's
// float32 value (0 for exp(-120), as torch.exp(torch.tensor(-120.)).backward() gives) is within
// float32's underflow of the true gradient, so the check cannot judge (exit 3), never blames
// autograd; a backward 1e-3 off is still convicted where float32 resolves the gradient (1e-30,
// and the subnormal 5e-42).
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { memoryIO } from "../src/cli/io.ts";
import { main } from "../src/cli/main.ts";

const bin = new URL("../bin/gradtrio.js", import.meta.url).pathname;
const OPS = new URL("./fixtures/ops/float32/exp.ts", import.meta.url).pathname;
const UNDERFLOWS = /^the gradient underflows float32 at x: symbolic gives /;

async function run(...argv: string[]) {
  const io = memoryIO();
  const code = await main(argv, io);
  return { code, out: io.stdout.join("\n") };
}

describe("check --dtype float32 where the gradient underflows float32", () => {
  it("exp(x) at x = -120, the real bin: exit 3, autograd's 0 is float32's value", () => {
    const r = spawnSync(
      "node",
      [bin, "check", "exp(x)", "--at", "x=-120", "--dtype", "float32", "--json"],
      { encoding: "utf8" },
    );
    expect(r.status).toBe(3);
    const j = JSON.parse(r.stdout);
    // float32's exp(-120) by hand: 7.7e-53 is below half the smallest subnormal, 2^-150.
    expect(Math.exp(-120)).toBeLessThan(2 ** -150);
    expect(Math.fround(Math.exp(-120))).toBe(0);
    expect(j.gradients.x.autograd).toBe(0);
    expect(Math.abs(j.gradients.x.symbolic / Math.exp(-120) - 1)).toBeLessThan(1e-12);
    expect([j.verdict, j.blame]).toEqual(["inconclusive", null]);
    expect(j.reason).toMatch(UNDERFLOWS);
  });

  it.each([
    // just under float32's smallest subnormal (6.8e-46 < 1.4e-45)
    ["exp(x)", "x=-104"],
    ["sigmoid(x)", "x=-120"],
    ["erf(x)", "x=-16.277"],
    // 20·x^19 = 2e-56; x^19 underflows on the way
    ["x^20", "x=1e-3"],
    // the underflow of exp(-120) times what follows: ±7e-16 (7.7e-23 is a normal float32)
    ["exp(x)*1e30", "x=-120"],
  ])("%s at %s: exit 3, the gradient underflows float32", async (expr, at) => {
    const r = await run("check", expr, "--at", at, "--dtype", "float32", "--json");
    expect(r.code).toBe(3);
    expect(JSON.parse(r.out).reason).toMatch(UNDERFLOWS);
  });

  it("a Jacobian and fast mode likewise (the element below float32's range)", async () => {
    const jac = await run("check", "exp(x)", "--at", "x=[-120,1]", "--dtype", "float32", "--json");
    expect(jac.code).toBe(3);
    expect(JSON.parse(jac.out).reason).toMatch(
      /^the gradient underflows float32 at ∂out\[0\]\/∂x\[0\]/,
    );
    const x = Array.from({ length: 1200 }, (_, i) => (i === 7 ? -120 : 0.5 + i * 1e-4));
    const fast = await run(
      "check",
      "sum(exp(x))",
      "--at",
      `x=${JSON.stringify(x)}`,
      "--dtype",
      "float32",
      "--json",
    );
    expect(fast.code).toBe(3);
    expect(JSON.parse(fast.out).reason).toMatch(/^the gradient underflows float32 at x\[7\]/);
  });

  it("where float32 resolves the gradient, a backward 1e-3 off is convicted (exit 1), the right one agrees", async () => {
    // exp(-69) ≈ 1e-30 (a normal float32) and exp(-95) ≈ 5.5e-42 (subnormal: its ulp 1.4e-45 is
    // 2.5e-4 of it, the fault 1e-3): both within float32's resolution.
    for (const at of ["x=-69", "x=-95"]) {
      const bad = await run("check", "expOff(x)", "--at", at, "--dtype", "float32", "--ops", OPS);
      expect([at, bad.code]).toEqual([at, 1]);
      expect(bad.out).toContain("blame autograd");
      const ok = await run("check", "expOk(x)", "--at", at, "--dtype", "float32", "--ops", OPS);
      expect([at, ok.code]).toEqual([at, 0]);
    }
  });

  it("below float32's range a wrong backward is not confirmed either: exit 3, not 0", async () => {
    const r = await run("check", "expOff(x)", "--at", "x=-120", "--dtype", "float32", "--ops", OPS);
    expect(r.code).toBe(3);
    expect(r.out).toContain("the gradient underflows float32");
  });

  it("erf at -5.806 agrees in float32: its backward's exp(−a²) carries a²'s rounding (2e-6)", async () => {
    // the review's sweep: abs(erf(minimum(y, sigmoid(x)))) at y = -5.806 blamed autograd
    expect((await run("check", "erf(x)", "--at", "x=-5.806", "--dtype", "float32")).code).toBe(0);
  });

  it("float64 at the same points: exit 0 (float64 resolves 7.7e-53)", async () => {
    expect((await run("check", "exp(x)", "--at", "x=-120")).code).toBe(0);
    expect((await run("check", "expOff(x)", "--at", "x=-120", "--ops", OPS)).code).toBe(1);
  });
});
