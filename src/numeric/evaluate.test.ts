import { describe, expect, it } from "vitest";
import { failure } from "../../test/failure.ts";
import { registerUnchecked } from "../../test/register-op.ts";
import { call, constant, type Expr, num, variable } from "../expr/ast.ts";
import { toValues } from "../expr/point.ts";
import { compileComplex } from "./complex.ts";
import { compileForward, compileForwardValue, evaluate, flattenValues } from "./evaluate.ts";

const x = variable("x");
const c = (op: string, ...args: Expr[]) => call(op, args);

function at(e: Expr, point: Record<string, number | number[] | number[][]>): number {
  const { x: flat, layout } = flattenValues(toValues(point));
  return compileForward(e, layout)(flat);
}

describe("compileForward", () => {
  it("evaluates every scalar op like Math (hand values)", () => {
    expect(at(c("sin", c("pow", x, num(2))), { x: 3 })).toBe(Math.sin(9));
    expect(at(c("sub", c("mul", num(2), x), c("div", x, num(4))), { x: 2 })).toBe(3.5);
    expect(at(c("neg", c("exp", x)), { x: 1 })).toBe(-Math.E);
    expect(at(c("tanh", x), { x: 0.4 })).toBe(Math.tanh(0.4));
    expect(at(c("sigmoid", x), { x: 0 })).toBe(0.5);
    expect(at(c("sigmoid", x), { x: -800 })).toBe(0); // stable: no exp overflow
    expect(at(c("sigmoid", x), { x: 800 })).toBe(1);
    expect(at(c("softplus", x), { x: 0 })).toBe(Math.LN2);
    expect(at(c("softplus", x), { x: 1000 })).toBe(1000);
    expect(at(c("softplus", x), { x: -1000 })).toBe(0);
    expect(at(c("relu", x), { x: -2 })).toBe(0);
    expect(at(c("relu", x), { x: 2 })).toBe(2);
    expect(at(c("abs", x), { x: -2 })).toBe(2);
    expect(at(c("clamp", x, num(0), num(1)), { x: 1.7 })).toBe(1);
    expect(at(c("clamp", x, num(0), num(1)), { x: -1 })).toBe(0);
    expect(at(c("log1p", x), { x: 1e-20 })).toBe(1e-20);
    expect(at(c("pow", constant("e"), x), { x: 1 })).toBe(Math.E);
    expect(at(c("sin", c("mul", constant("pi"), x)), { x: 0.5 })).toBe(1);
  });

  it("computes bce(p, t) = -(t log p + (1-t) log(1-p))", () => {
    expect(at(c("bce", num(0.25), x), { x: 1 })).toBeCloseTo(-Math.log(0.25), 15);
    expect(at(c("bce", num(0.25), x), { x: 0 })).toBeCloseTo(-Math.log(0.75), 15);
    // The torch-golden seed BCE value, PyTorch float64.
    const z = c("add", c("mul", variable("w"), x), variable("b"));
    const seed = c("bce", c("clamp", c("sigmoid", z), num(1e-8), num(1 - 1e-8)), variable("y"));
    expect(at(seed, { w: 1, b: 0, x: 6.7, y: 0 })).toBeCloseTo(6.701230154951767, 12);
  });

  it("gives NaN outside the domain instead of throwing", () => {
    expect(at(c("log", x), { x: -1 })).toBeNaN();
    expect(at(c("sqrt", x), { x: -1 })).toBeNaN();
    expect(at(c("pow", x, num(0.5)), { x: -8 })).toBeNaN();
    expect(at(c("bce", x, num(0.5)), { x: 1.5 })).toBeNaN();
    expect(at(c("relu", c("log", x)), { x: -1 })).toBeNaN();
  });

  it("broadcasts by NumPy rules and reduces", () => {
    const pt = { x: [1, 2, 3], A: [[1], [2]] };
    expect(at(c("mean", c("pow", x, num(2))), { x: [1, 2, 3] })).toBeCloseTo(14 / 3, 15);
    expect(at(c("sum", c("mul", x, variable("A"))), pt)).toBe(6 + 12);
    const f = compileForwardValue(c("add", x, variable("A")), flattenValues(toValues(pt)).layout);
    const out = f(flattenValues(toValues(pt)).x);
    expect(out.shape).toEqual([2, 3]);
    expect([...out.data]).toEqual([2, 3, 4, 3, 4, 5]);
  });

  it("follows torch.matmul for 1-D and 2-D operands", () => {
    const A = variable("A");
    const v = variable("v");
    const pt = {
      A: [
        [1, 2, -1],
        [0.5, 0, 3],
      ],
      v: [0.2, -0.1, 0.4],
    };
    // PyTorch float64 reference value of sum(matmul(A, v)^2).
    expect(at(c("sum", c("pow", c("matmul", A, v), num(2))), pt)).toBeCloseTo(1.85, 14);
    const val = evaluate(c("matmul", v, v), toValues(pt));
    expect(val.shape).toEqual([]);
    expect(val.data[0]).toBeCloseTo(0.21, 15);
    const mv = evaluate(
      c("matmul", variable("B"), v),
      toValues({
        B: [
          [1, 0],
          [0, 1],
          [1, 1],
        ],
        v: [2, 3],
      }),
    );
    expect(mv.shape).toEqual([3]);
    expect([...mv.data]).toEqual([2, 3, 5]);
    const vm = evaluate(
      c("matmul", v, variable("B")),
      toValues({
        B: [
          [1, 2],
          [3, 4],
        ],
        v: [1, 1],
      }),
    );
    expect([...vm.data]).toEqual([4, 6]);
    const mm = evaluate(
      c("matmul", variable("B"), variable("B")),
      toValues({
        B: [
          [1, 2],
          [3, 4],
        ],
      }),
    );
    expect(mm.shape).toEqual([2, 2]);
    expect([...mm.data]).toEqual([7, 10, 15, 22]);
  });

  it("runs custom ops through their forward", () => {
    registerUnchecked({
      name: "numeric_eval_cube",
      arity: 1,
      forward: (a) => a * a * a,
      backward: ({ args, grad }) => [3 * args[0]! ** 2 * grad],
    });
    expect(at(c("sum", c("numeric_eval_cube", x)), { x: [1, 2] })).toBe(9);
  });

  it("compiles an expression whose constant part compiles another one (a forward that evaluates)", () => {
    // 2a + 1 through a nested compile, run at compile time (the argument 3 is a constant), after
    // the outer compile has emitted sin(x)'s kernel.
    registerUnchecked({
      name: "numeric_eval_nested",
      arity: 1,
      forward: (a) => at(c("add", c("mul", num(2), x), num(1)), { x: a }),
      backward: ({ grad }) => [2 * grad],
    });
    const e = c("mul", c("sin", x), c("numeric_eval_nested", num(3)));
    expect(at(e, { x: 0.5 })).toBe(Math.sin(0.5) * 7);
    const { x: flat, layout } = flattenValues(toValues({ x: 0.5 }));
    const p = compileComplex(e, layout);
    p.run(flat, Float64Array.of(1e-30));
    expect(p.output.re[0]).toBe(Math.sin(0.5) * 7);
    expect(p.output.im[0]! / 1e-30).toBeCloseTo(7 * Math.cos(0.5), 14);
  });

  it("rejects bad expressions with a GradtrioError", () => {
    const code = (fn: () => unknown) => failure(fn).code;
    expect(code(() => at(c("add", x, variable("zz")), { x: 1 }))).toBe("UNKNOWN_VARIABLE");
    expect(code(() => at(c("sum", c("add", x, variable("y"))), { x: [1, 2], y: [1, 2, 3] }))).toBe(
      "SHAPE",
    );
    expect(code(() => at(c("matmul", x, variable("y")), { x: [1, 2], y: [1, 2, 3] }))).toBe(
      "SHAPE",
    );
    expect(code(() => at(c("pow", x, num(2)), { x: [1, 2] }))).toBe("NON_SCALAR");
    expect(code(() => at(c("nosuchop", x), { x: 1 }))).toBe("UNKNOWN_FUNCTION");
    const { layout } = flattenValues(toValues({ x: [1, 2] }));
    expect(code(() => compileForward(c("sum", x), layout)(new Float64Array(1)))).toBe(
      "INVALID_ARGUMENT",
    );
  });

  it("evaluates many times with fresh inputs", () => {
    const { layout } = flattenValues(toValues({ x: 0 }));
    const f = compileForward(c("sin", c("pow", x, num(2))), layout);
    for (const v of [0.5, 1, 2, 3]) expect(f(Float64Array.of(v))).toBe(Math.sin(v * v));
  });
});
