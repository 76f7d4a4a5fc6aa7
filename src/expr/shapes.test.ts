import { describe, expect, it } from "vitest";
import { failure } from "../../test/failure.ts";
import { registerUnchecked } from "../../test/register-op.ts";
import { call as c, num, variable as v } from "./ast.ts";
import { parse } from "./parse.ts";
import { toValues } from "./point.ts";
import {
  broadcastShapes,
  checkScalarOutput,
  inferShapes,
  matmulShape,
  shapesOf,
} from "./shapes.ts";

const point = (entries: Record<string, number[]>) => new Map(Object.entries(entries));

describe("broadcastShapes", () => {
  it("follows NumPy's rules", () => {
    expect(broadcastShapes([], [3])).toEqual([3]);
    expect(broadcastShapes([2, 1], [3])).toEqual([2, 3]);
    expect(broadcastShapes([1, 3], [2, 1])).toEqual([2, 3]);
    expect(broadcastShapes([2, 3], [2, 3])).toEqual([2, 3]);
    expect(broadcastShapes([2], [3])).toBeUndefined();
    expect(broadcastShapes([2, 3], [2])).toBeUndefined();
  });
});

describe("matmulShape", () => {
  it("follows torch.matmul for 1-D and 2-D operands", () => {
    expect(matmulShape([3], [3])).toEqual([]);
    expect(matmulShape([2, 3], [3])).toEqual([2]);
    expect(matmulShape([3], [3, 4])).toEqual([4]);
    expect(matmulShape([2, 3], [3, 4])).toEqual([2, 4]);
    expect(matmulShape([2, 3], [2])).toBe(
      "matmul: inner dimensions differ (3 vs 2) for shapes [2, 3] and [2]",
    );
    expect(matmulShape([], [2])).toBe("matmul takes 1-D or 2-D operands; got shapes [] and [2]");
  });
});

describe("inferShapes", () => {
  it("gives every node its shape", () => {
    const x = v("x");
    const A = v("A");
    const prod = c("mul", [x, A]);
    const two = num(2);
    const e = c("add", [prod, two]);
    const { shape, shapes } = inferShapes(e, point({ x: [3], A: [2, 3] }));
    expect(shape).toEqual([2, 3]);
    expect(shapes.get(x)).toEqual([3]);
    expect(shapes.get(prod)).toEqual([2, 3]);
    expect(shapes.get(two)).toEqual([]);
  });

  it("reduces sum and mean to scalars and shapes matmul", () => {
    const vars = point({ x: [3], y: [3], A: [2, 3], B: [3, 4] });
    expect(inferShapes(parse("mean(x^2) + sum(x*y)"), vars).shape).toEqual([]);
    expect(inferShapes(parse("matmul(A, x)"), vars).shape).toEqual([2]);
    expect(inferShapes(parse("matmul(x, B)"), vars).shape).toEqual([4]);
    expect(inferShapes(parse("matmul(A, B)"), vars).shape).toEqual([2, 4]);
    expect(inferShapes(parse("matmul(x, y)"), vars).shape).toEqual([]);
    expect(inferShapes(parse("clamp(x, 0, A)"), vars).shape).toEqual([2, 3]);
    expect(inferShapes(parse("pi*e"), vars).shape).toEqual([]);
  });

  it("treats custom ops as elementwise", () => {
    registerUnchecked({
      name: "shapes_test_op",
      arity: 2,
      forward: (a, b) => a * b,
      backward: ({ args, grad }) => [grad * args[1]!, grad * args[0]!],
    });
    expect(inferShapes(parse("shapes_test_op(x, b)"), point({ x: [4], b: [] })).shape).toEqual([4]);
  });

  it("names both shapes and points at the op when they do not broadcast", () => {
    const source = "sum(x + y)";
    const err = failure(() => inferShapes(parse(source), point({ x: [2], y: [3] }), { source }));
    expect([err.code, err.pos, err.message]).toEqual([
      "SHAPE",
      6,
      "cannot broadcast shapes [2] and [3] in '+'",
    ]);
    expect(err.format()).toBe(`${err.message}\n  sum(x + y)\n        ^`);
    const clamp = failure(() => inferShapes(parse("clamp(x, 0, y)"), point({ x: [2], y: [3] })));
    expect(clamp.message).toBe("cannot broadcast shapes [2] and [3] in clamp(…)");
  });

  it("rejects a matmul whose inner dimensions differ", () => {
    const err = failure(() => inferShapes(parse("1 + matmul(A, x)"), point({ A: [2, 3], x: [2] })));
    expect([err.code, err.pos]).toEqual(["SHAPE", 4]);
    expect(err.message).toMatch(/\[2, 3\] and \[2\]/);
  });

  it("rejects a variable the point lacks", () => {
    const err = failure(() => inferShapes(parse("x + z"), point({ x: [], y: [] })));
    expect([err.code, err.pos, err.message]).toEqual([
      "UNKNOWN_VARIABLE",
      4,
      "the expression uses 'z', but the point gives no value for it (it gives x, y)",
    ]);
    expect(failure(() => inferShapes(parse("constructor"), point({}))).message).toBe(
      "the expression uses 'constructor', but the point gives no value for it (it gives none)",
    );
  });

  it("rejects unknown functions and wrong arity in hand-built trees", () => {
    expect(failure(() => inferShapes(c("nope", [num(1)]), point({}))).code).toBe(
      "UNKNOWN_FUNCTION",
    );
    expect(failure(() => inferShapes(c("sin", [num(1), num(2)]), point({}))).code).toBe("ARITY");
  });

  it("walks a 10^5-deep chain", () => {
    let e = v("x") as ReturnType<typeof c> | ReturnType<typeof v>;
    for (let k = 0; k < 100_000; k++) e = c("sin", [e]);
    expect(inferShapes(e, point({ x: [5] })).shape).toEqual([5]);
  });
});

describe("checkScalarOutput", () => {
  it("accepts a scalar output", () => {
    expect(() =>
      checkScalarOutput(inferShapes(parse("mean(x^2)"), point({ x: [3] })).shape),
    ).not.toThrow();
  });

  it("rejects a vector output with advice and a caret", () => {
    const source = "x^2";
    const expr = parse(source);
    const err = failure(() =>
      checkScalarOutput(inferShapes(expr, point({ x: [3] })).shape, { expr, source }),
    );
    expect([err.code, err.pos, err.message]).toEqual([
      "NON_SCALAR",
      1,
      "the output must be a scalar; got shape [3]; wrap it in sum(…) or mean(…)",
    ]);
    expect(failure(() => checkScalarOutput([2, 2])).message).toMatch(/got shape \[2, 2\]/);
  });
});

describe("shapesOf", () => {
  it("reads shapes from a point's values", () => {
    expect([...shapesOf(toValues({ x: [1, 2, 3], b: 0, A: [[1, 2]] }))]).toEqual([
      ["x", [3]],
      ["b", []],
      ["A", [1, 2]],
    ]);
  });
});
