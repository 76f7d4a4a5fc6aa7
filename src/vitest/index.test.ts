// The matcher tested with itself: a passing assertion, and failing ones whose messages must show
// the three legs, the blame and the reason.
import { describe, expect, it } from "vitest";
import { defineOp } from "../autograd/index.ts";
import { type Tensor, tensor } from "../autograd/tensor.ts";
import { parse } from "../expr/parse.ts";
import "../../test/fixtures/ops/collude/ops.ts";
import "./index.ts";

// tanh'(x) = 1 - tanh²(x), written with a wrong sign in the backward rule.
defineOp({
  name: "vitestBadTanh",
  arity: 1,
  forward: Math.tanh,
  backward: ({ out, grad }) => [grad * (out * out - 1)],
  formula: (x) => `tanh(${x})`,
});

function failure(run: () => void): string {
  try {
    run();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error("the assertion did not fail");
}

describe("toHaveAgreeingGradients", () => {
  it("passes for sound gradients: text, an Expr, functions over Tensors, vectors", () => {
    expect("sin(x^2)").toHaveAgreeingGradients({ at: { x: 3 } });
    expect(parse("sin(x^2)")).toHaveAgreeingGradients({ at: { x: 3 } });
    expect(parse("sin(vitestBadTanh(x))")).not.toHaveAgreeingGradients({ at: { x: 0.3 } });
    expect((x: Tensor) => x.pow(2).sin()).toHaveAgreeingGradients({ at: { x: 4 } });
    expect("mean(bce(sigmoid(w*x+b), y))").toHaveAgreeingGradients({
      at: { w: 0.5, b: -0.2, x: [1, 2, -1, 0.5], y: [1, 0, 0, 1] },
    });
  });

  it("takes a vector output (its Jacobian), a Hessian, and a plain function with its grad", () => {
    expect("sigmoid(w*x+b)").toHaveAgreeingGradients({ at: { w: 2, b: 0, x: [1, -2, 0.5] } });
    expect("x^3*y").toHaveAgreeingGradients({ at: { x: 2, y: 3 }, order: 2 });
    const f = (x: Float64Array) => x[0]! * Math.exp(x[1]!);
    // ∇f by hand: (e^x1, x0·e^x1); the wrong one drops the x0
    expect(f).toHaveAgreeingGradients({
      at: [2, 0.5],
      grad: (x: Float64Array) => [Math.exp(x[1]!), x[0]! * Math.exp(x[1]!)],
    });
    expect(f).not.toHaveAgreeingGradients({
      at: [2, 0.5],
      grad: (x: Float64Array) => [Math.exp(x[1]!), Math.exp(x[1]!)],
    });
  });

  it("fails on a buggy custom op with the three legs, the blame and the reason", () => {
    const msg = failure(() =>
      expect("sin(vitestBadTanh(x))").toHaveAgreeingGradients({ at: { x: 0.3 } }),
    );
    expect(msg).toContain("expected the gradients to agree, but the verdict is disagree");
    expect(msg).toContain("sin(vitestBadTanh(x)) at x = 0.3: disagree (blame: autograd)");
    expect(msg).toMatch(/reason: autograd gives -[\d.]+ at x where symbolic gives [\d.]+/);
    expect(msg).toMatch(/input\s+symbolic\s+numeric\s+± error\s+autograd/);
    expect(msg).toMatch(/x\s+0\.8\d+\s+0\.8\d+\s+[\d.e-]+\s+-0\.8\d+/);
  });

  it("fails a custom op whose forward (x²) is not what its backward and formula (x³) describe", () => {
    // The CAS differentiates the formula and sides with the backward (6.75 at 1.5); the forward's
    // derivative is 2x = 3. The symbolic leg has no vote: numeric and autograd differ.
    const msg = failure(() => expect("sqBug(x)").toHaveAgreeingGradients({ at: { x: 1.5 } }));
    expect(msg).toContain("expected the gradients to agree, but the verdict is disagree");
    expect(msg).toContain(
      "the symbolic leg has no vote: custom op 'sqBug': its formula gives 3.375 where its forward gives 2.25 at x = 1.5",
    );
    expect(msg).toMatch(/x\s+6\.75\s+(3|2\.99999\d*|3\.00000\d*)\s+[\d.e-]+\s+6\.75/);
  });

  it("works with .not, and fails .not when the legs agree", () => {
    expect("vitestBadTanh(x)*x").not.toHaveAgreeingGradients({ at: { x: 0.3 } });
    expect(failure(() => expect("x^2").not.toHaveAgreeingGradients({ at: { x: 3 } }))).toContain(
      "expected the gradients not to agree, but the three legs agree",
    );
  });

  it("passes where the CAS is outvoted (autograd confirmed); strict fails there", () => {
    // nerdamer gives d/dy sqrt(y^2) = 1, the wrong sign at y < 0; autograd and FD agree on -1.
    expect("sqrt(y^2)").toHaveAgreeingGradients({ at: { y: -2 } });
    const msg = failure(() =>
      expect("sqrt(y^2)").toHaveAgreeingGradients({ at: { y: -2 }, strict: true }),
    );
    expect(msg).toContain("expected the gradients to agree, but the verdict is disagree");
    expect(msg).toContain("sqrt(y^2) at y = -2: disagree (blame: symbolic)");
    expect(
      failure(() => expect("sqrt(y^2)").not.toHaveAgreeingGradients({ at: { y: -2 } })),
    ).toContain(
      "expected the gradients not to agree, but autograd is confirmed: the symbolic leg is outvoted by the two others",
    );
    expect("sqrt(y^2)").not.toHaveAgreeingGradients({ at: { y: -2 }, strict: true });
  });

  it("fails a hand-written grad of ±Infinity, and x^x at 0 (derivative → −∞) as inconclusive", () => {
    // d/dx x² = 6 at 3: an infinite grad must not pass by an infinite relative tolerance.
    const sq = (x: Float64Array) => x[0]! ** 2;
    for (const g of [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])
      expect(
        failure(() => expect(sq).toHaveAgreeingGradients({ grad: () => [g], at: [3] })),
      ).toContain("expected the gradients to agree, but the verdict is disagree");
    // The CAS's x^x·(ln x + 1) is −Infinity at 0, autograd's 0 (PyTorch's rule): no agreement.
    expect(failure(() => expect("x^x").toHaveAgreeingGradients({ at: { x: 0 } }))).toContain(
      "but the verdict is inconclusive",
    );
  });

  it("counts inconclusive as a failure unless allowed", () => {
    expect(failure(() => expect("relu(x)").toHaveAgreeingGradients({ at: { x: 0 } }))).toContain(
      "but the verdict is inconclusive",
    );
    expect("relu(x)").toHaveAgreeingGradients({ at: { x: 0 }, allowInconclusive: true });
  });

  it("fails with gradtrio's message on bad input", () => {
    expect(failure(() => expect("sin(x").toHaveAgreeingGradients({ at: { x: 1 } }))).toMatch(
      /^toHaveAgreeingGradients: the check could not run: .*parenthesis/,
    );
  });

  it("throws for a Tensor function whose result leaves the graph (its gradient is not 0)", () => {
    expect(() =>
      expect((x: Tensor) => tensor(Math.sin(x.item()))).toHaveAgreeingGradients({ at: { x: 1 } }),
    ).toThrow(/^toHaveAgreeingGradients: the check could not run: .*does not depend on its inputs/);
    expect(() =>
      expect((x: Tensor) => x.data[0]! * 2).not.toHaveAgreeingGradients({ at: { x: 1 } }),
    ).toThrow(/does not depend on its inputs through the Tensor API/);
  });

  it("throws on an unknown option: strict misspelt must not let sqrt(x^2) at -2 pass", () => {
    // The CAS's 1 for d sqrt(x^2)/dx at -2 is outvoted (true -1): passes, fails with strict.
    expect("sqrt(x^2)").toHaveAgreeingGradients({ at: { x: -2 } });
    expect(() =>
      expect("sqrt(x^2)").toHaveAgreeingGradients({ at: { x: -2 }, strict: true }),
    ).toThrow(/but the verdict is disagree/);
    expect(() =>
      expect("sqrt(x^2)").toHaveAgreeingGradients({ at: { x: -2 }, stirct: true } as never),
    ).toThrow(
      "toHaveAgreeingGradients: the check could not run: unknown option 'stirct' (did you mean 'strict'?; known: at, rtol, atol, method, seed, wrt, dtype, order, onGradients, allowInconclusive, strict)",
    );
    expect(() =>
      expect((x: number) => x * x).toHaveAgreeingGradients({
        at: 1,
        grad: (x: number) => 2 * x,
        atoll: 0,
      } as never),
    ).toThrow(/unknown option 'atoll' \(did you mean 'atol'\?; known: at, grad, vjp, jvp,/);
  });

  it("throws on bad input with .not too: a check that cannot run is no disagreement", () => {
    expect(() => expect("sin(x").not.toHaveAgreeingGradients({ at: { x: 1 } })).toThrow(
      /^toHaveAgreeingGradients: the check could not run: .*parenthesis/,
    );
    expect(() => expect("x*y").not.toHaveAgreeingGradients({ at: { x: 1 } })).toThrow(
      "toHaveAgreeingGradients: the check could not run: the expression uses 'y', but the point gives no value for it (it gives x)",
    );
  });

  it("works as an asymmetric matcher inside toEqual", () => {
    expect({ loss: "sin(x^2)", n: 1 }).toEqual({
      loss: expect.toHaveAgreeingGradients({ at: { x: 3 } }),
      n: 1,
    });
    expect({ loss: "vitestBadTanh(x)*x" }).not.toEqual({
      loss: expect.toHaveAgreeingGradients({ at: { x: 0.3 } }),
    });
  });
});
