import { describe, expect, it } from "vitest";
import { memoryIO } from "./io.ts";
import { main } from "./main.ts";

async function explain(expr: string, ...at: string[]) {
  const io = memoryIO();
  const code = await main(["explain", expr, "--at", ...at], io);
  return { code, text: io.stdout.join("\n"), err: io.stderr };
}

describe("explain beyond gradients", () => {
  it("a small Jacobian as the matrix, three ways agreeing", async () => {
    const r = await explain("x^2*y", "x=[1,2]", "y=3");
    expect(r.code).toBe(0);
    expect(r.text).toContain("Jacobian 2×3 (autograd):");
    // row out[1]: ∂(x1²y)/∂x1 = 2·2·3 = 12, ∂/∂y = 4 (by hand)
    expect(r.text).toMatch(/out\[1\]\s+0\s+12\s+4/);
    expect(r.text).toContain("all three legs agree");
  });

  it("a large Jacobian as its worst and largest entries", async () => {
    const x = JSON.stringify(Array.from({ length: 20 }, (_, i) => i / 4));
    const r = await explain("x^3", `x=${x}`);
    expect(r.text).toContain("Jacobian 20×20");
    expect(r.text).toContain("the entries with the largest spread between legs, and the largest");
    // the largest entry: 3·4.75² = 67.6875 (by hand)
    expect(r.text).toContain("∂out[19]/∂x[19]");
    expect(r.text).toContain("67.6875");
  });

  it("second derivatives of a scalar output with few inputs", async () => {
    const r = await explain("x^3*y", "x=2", "y=3");
    // After section 4, the three legs (it was numbered 4 too).
    expect(r.text).toContain("5. Second derivatives: the Hessian");
    // ∂²/∂x² = 6xy = 36, ∂²/∂x∂y = 3x² = 12 (by hand)
    expect(r.text).toMatch(/x\s+36\s+12/);
    const many = await explain(
      "sum(x^2)",
      `x=${JSON.stringify(Array.from({ length: 11 }, (_, i) => i))}`,
    );
    expect(many.text).not.toContain("Second derivatives");
  });
});
