import { describe, expect, it } from "vitest";
import { defineOp } from "../autograd/define-op.ts";
import { check } from "./check.ts";
import { reportToJson } from "./report.ts";

// cube3(u) = u³ with a backward off by a relative 1e-6: the vote must convict autograd.
defineOp({
  name: "cube3_bad",
  arity: 1,
  forward: (u) => u ** 3,
  backward: ({ args: [u], grad }) => [grad * 3 * u! ** 2 * (1 + 1e-6)],
  formula: (u) => `${u}^3`,
});

describe("check of a non-scalar output", () => {
  it("convicts a wrong backward rule in one entry of a Jacobian", () => {
    const r = check("cube3_bad(x) + sum(x)", { at: { x: [1, -2, 0.5] } });
    expect(r.verdict).toBe("disagree");
    expect(r.blame).toBe("autograd");
    expect(r.failing).toContain("∂out[1]/∂x[1]");
  });

  it("labels rows and columns as the contract says (matrix input, broadcast scalar)", () => {
    const r = check("matmul(A, v) * s", {
      at: {
        A: [
          [1, 2],
          [3, 4],
        ],
        v: [0.5, -1],
        s: 2,
      },
    });
    const j = reportToJson(r) as { jacobian: { inputs: string[]; outputs: string[] } };
    expect(j.jacobian.inputs).toEqual([
      "A[0][0]",
      "A[0][1]",
      "A[1][0]",
      "A[1][1]",
      "v[0]",
      "v[1]",
      "s",
    ]);
    expect(j.jacobian.outputs).toEqual(["out[0]", "out[1]"]);
    // ∂(A v s)[0]/∂A[0][1] = v[1]·s = -2; ∂out[1]/∂s = (A v)[1] = -2.5 (by hand)
    expect(r.jacobian!.autograd![0]![1]).toBe(-2);
    expect(r.jacobian!.symbolic![1]![6]).toBe(-2.5);
    expect(r.verdict).toBe("agree");
  });

  it("uses the diagonal structure of an elementwise output of 10³ elements", () => {
    const x = Array.from({ length: 1000 }, (_, i) => Math.sin(i) + 2);
    const r = check("log(x)*y + x^2", { at: { x, y: 1.5 } });
    expect(r.verdict).toBe("agree");
    expect(r.notes.join(" ")).toMatch(/diagonal/);
    const J = r.jacobian!.numeric!;
    // ∂out[7]/∂x[7] = y/x + 2x; ∂out[7]/∂y = log x; off-diagonal 0 (by hand)
    expect(J[7]![7]).toBeCloseTo(1.5 / x[7]! + 2 * x[7]!, 9);
    expect(J[7]![1000]).toBeCloseTo(Math.log(x[7]!), 9);
    expect(J[7]![8]).toBe(0);
  });

  it("--wrt keeps the columns (Jacobian) and rows and columns (Hessian) of those inputs", () => {
    const j = check("sin(x)*y", { at: { x: [1, 2], y: 3 }, wrt: ["y"] });
    expect(j.jacobian!.inputs).toEqual(["y"]);
    // ∂(sin(x)·y)ᵢ/∂y = sin xᵢ (by hand)
    expect(j.jacobian!.autograd).toEqual([[Math.sin(1)], [Math.sin(2)]]);
    const h = check("x^3*y", { at: { x: 2, y: 3 }, wrt: ["x"], order: 2 });
    expect(h.hessian!.inputs).toEqual(["x"]);
    expect(h.hessian!.symbolic).toEqual([[36]]); // 6xy
  });

  it("a Hessian beside a breakpoint: the complex step along every coordinate that leaves it alone", () => {
    // mean(relu(x)·x²): ∂²/∂x_i² = 6x_i/n for x_i > 0, 0 for x_i < 0, and 0 at x_i = 0 (from
    // both sides); every mixed partial is 0. relu(x[5]) sits on its breakpoint.
    const x = Array.from({ length: 12 }, (_, i) => Math.cos(i) * 0.5);
    x[5] = 0;
    const h = check("mean(relu(x)*x^2)", { at: { x }, order: 2 }).hessian!;
    const exact = (i: number, j: number) => (i === j && x[i]! > 0 ? (6 * x[i]!) / 12 : 0);
    for (let i = 0; i < 12; i++)
      for (let j = 0; j < 12; j++) {
        const d = Math.abs(h.numeric![i]![j]! - exact(i, j));
        // Off x[5]'s row and column the differenced gradient is the complex step's, exact but
        // for rounding (Richardson's, as it was, errs by ~1e-12); through x[5], Richardson's.
        expect(d).toBeLessThan(i === 5 || j === 5 ? 1e-5 : 1e-15);
      }
  });

  it("bad input to the API is a GradtrioError: order 3, a vector output's Hessian, a shape mismatch", () => {
    const at = { x: [1, 2] };
    expect(() => check("sum(x^3)", { at, order: 3 as never })).toThrow(
      "order must be 1 or 2, got 3",
    );
    expect(() => check("x^3", { at, order: 2 })).toThrow(/scalar/);
    expect(() => check("x+y", { at: { x: [1, 2], y: [1, 2, 3] } })).toThrow(/cannot broadcast/);
  });

  it("references that differ on a Hessian autograd cannot give convict nothing: inconclusive", () => {
    // σ(x − y) as a custom op (no double backward): its textbook formula meets nerdamer's
    // exponent merge (CAS_DEFECTS) in the second derivatives; the finite differences are right.
    defineOp({
      name: "sigmaDiff",
      arity: 2,
      forward: (a, b) => 1 / (1 + Math.exp(b - a)),
      backward: ({ out, grad }) => [grad * out * (1 - out), -grad * out * (1 - out)],
      formula: (a, b) => `exp(${a})/(exp(${a})+exp(${b}))`,
    });
    const r = check("sigmaDiff(x, y)", { at: { x: 1, y: 2 }, order: 2 });
    expect(r.hessian!.autograd).toBeNull();
    expect([r.verdict, r.rule]).toEqual(["inconclusive", "too few legs"]);
    expect(r.reason).toMatch(
      /symbolic and numeric differ at ∂²f.*autograd, the code under test, has no Hessian/,
    );
    // s(1−s)(1−2s), s = σ(−1), by hand
    const s = 1 / (1 + Math.E);
    expect(r.hessian!.numeric![0]![0]).toBeCloseTo(s * (1 - s) * (1 - 2 * s), 8);
    // Where the two references agree, the Hessian rests on them: agree, and the reason says so.
    const ok = check("cube3_bad(x) - cube3_bad(x) + x^2", { at: { x: 1.5 }, order: 2 });
    expect([ok.verdict, ok.reason]).toEqual([
      "agree",
      expect.stringMatching(/^Hessian by two legs: symbolic and numeric/),
    ]);
  });

  it("a kink makes the Jacobian inconclusive", () => {
    expect(check("relu(x)", { at: { x: [1, 0] } }).verdict).toBe("inconclusive");
  });
});
