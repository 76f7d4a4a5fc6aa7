import { describe, expect, it } from "vitest";
import { failure } from "../../test/failure.ts";
import { call as c, type Expr, exprEquals, num, variable as v } from "../expr/ast.ts";
import { parse } from "../expr/parse.ts";
import { toValues } from "../expr/point.ts";
import { print } from "../expr/print.ts";
import { bce, clamp, defineOp, reshape, sigmoid, sum, type Tensor, tensor } from "./index.ts";
import { trace } from "./trace.ts";
import { setWarningHandler } from "./warnings.ts";

const at = (point: Record<string, number | number[]>) => toValues(point);

/** Structural equality (printed text could hide a difference, e.g. in a number's last digits). */
function same(got: Expr, expected: Expr): void {
  expect(exprEquals(got, expected), `got ${print(got)}, expected ${print(expected)}`).toBe(true);
}

describe("trace", () => {
  it("turns methods on tensors into the expression they compute", () => {
    same(
      trace((x) => x.pow(2).sin(), ["x"], at({ x: 3 })),
      parse("sin(x^2)"),
    );
    same(
      trace((x) => x.mul(x).sum(), ["x"], at({ x: [1, 2, 3] })),
      c("sum", [c("mul", [v("x"), v("x")])]),
    );
  });

  it("traces the seed BCE written with tensors", () => {
    const f = (w: Tensor, b: Tensor, x: Tensor, y: Tensor) =>
      bce(clamp(sigmoid(w.mul(x).add(b)), 1e-8, 1 - 1e-8), y);
    const expected = c("bce", [
      c("clamp", [
        c("sigmoid", [c("add", [c("mul", [v("w"), v("x")]), v("b")])]),
        num(1e-8),
        num(1 - 1e-8),
      ]),
      v("y"),
    ]);
    same(trace(f, ["w", "b", "x", "y"], at({ w: 1, b: 0, x: 6.7, y: 0 })), expected);
  });

  it("keeps plain numbers, 0-d constants and reversed operands", () => {
    const e = trace((x) => x.mul(-2).add(tensor(0.5)).pow(3), ["x"], at({ x: 1 }));
    same(e, c("pow", [c("add", [c("mul", [v("x"), num(-2)]), num(0.5)]), num(3)]));
    expect(print(e)).toBe("(x*(-2) + 0.5)^3");
  });

  it("shares a tensor used twice as one node", () => {
    const e = trace(
      (x) => {
        const s = x.sin();
        return s.mul(s);
      },
      ["x"],
      at({ x: 0.3 }),
    );
    expect(e.kind === "call" && e.args[0] === e.args[1]).toBe(true);
    same(e, parse("sin(x)*sin(x)"));
  });

  it("traces a custom op as a call", () => {
    const cube = defineOp({
      name: "trace_test_cube",
      arity: 1,
      forward: (x) => x ** 3,
      backward: ({ args, grad }) => [3 * args[0]! ** 2 * grad],
    });
    same(
      trace((x, y) => cube(x.add(y)).mean(), ["x", "y"], at({ x: [1, 2], y: 3 })),
      c("mean", [c("trace_test_cube", [c("add", [v("x"), v("y")])])]),
    );
  });

  it("follows a 10^5-op chain without overflowing the stack", () => {
    const e = trace(
      (x) => {
        let t = x;
        for (let k = 0; k < 100_000; k++) t = t.sin();
        return t;
      },
      ["x"],
      at({ x: 0.5 }),
    );
    let depth = 0;
    for (let n: Expr = e; n.kind === "call"; n = n.args[0]!) depth++;
    expect(depth).toBe(100_000);
  });

  it("rejects what the expression language cannot say", () => {
    const outside = failure(() =>
      trace((x) => sum(reshape(x, [2, 1]), 0).sum(), ["x"], at({ x: [1, 2] })),
    );
    expect(outside.code).toBe("UNKNOWN_FUNCTION");
    expect(outside.message).toMatch(/'sum_dim'/);
    const constant = failure(() =>
      trace((x) => x.mul(tensor([1, 2])).sum(), ["x"], at({ x: [1, 2] })),
    );
    expect(constant.message).toBe(
      "trace: a constant tensor of shape [2] cannot appear in an expression (only 0-d constants can); pass it as an input",
    );
  });

  it("reports a bad function, result or input as a GradtrioError", () => {
    const threw = failure(() =>
      trace(
        () => {
          throw new TypeError("boom");
        },
        ["x"],
        at({ x: 1 }),
      ),
    );
    expect(threw.message).toBe("trace: the function threw: boom");
    expect(failure(() => trace((() => "x") as never, ["x"], at({ x: 1 }))).message).toBe(
      "trace: the function must return a Tensor",
    );
    expect(failure(() => trace((x) => x, ["z"], at({ x: 1 }))).code).toBe("UNKNOWN_VARIABLE");
  });

  it("warns (PyTorch's TracerWarning) when .item() reads a value computed from the inputs", () => {
    const seen: string[] = [];
    const previous = setWarningHandler((m) => seen.push(m));
    try {
      // x·x.item() traces as x*3 at 3: d/dx 3, where the function's is 2x = 6.
      same(
        trace((x) => x.mul(x.item()), ["x"], at({ x: 3 })),
        c("mul", [v("x"), num(3)]),
      );
      expect(seen).toEqual([
        "trace: the function read .item() (3) of a tensor computed from its inputs; the trace keeps that number as a constant, so no leg differentiates through it: keep the computation in Tensor ops (fine where it only picks a branch)",
      ]);
      trace((x) => x.mul(x.sum().item()), ["x"], at({ x: [1, 2] }));
      expect(seen).toHaveLength(2);
      // A constant's item() is no such read.
      trace((x) => x.mul(tensor(2).mul(3).item()), ["x"], at({ x: 1 }));
      trace((x) => x.sin(), ["x"], at({ x: 1 }));
      expect(seen).toHaveLength(2);
    } finally {
      setWarningHandler(previous);
    }
  });

  it("refuses a result that leaves the graph (PyTorch: 'does not require grad'), not an unused input", () => {
    const leaves =
      "trace: the function's result does not depend on its inputs through the Tensor API (.data, .item() and Number(...) leave the graph); compute it with Tensor ops";
    // d/dx of 2x is 2; traced, both would read as the constant 2 and every leg would give 0.
    expect(
      failure(() => trace(((x: Tensor) => x.data[0]! * 2) as never, ["x"], at({ x: 1 }))).message,
    ).toBe(leaves);
    expect(
      failure(() => trace((x) => tensor(Math.sin(x.item())), ["x"], at({ x: 1 }))).message,
    ).toBe(leaves);
    expect(
      failure(() =>
        trace((_x, y) => tensor(2).mul(Number(y!.item())), ["x", "y"], at({ x: 1, y: 2 })),
      ).message,
    ).toBe(leaves);
    // y unused while x is used: fine (its gradient is 0).
    same(
      trace((x) => x.sin(), ["x", "y"], at({ x: 1, y: 2 })),
      parse("sin(x)"),
    );
  });
});
