// `gradtrio check` of a vector output and with --order 2: the contract's JSON keys, in order, and
// the exit codes (0 agree, 1 a wrong backward rule convicted in one Jacobian entry).
import { describe, expect, it } from "vitest";
import { defineOp } from "../src/autograd/index.ts";
import { memoryIO } from "../src/cli/io.ts";
import { main } from "../src/cli/main.ts";
import { CHECK_JSON_KEYS } from "./check-json-keys.ts";

// d/du u³ = 3u², written as 3u (wrong away from u = 1).
defineOp({
  name: "cliCubeBad",
  arity: 1,
  forward: (u) => u ** 3,
  backward: ({ args: [u], grad }) => [grad * 3 * u!],
  formula: (u) => `${u}^3`,
});

async function check(...argv: string[]) {
  const io = memoryIO();
  const code = await main(["check", ...argv], io);
  return { code, out: io.stdout.join("\n"), err: io.stderr };
}

describe("check of Jacobians and Hessians on the command line", () => {
  it("--json of a vector output: gradients null, then the jacobian", async () => {
    const r = await check("x^2", "--at", "x=[1,2,3]", "--json");
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(Object.keys(j)).toEqual([...CHECK_JSON_KEYS, "jacobian"]);
    expect(j.gradients).toBeNull();
    expect(j.value).toEqual([1, 4, 9]);
    expect(Object.keys(j.jacobian)).toEqual([
      "inputs",
      "outputs",
      "symbolic",
      "numeric",
      "autograd",
      "numericError",
    ]);
    // ∂(x²)ᵢ/∂xⱼ = 2xᵢ δᵢⱼ (by hand)
    expect(j.jacobian.autograd).toEqual([
      [2, 0, 0],
      [0, 4, 0],
      [0, 0, 6],
    ]);
  });

  it("--order 2 --json adds the hessian after the gradients", async () => {
    const r = await check("x^3*y", "--at", "x=2", "y=3", "--order", "2", "--json");
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(Object.keys(j).slice(-2)).toEqual(["gradients", "hessian"]);
    expect(j.hessian.inputs).toEqual(["x", "y"]);
    expect(j.hessian.outputs).toBeNull();
    // ∂²(x³y): [[6xy, 3x²], [3x², 0]] at (2, 3) (by hand)
    expect(j.hessian.symbolic).toEqual([
      [36, 12],
      [12, 0],
    ]);
  });

  it("exits 1 when a backward rule is wrong in a Jacobian entry, and names it", async () => {
    const r = await check("cliCubeBad(x)", "--at", "x=[1,2]");
    expect(r.code).toBe(1);
    expect(r.out).toContain("blame autograd");
    expect(r.out).toContain("∂out[1]/∂x[1]");
  });
});
