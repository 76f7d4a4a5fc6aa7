import { inspect } from "node:util";
import { describe, expect, it, vi } from "vitest";
import { failure } from "../../test/failure.ts";
import { call as c, type Expr, exprEquals, num, variable as v } from "../expr/ast.ts";
import { parse } from "../expr/parse.ts";
import { toValues } from "../expr/point.ts";
import { print } from "../expr/print.ts";
import { bce, clamp, defineOp, reshape, sigmoid, sum, type Tensor, tensor } from "./index.ts";
import { parameterNames, trace } from "./trace.ts";

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
    // With GRADTRIO_DEBUG=1 the user's stack goes to stderr (the one line leaves it out).
    const written: string[] = [];
    const spy = vi
      .spyOn(process.stderr, "write")
      .mockImplementation((s) => written.push(String(s)) > 0);
    process.env.GRADTRIO_DEBUG = "1";
    try {
      const userFunctionThatThrows = (): Tensor => {
        throw new RangeError("multi\nline");
      };
      expect(failure(() => trace(userFunctionThatThrows, ["x"], at({ x: 1 }))).message).toBe(
        "trace: the function threw: multi line",
      );
    } finally {
      delete process.env.GRADTRIO_DEBUG;
      spy.mockRestore();
    }
    expect(written.join("")).toMatch(
      /^gradtrio: debug: the traced function userFunctionThatThrows threw:\nRangeError: multi\nline\n\s+at userFunctionThatThrows /,
    );
    expect(failure(() => trace((() => "x") as never, ["x"], at({ x: 1 }))).message).toBe(
      "trace: the function must return a Tensor",
    );
    expect(failure(() => trace((x) => x, ["z"], at({ x: 1 }))).code).toBe("UNKNOWN_VARIABLE");
  });

  it("refuses a value read from the inputs and used as a number (every leg would take it for a constant)", () => {
    // x·x.item() at 3 would trace as x*3: d/dx 3 from all three legs, where the function's is 2x = 6.
    const used =
      /^trace: the function uses a value read from its inputs as a number \(.*\): its trace changes with the point \(x\*3 here, x\*3\.00000\d+ nearby\)/;
    const reads: [string, (x: Tensor) => Tensor][] = [
      [".data[0]", (x) => x.mul(x.data[0]!)],
      [".item()", (x) => x.mul(x.item())],
      [".toArray()", (x) => x.mul(x.toArray() as number)],
      ["Number(x)", (x) => x.mul(Number(x))],
      ["+x", (x) => x.mul(+x)],
      ["detach()", (x) => x.mul(x.detach())],
      [".sin().item()", (x) => x.mul(x.div(x.sin().item()).mul(Math.sin(3)))],
    ];
    for (const [what, f] of reads)
      expect(failure(() => trace(f, ["x"], at({ x: 3 }))).message, what).toMatch(
        what === ".sin().item()" ? /^trace: the function uses a value read from its inputs/ : used,
      );
    // One element of a vector, read by index.
    expect(
      failure(() => trace((x) => x.mul(x.data[1]!).sum(), ["x"], at({ x: [1, 2] }))).message,
    ).toMatch(/sum\(x\*2\) here, sum\(x\*2\.0000\d+\) nearby/);
    // Fine: a read that only picks a branch (on its breakpoint too: one side keeps the branch),
    // a constant's value, and a read of an input that is not differentiated (data, as PyTorch's).
    const branch = (x: Tensor) => (x.item() > 0 ? x.sin() : x.cos());
    same(trace(branch, ["x"], at({ x: 3 })), parse("sin(x)"));
    same(trace(branch, ["x"], at({ x: 0 })), parse("cos(x)"));
    same(
      trace((x) => x.mul(tensor(2).mul(3).item()), ["x"], at({ x: 1 })),
      parse("x*6"),
    );
    same(
      trace((w, y) => w.mul(y!.item()), ["w", "y"], at({ w: 1, y: 2 }), ["w"]),
      c("mul", [v("w"), num(2)]),
    );
    expect(Number(tensor(2.5))).toBe(2.5); // as PyTorch's float(t)
    expect(failure(() => Number(tensor([1, 2]))).message).toBe(
      "a Tensor with 2 elements cannot be converted to Scalar",
    );
    expect(`${tensor(2.5)}`).toBe("tensor(2.5000)");
  });

  it("refuses a value read from the inputs as text and parsed back as a number", () => {
    const used =
      /^trace: the function uses a value read from its inputs as a number \(.*parsed from its text.*\): its trace changes with the point \(x\*3 here, x\*3\.00000\d+ nearby\)/;
    // At 3 the 4-decimal text is "tensor(3.)": x·3 would be every leg's trace, d/dx 3 instead of 6.
    const reads: [string, (x: Tensor) => Tensor][] = [
      ["String(x)", (x) => x.mul(Number(String(x).slice(7, -1)))],
      ["template literal", (x) => x.mul(parseFloat(`${x}`.slice(7)))],
      ["x.toString()", (x) => x.mul(Number.parseFloat(x.toString().replace("tensor(", "")))],
      ["'' + x", (x) => x.mul(parseFloat(("" + x).slice(7)))],
    ];
    for (const [what, f] of reads)
      expect(failure(() => trace(f, ["x"], at({ x: 3 }))).message, what).toMatch(used);
    // One element of a vector, read from its text.
    const second = (x: Tensor) => x.mul(Number(String(x).slice(8, -2).split(", ")[1])).sum();
    expect(failure(() => trace(second, ["x"], at({ x: [1, 2.5] }))).message).toMatch(
      /sum\(x\*2\.5\) here, sum\(x\*2\.50000\d+\) nearby/,
    );
    // Read only to pick a branch: fine, as with .item().
    same(
      trace((x) => (String(x).startsWith("tensor(-") ? x.neg() : x), ["x"], at({ x: 3 })),
      v("x"),
    );
  });

  it("prints inside a traced function (values in full), and as PyTorch outside", () => {
    const printed: string[] = [];
    const log = vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => {
      printed.push(a.map((v) => (typeof v === "string" ? v : inspect(v))).join(" "));
    });
    try {
      const f = (x: Tensor) => {
        const y = x.div(3);
        console.log(y);
        console.log(`y = ${y}`);
        return y.mul(x);
      };
      same(trace(f, ["x"], at({ x: 2 })), parse("x/3*x"));
    } finally {
      log.mockRestore();
    }
    // The first trace, at the point: 2/3 in full (what parseFloat gives back exactly).
    expect(printed.slice(0, 2)).toEqual([`tensor(${2 / 3})`, "y = tensor(0.6666666666666666)"]);
    // Outside a trace: PyTorch's 4 decimals, integers as "3.".
    expect(String(tensor(2).div(3))).toBe("tensor(0.6667)");
    expect(inspect(tensor([1, 2]))).toBe("tensor([1., 2.])");
  });

  it("refuses a function that gives different results for the same input", () => {
    const random0 = Math.random;
    const random = failure(() => trace((x) => x.mul(Math.random()), ["x"], at({ x: 3 }))).message;
    expect(random).toMatch(
      /^trace: the function gives different results for the same input \(x\*0\.\d+, then x\*0\.\d+\), so its gradient cannot be checked: it calls Math\.random\(\); draw the random numbers once, outside the function$/,
    );
    // State kept between calls: not Math.random, so not named.
    let calls = 0;
    const counter = failure(() =>
      trace(
        (x) => {
          calls += 1;
          return x.mul(calls);
        },
        ["x"],
        at({ x: 3 }),
      ),
    ).message;
    expect(counter).toBe(
      "trace: the function gives different results for the same input (x*1, then x*2), so its gradient cannot be checked; make it deterministic (random numbers, a clock or state kept between calls change it)",
    );
    expect(Math.random).toBe(random0); // restored
    // A random branch that happens to agree is still deterministic in its trace: fine.
    same(
      trace((x) => (Math.random() < 2 ? x.sin() : x.cos()), ["x"], at({ x: 3 })),
      parse("sin(x)"),
    );
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

describe("arguments bind to the point's names by position", () => {
  it("reads plain parameter lists, and nothing else", () => {
    expect(parameterNames((y: Tensor, x: Tensor) => y.mul(x))).toEqual(["y", "x"]);
    expect(parameterNames((x: Tensor) => x)).toEqual(["x"]);
    expect(
      parameterNames(function f(a: Tensor, b: Tensor) {
        return a.mul(b);
      }),
    ).toEqual(["a", "b"]);
    expect(parameterNames(() => tensor(1))).toEqual([]);
    expect(parameterNames((x: Tensor, y = x) => x.mul(y))).toBeUndefined();
    expect(parameterNames((...xs: Tensor[]) => xs[0]!)).toBeUndefined();
    expect(parameterNames(Math.sin as never)).toBeUndefined();
  });

  it("refuses parameters that are the point's names in another order (a silently swapped point)", () => {
    const values = toValues({ x: 1, y: 5 });
    expect(() => trace((y, x) => y.sub(x).mul(y), ["x", "y"], values)).toThrow(
      "trace: the function's parameters (y, x) are the point's names in another order (x, y); arguments bind by position, the i-th parameter to the i-th name of at: give at in the parameters' order, { y, x }",
    );
    // In the parameters' order, or under other names, it binds by position as documented:
    // (a, b) at { x: 1, y: 5 } is a = 1, b = 5, and the trace names them x and y.
    expect(print(trace((y, x) => y.sub(x).mul(y), ["y", "x"], toValues({ y: 5, x: 1 })))).toBe(
      "(y - x)*y",
    );
    expect(print(trace((a, b) => a.sub(b).mul(a), ["x", "y"], values))).toBe("(x - y)*x");
  });
});
