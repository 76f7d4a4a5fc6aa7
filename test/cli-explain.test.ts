// The teaching view against the seeds' hand computation: grad_fn names, the CAS's local
// derivatives and the chain-rule product equal to PyTorch's gradient (6.691763029237442 for dL/dw).
import { describe, expect, it } from "vitest";
import { defineOp } from "../src/autograd/index.ts";
import { memoryIO } from "../src/cli/io.ts";
import { main } from "../src/cli/main.ts";

async function explain(expr: string, ...at: string[]) {
  const io = memoryIO();
  const code = await main(["explain", expr, "--at", ...at], io);
  return { code, text: io.stdout.join("\n"), err: io.stderr };
}

describe("gradtrio explain", () => {
  it("BCE: graph, local derivatives and the chain-rule products", async () => {
    const r = await explain(
      "bce(clamp(sigmoid(w*x+b), 1e-8, 1-1e-8), y)",
      "w=1",
      "b=0",
      "x=6.7",
      "y=0",
    );
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    for (const name of [
      "MulBackward0",
      "AddBackward0",
      "SigmoidBackward0",
      "ClampBackward1",
      "AccumulateGrad",
    ])
      expect(r.text).toContain(name);
    // ∂u1/∂w of u1 = w*x is x (= 6.7), the last factor of the seed's dL/dŷ · dŷ/dz · dz/dw.
    expect(r.text).toMatch(/∂u1\/∂w\s+x\s+6\.7\s/);
    // The by-hand products, in full, equal PyTorch's gradients.
    const total = (v: string) =>
      Number(new RegExp(`∂f/∂${v} = \\S+ \\((\\S+)\\)`).exec(r.text)![1]);
    expect(Math.abs(total("w") - 6.691763029237442)).toBeLessThan(1e-12 * 6.7);
    expect(Math.abs(total("b") - 0.9987706013787226)).toBeLessThan(1e-12);
    expect(Math.abs(total("y") - -6.7000000000000535)).toBeLessThan(1e-12 * 6.7);
    // dŷ/dz: the sigmoid's local derivative at z = 6.7 is ŷ(1-ŷ) = 0.00122789…
    const s = 1 / (1 + Math.exp(-6.7));
    expect(r.text).toContain(String(Number((s * (1 - s)).toPrecision(6))));
    expect(r.text).toMatch(/✓ agree/);
  });

  it("an input used twice adds its paths: x*sin(x)", async () => {
    const r = await explain("x*sin(x)", "x=2");
    expect(r.code).toBe(0);
    expect(r.text).toMatch(/x is used 2 times/);
    const total = Number(/∂f\/∂x = \S+ \((\S+)\)/.exec(r.text)![1]);
    expect(total).toBeCloseTo(Math.sin(2) + 2 * Math.cos(2), 14);
  });

  it("vectors: mean(x^2) at [1, 2, 3] gives 2x/n", async () => {
    const r = await explain("mean(x^2)", "x=[1,2,3]");
    expect(r.code).toBe(0);
    expect(r.text).toContain("MeanBackward0");
    expect(r.text).toContain("PowBackward0");
    expect(r.text).toMatch(/∂f\/∂x = \[0\.666667, 1\.33333, 2\]/);
  });

  it("bad input exits 2", async () => {
    const r = await explain("sin(x", "x=1");
    expect(r.code).toBe(2);
    expect(r.err[0]).toMatch(/^gradtrio: error: /);
  });
});

describe("explain shows the CAS formula as LaTeX too", () => {
  it("prints both forms of the gradient of sin(x^2)", async () => {
    const io = memoryIO();
    expect(await main(["explain", "sin(x^2)", "--at", "x=3"], io)).toBe(0);
    const text = io.stdout.join("\n");
    // d/dx sin(x²) = 2x·cos(x²), as a textbook writes it and in LaTeX
    expect(text).toContain("CAS: ∂f/∂x = 2*x*cos(x^2)");
    expect(text).toContain(
      "LaTeX: \\frac{\\partial f}{\\partial x} = 2 x \\cos\\left(x^{2}\\right)",
    );
  });
});

describe("explain's by-hand total", () => {
  it("counts every path, however many: x+x+…+x with 5100 terms gives 5100", async () => {
    const r = await explain(Array.from({ length: 5100 }, () => "x").join("+"), "x=2");
    expect(r.code).toBe(0);
    expect(r.text).toContain("x is used 5100 times: 5100 paths, added up.");
    expect(r.text).toContain("… 5088 more paths (included in the sum)");
    expect(r.text).toMatch(/∂f\/∂x = 5100 \(5100\)/);
    expect(r.text).toMatch(/^ {3}x +5100 +— +5100 ± \S+ +5100$/m);
  }, 30_000);

  it("a custom op without a formula: unavailable, not NaN", async () => {
    defineOp({
      name: "explainNoFormula",
      arity: 1,
      forward: (a) => a * a,
      backward: ({ args: [a], grad }) => [2 * a! * grad],
    });
    const r = await explain("sin(explainNoFormula(x))", "x=2");
    expect(r.code).toBe(0);
    expect(r.text).not.toContain("NaN");
    expect(r.text).toContain("∂f/∂x = unavailable (op has no formula)");
    expect(r.text).toMatch(/^ {3}x +unavailable \(op has no formula\) /m);
  });
});
