import { describe, expect, it } from "vitest";
import { call, exprEquals, flatExpr, num, postOrder, variable, variablesOf } from "./ast.ts";

describe("Expr helpers", () => {
  it("compares structure and ignores positions", () => {
    const a = call("add", [variable("x", 0), num(1, 2)], 1);
    const b = call("add", [variable("x"), num(1)]);
    expect(exprEquals(a, b)).toBe(true);
    expect(exprEquals(a, call("add", [variable("y"), num(1)]))).toBe(false);
    expect(exprEquals(num(0), num(-0))).toBe(false);
  });

  it("lists variables in order of first appearance", () => {
    const e = call("mul", [call("add", [variable("w"), variable("b")]), variable("w")]);
    expect(variablesOf(e)).toEqual(["w", "b"]);
  });

  it("orders a million-deep chain without overflowing the stack", () => {
    let e = variable("x") as ReturnType<typeof call> | ReturnType<typeof variable>;
    for (let i = 0; i < 1_000_000; i++) e = call("sin", [e]);
    const order = postOrder(e);
    expect(order.length).toBe(1_000_001);
    expect(order[0]).toEqual(variable("x"));
    expect(order.at(-1)).toBe(e);
  });

  it("visits a shared node once", () => {
    const x2 = call("pow", [variable("x"), num(2)]);
    const e = call("mul", [x2, x2]);
    expect(postOrder(e).length).toBe(4); // x, 2, x^2, x^2*x^2
  });

  it("flattens a DAG once, each call's arguments by position, the same object every time", () => {
    const x = variable("x");
    const two = num(2);
    const x2 = call("pow", [x, two]);
    const s = call("sin", [x2]);
    const e = call("mul", [x2, s]);
    const flat = flatExpr(e);
    expect(flat.nodes).toHaveLength(5);
    for (const [i, n] of [x, two, x2, s, e].entries()) expect(flat.nodes[i]).toBe(n);
    const argsOf = (i: number) =>
      Array.from(flat.args.subarray(flat.argStart[i], flat.argStart[i + 1]), (k) => flat.nodes[k]);
    expect(argsOf(0)).toEqual([]);
    expect(argsOf(1)).toEqual([]);
    expect(argsOf(2)[0]).toBe(x);
    expect(argsOf(2)[1]).toBe(two);
    expect(argsOf(3)).toHaveLength(1);
    expect(argsOf(3)[0]).toBe(x2);
    expect(argsOf(4)[0]).toBe(x2);
    expect(argsOf(4)[1]).toBe(s);
    expect(flatExpr(e)).toBe(flat);
    expect(postOrder(e)).toBe(flat.nodes);
  });
});
