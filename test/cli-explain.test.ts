// The teaching view against the seeds: PyTorch's grad_fn names, the learner's local derivatives,
// each node's gradient once, and totals equal to PyTorch's (test/fixtures/torch-golden.json).
import { describe, expect, it } from "vitest";
import { defineOp } from "../src/autograd/index.ts";
import { memoryIO } from "../src/cli/io.ts";
import { main } from "../src/cli/main.ts";

async function explain(expr: string, ...rest: string[]) {
  const io = memoryIO();
  const code = await main(["explain", expr, "--at", ...rest], io);
  return { code, text: io.stdout.join("\n"), err: io.stderr };
}

/** The full-precision total after "∂f/∂name = … = " in the path section. */
const totalOf = (text: string, name: string) =>
  Number(
    new RegExp(
      `^ {3}∂f/∂${name} = (?:.* = )?(-?[\\d.e-]+)  \\(simplified by the CAS\\)$`,
      "m",
    ).exec(text)![1],
  );

describe("gradtrio explain", () => {
  it("the seed BCE with --wrt w,b: w and b are leaves, x and y data, PyTorch's grad_fns", async () => {
    const r = await explain(
      "bce(clamp(sigmoid(w*x+b), 1e-8, 1-1e-8), y)",
      "w=1",
      "b=0",
      "x=6.7",
      "y=0",
      "--wrt",
      "w,b",
    );
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    for (const name of [
      "MulBackward0",
      "AddBackward0",
      "SigmoidBackward0",
      "ClampBackward1",
      "BinaryCrossEntropyBackward0",
    ])
      expect(r.text).toContain(name);
    expect(r.text).not.toContain("AccumulateGrad");
    expect(r.text).toMatch(/^ {3}w +leaf, requires grad +1 +None/m);
    expect(r.text).toMatch(/^ {3}x +data +6\.7 +—/m);
    expect(r.text).toContain("x and y are data");
    // Only w and b get gradients: no ∂f/∂x, ∂f/∂y anywhere.
    expect(r.text).not.toMatch(/∂f\/∂[xy]\b/);
    // The sigmoid's local derivative as the notebook writes it, y_pred·(1 − y_pred), at z = 6.7.
    const s = 1 / (1 + Math.exp(-6.7));
    expect(r.text).toMatch(
      new RegExp(`u2 → u3 +u3\\*\\(1-u3\\) +${String(Number((s * (1 - s)).toPrecision(6)))}`),
    );
    expect(r.text).toContain("(u4-y)/(u4*(1-u4))");
    // The simplified total and PyTorch's numbers.
    expect(r.text).toMatch(/∂f\/∂w = x\*\(u3-y\) = 6\.69176302923744\d/);
    expect(Math.abs(totalOf(r.text, "w") - 6.691763029237442)).toBeLessThan(1e-14);
    expect(Math.abs(totalOf(r.text, "b") - 0.9987706013787226)).toBeLessThan(1e-15);
    expect(r.text).toContain(
      "LaTeX: \\frac{\\partial f}{\\partial w} = x \\left(u_{3} - y\\right)",
    );
    expect(r.text).toMatch(/✓ agree/);
  });

  it("the notebook's BCE with named intermediates: one prediction node used twice, 1 - y data", async () => {
    const r = await explain(
      "z = w*x+b; y_pred = sigmoid(z); p = clamp(y_pred, 1e-8, 1-1e-8); -(y*log(p) + (1-y)*log(1-p))",
      "w=1",
      "b=0",
      "x=6.7",
      "y=0",
      "--wrt",
      "w,b",
    );
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    // The notebook prints z <AddBackward0>, y_pred <SigmoidBackward0>, loss <NegBackward0>.
    expect(r.text).toMatch(/^ {3}z +u1 \+ b +6\.7 +AddBackward0/m);
    expect(r.text).toMatch(/^ {3}y_pred +sigmoid\(z\) +0\.998771 +SigmoidBackward0/m);
    expect(r.text).toMatch(
      /^ {3}p +clamp\(y_pred, 1e-8, 1 - 1e-8\) +0\.998771 +ClampBackward1 +2$/m,
    );
    expect(r.text).toMatch(/^ {3}u\d +1 - y +1 +—$/m); // data: no RsubBackward1, no gradient
    expect(r.text).toMatch(/^ {3}f +-u8 +6\.70123 +NegBackward0/m);
    expect(r.text).toContain("y_pred → p  1 if 1e-8 ≤ y_pred ≤ 0.99999999, else 0");
    expect(r.text).toContain("z → y_pred    y_pred*(1-y_pred)".replace("    ", "  "));
    expect(r.text).toMatch(/^ {3}path 1: f → u8 → u3 → u2 → p → y_pred → z → u1 → w$/m);
    expect(r.text).toMatch(
      /∂f\/∂w = x\*\(y_pred-y\) = 6\.6917630292374\d+ {2}\(simplified by the CAS\)/,
    );
    expect(Math.abs(totalOf(r.text, "w") - 6.691763029237442)).toBeLessThan(1e-13);
  });

  it("every node's gradient once, and the node-by-node sum written out", async () => {
    const r = await explain("sin(x^2)", "x=4");
    expect(r.code).toBe(0);
    expect(r.text.match(/^ {3}∂f\/∂u1 = /gm)).toHaveLength(1);
    expect(r.text).toContain("∂f/∂u1 = ∂f/∂f · cos(u1)");
    expect(r.text).toContain("∂f/∂x = ∂f/∂u1 · 2*x");
    // d/dx sin(x²) = 2x·cos(x²) at 4: -7.661275842587077 (PyTorch)
    expect(r.text).toContain("∂f/∂x = 2*x*cos(x^2) = -7.661275842587077");
    expect(r.text).toContain("PowBackward0");
    expect(r.text).toContain("SinBackward0");
  });

  it("a value used twice is one node: x*sin(x) adds its two paths on screen", async () => {
    const r = await explain("x*sin(x)", "x=2");
    expect(r.code).toBe(0);
    const want = Math.sin(2) + 2 * Math.cos(2);
    expect(r.text).toMatch(/^ {3}path 1: f → x$/m);
    expect(r.text).toMatch(/^ {3}path 2: f → u1 → x$/m);
    const sum = /^ {3}∂f\/∂x = (\S+) \+ (\S+) = (\S+)$/m.exec(r.text)!;
    expect(Number(sum[1]) + Number(sum[2])).toBeCloseTo(want, 5);
    expect(r.text).toMatch(
      /^ {3}∂f\/∂x = x\*cos\(x\)\+sin\(x\) = (\S+) {2}\(simplified by the CAS\)$/m,
    );
    expect(totalOf(r.text, "x")).toBeCloseTo(want, 14);
  });

  it("vectors: mean(x^2) at [1, 2, 3] gives 2x/n", async () => {
    const r = await explain("mean(x^2)", "x=[1,2,3]");
    expect(r.code).toBe(0);
    expect(r.text).toContain("MeanBackward0");
    expect(r.text).toMatch(/u1 → f +1\/3/);
    expect(r.text).toMatch(/= \[0\.666667, 1\.33333, 2\]/);
  });

  it("1/x is MulBackward0 over ReciprocalBackward0", async () => {
    const r = await explain("1/x", "x=2");
    expect(r.text).toMatch(/u1 +1\/x +0\.5 +ReciprocalBackward0/);
    expect(r.text).toMatch(/f +u1\*1 +0\.5 +MulBackward0/);
    expect(r.text).toContain("-1/x^2");
  });

  it("names the numeric method and its step; fast mode shows no '— ± —'", async () => {
    const auto = await explain("sin(x^2)", "x=3");
    expect(auto.text).toMatch(/numeric method: complex step, h = 2\^-100/);
    expect(auto.text).toContain("It is not a finite difference");
    const fast = await explain("sin(x^2)", "x=3", "--method", "fast");
    expect(fast.code).toBe(0);
    expect(fast.text).not.toContain("— ± —");
    // A scalar input has its partial per element beside the directional (docs/DESIGN.md).
    expect(fast.text).not.toContain("(directional only)");
    expect(fast.text).toMatch(/x +-5\.46678\d* +-5\.46678\d* +-5\.46678\d* ± \d\.\de-\d+/);
    expect(fast.text).toMatch(/uᵀ∇f: symbolic -5\.46678\d*, numeric -5\.46678/);
    expect(fast.text.replace(/\s+/g, " ")).toContain(
      // x, the only input, has its per-element partial too: no "not one derivative per element".
      "uᵀ∇f by the complex step along a random unit vector u; and x per element, the same way along each element's unit vector",
    );
  });

  it("bad input exits 2: a parse error, a --wrt name that is no variable", async () => {
    const r = await explain("sin(x", "x=1");
    expect(r.code).toBe(2);
    expect(r.err[0]).toMatch(/^gradtrio: error: /);
    const w = await explain("x^2", "x=1", "--wrt", "w");
    expect(w.code).toBe(2);
    expect(w.err[0]).toMatch(/^gradtrio: error: --wrt: 'w' is not /);
  });
});

describe("explain on big and unusual graphs", () => {
  it("counts every path, however many: x+x+…+x with 5100 terms gives 5100", async () => {
    const r = await explain(Array.from({ length: 5100 }, () => "x").join("+"), "x=2");
    expect(r.code).toBe(0);
    expect(r.text).not.toContain("3. The same, along the paths");
    expect(r.text).toMatch(/^ {3}x +5100 +— +5100 ± \S+ +5100$/m);
  }, 60_000);

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
    expect(r.text).toContain("unavailable (op has no formula)");
    expect(r.text).toMatch(/^ {3}x +unavailable \(op has no formula\) /m);
  });
});

describe("explain --steps and --dot", () => {
  it("--steps: the error table for h = 1e-1 … 1e-15, the V plot, the best h marked", async () => {
    const r = await explain("sin(x^2)", "x=3", "--steps");
    expect(r.code).toBe(0);
    expect(r.text).toContain("The step size h");
    for (let k = 1; k <= 15; k++) expect(r.text).toMatch(new RegExp(`^ +1e-${k} +`, "m"));
    // At h = 1e-1 the forward error is |(sin(3.1²) − sin 9)/0.1 − 6 cos 9| = 0.50, by hand.
    const f = (x: number) => Math.sin(x * x);
    const e1 = Math.abs((f(3.1) - f(3)) / 0.1 - 6 * Math.cos(9));
    expect(r.text).toMatch(new RegExp(`^ +1e-1 +${e1.toExponential(1)} `, "m"));
    expect(r.text).toContain("error (log) against h (log)");
    expect(r.text).toMatch(/\^f +best forward h/);
    expect(r.text).toMatch(/\^c +best central h/);
    expect(r.text).toMatch(/best h measured: forward 1e-8/);
    expect(r.text).toContain("truncation");
    expect(r.text).toContain("rounding");
  });

  it("--dot: a digraph with one record per node and no teaching text", async () => {
    const r = await explain("sin(x^2)", "x=3", "--dot");
    expect(r.code).toBe(0);
    expect(r.text.startsWith("digraph gradtrio {")).toBe(true);
    expect(r.text.trimEnd().endsWith("}")).toBe(true);
    expect(r.text).toContain("{ f = sin(u1) | SinBackward0 | data 0.412118 | grad 1 }");
    expect(r.text).toContain("{ x | leaf (requires grad) | data 3 | grad -5.46678 }");
    expect(r.text).not.toContain("Forward pass");
  });
});

describe("numbers that are not finite, and the sections", () => {
  it("check prints NaN and Infinity as they are (it printed 'NaN ± InfinityeNaN')", async () => {
    const io = memoryIO();
    expect(await main(["check", "x^y", "--at", "x=-2", "y=3"], io)).toBe(3);
    const text = io.stdout.join("\n");
    expect(text).not.toMatch(/e(NaN|Infinity)|(NaN|Infinity)e/);
    // ∂(x^y)/∂y = x^y·log(x): log(-2) is NaN; the estimate's error is unbounded.
    expect(text).toMatch(/^y +x\^y\*log\(x\) +NaN +NaN ± Infinity +NaN/m);
  });

  it("--steps where f is not finite: no table of NaN, and the by-hand value is not called exact", async () => {
    const r = await explain("log(x)", "x=-1", "--steps");
    expect(r.code).toBe(0);
    expect(r.text).not.toMatch(/NaNeNaN|exact -1/);
    expect(r.text.replace(/\s+/g, " ")).toContain(
      "∂f/∂x at x = -1: f is NaN at the point, so no step size gives a derivative there (the chain rule's -1 in section 2 is its formula's value, not a derivative of f).",
    );
    expect(r.text).toMatch(/x +-1 +-1 +— \(no derivative where f is not finite\) +-1/);
  });

  it("names the output on its own part of the subject, not before the first binding", async () => {
    const named = await explain(
      "z = w*x+b; p = sigmoid(z); bce(p, y)",
      "w=1",
      "b=0",
      "x=6.7",
      "y=0",
    );
    expect(named.text.split("\n")[0]).toBe(
      "gradtrio explain  z = w*x+b; p = sigmoid(z); f = bce(p, y)",
    );
    expect((await explain("sin(x^2)", "x=3")).text.split("\n")[0]).toBe(
      "gradtrio explain  f = sin(x^2)",
    );
    expect((await explain("z = x^2; z", "x=3")).text.split("\n")[0]).toBe(
      "gradtrio explain  z = x^2; z",
    );
  });

  it("says what is computed from data alone has no grad_fn, as the table shows", async () => {
    const r = await explain(
      "mean(-(y*log(p) + (1-y)*log(1-p)))",
      "p=[0.2,0.7]",
      "y=[0,1]",
      "--wrt",
      "p",
    );
    expect(r.text).toContain(
      "y is data: no gradient, and what is computed from data alone records no grad_fn (— below).",
    );
    expect(r.text).toMatch(/u3 +1 - y +\[1, 0\] +—/);
  });

  it("--steps at a kink: no table, no 'exact' subgradient, the reason no h converges", async () => {
    for (const [expr, at] of [
      ["abs(x)", "x=0"],
      ["relu(x)", "x=0"],
    ] as const) {
      const r = await explain(expr, at, "--steps");
      expect(r.code).toBe(0);
      expect(r.text).not.toMatch(/exact 0|best h measured/);
      expect(r.text.replace(/\s+/g, " ")).toContain(
        "No lesson at a kink: the left and right derivatives differ (the verdict above), so no h converges.",
      );
    }
  });

  it("--steps --dtype float32 says the lesson is float64's, and where float32's V bottoms", async () => {
    const r = await explain("sin(x)", "x=1", "--steps", "--dtype", "float32");
    expect(r.code).toBe(0);
    expect(r.text).toContain("best h measured");
    expect(r.text.replace(/\s+/g, " ")).toContain(
      "The lesson is float64's: its differences are computed in float64. In float32 the rounding term is ε₃₂/h with ε₃₂ ≈ 1.2e-7, so the V bottoms near h ≈ √ε₃₂ ≈ 3e-4 (forward) and ∛ε₃₂ ≈ 5e-3 (central).",
    );
    expect((await explain("sin(x)", "x=1", "--steps")).text).not.toContain("float64's");
  });

  it("--steps where the derivative is infinite: nothing called exact", async () => {
    const r = await explain("sqrt(x)", "x=0", "--steps");
    expect(r.text).not.toMatch(/exact Infinity|eNaN/);
    expect(r.text).toContain("the chain rule gives Infinity (section 2)");
  });

  it("numbers its sections once each: the Hessian follows the legs", async () => {
    const r = await explain("x^3*y", "x=2", "y=3", "--steps");
    const numbers = [...r.text.matchAll(/^(\d)\. /gm)].map((m) => m[1]);
    expect(numbers).toEqual(["1", "2", "3", "4", "5"]);
    expect(r.text).toMatch(/^5\. Second derivatives: the Hessian$/m);
    expect(r.text.indexOf("The step size h")).toBeGreaterThan(r.text.indexOf("5. Second"));
  });

  it("--steps with --dot is one error line, exit 2 (--steps was ignored)", async () => {
    const r = await explain("x*y", "x=2", "y=3", "--steps", "--dot");
    expect(r.code).toBe(2);
    expect(r.text).toBe("");
    expect(r.err).toEqual([
      "gradtrio: error: --steps and --dot do not go together: --dot prints the graph alone (run explain --steps for the lesson)",
    ]);
  });

  it("--steps on a non-scalar output is bad input in one line, not silently ignored", async () => {
    const r = await explain("sin(x)", "x=[1,2]", "--steps");
    expect(r.code).toBe(2);
    expect(r.text).toBe("");
    expect(r.err).toEqual([
      "gradtrio: error: --steps studies the step size h of a scalar output's gradient; this output has shape [2]: drop --steps (the Jacobian is explained), or reduce it, e.g. sum(…)",
    ]);
  });

  it("--dot on a non-scalar output is bad input in one line, never a graph of NaN gradients", async () => {
    for (const expr of ["x^2", "softmax(x)"]) {
      const r = await explain(expr, "x=[1,2]", "--dot");
      expect(r.code).toBe(2);
      expect(r.text).toBe("");
      expect(r.err).toEqual([
        "gradtrio: error: --dot draws each node's gradient of a scalar output; this output has shape [2]: drop --dot (the Jacobian is explained), or reduce it, e.g. sum(…)",
      ]);
    }
  });

  it("--dot of the reduced output: the gradient backward(gradient=ones) gives, 2x on x^2", async () => {
    const r = await explain("sum(x^2)", "x=[1,2]", "--dot");
    expect(r.code).toBe(0);
    expect(r.text).toMatch(/\{ x \| leaf \(requires grad\) \| data \[1, 2\] \| grad \[2, 4\] \}/);
    expect(r.text).not.toMatch(/NaN/);
  });
});
