import { describe, expect, it } from "vitest";
import { registerUnchecked } from "../../test/register-op.ts";
import { GradtrioError } from "../errors.ts";
import { type CallExpr, call, constant, type Expr, exprEquals, num, variable as v } from "./ast.ts";
import { MAX_DEPTH, parse, parseProgram } from "./parse.ts";
import { print } from "./print.ts";

const c = call;
const same = (text: string, expected: Expr) => {
  const got = parse(text);
  if (!exprEquals(got, expected)) expect(got).toEqual(expected);
};

function failure(text: string): GradtrioError {
  try {
    parse(text);
  } catch (e) {
    if (e instanceof GradtrioError) return e;
    throw e;
  }
  throw new Error(`parse(${JSON.stringify(text)}) did not fail`);
}

describe("parse: precedence and associativity", () => {
  it("reads numbers, names and constants", () => {
    same("3", num(3));
    same(".5", num(0.5));
    same("2E+3", num(2000));
    same("x_1", v("x_1"));
    same("pi", constant("pi"));
    same("e", constant("e"));
    same("e1", v("e1"));
  });

  it("binds ^ tighter than unary minus and right to left", () => {
    same("-x^2", c("neg", [c("pow", [v("x"), num(2)])]));
    same("2^-x", c("pow", [num(2), c("neg", [v("x")])]));
    same("x^y^z", c("pow", [v("x"), c("pow", [v("y"), v("z")])]));
    same("2^-x^2", c("pow", [num(2), c("neg", [c("pow", [v("x"), num(2)])])]));
    same("(-x)^2", c("pow", [c("neg", [v("x")]), num(2)]));
  });

  it("reads unary signs anywhere an operand starts", () => {
    same("a*-b", c("mul", [v("a"), c("neg", [v("b")])]));
    same("--x", c("neg", [c("neg", [v("x")])]));
    same("+x", v("x"));
    same("+-+x", c("neg", [v("x")]));
    same("a - -b", c("sub", [v("a"), c("neg", [v("b")])]));
    same("-a*b", c("mul", [c("neg", [v("a")]), v("b")]));
  });

  it("groups + - and * / to the left, * before +", () => {
    same("a-b-c", c("sub", [c("sub", [v("a"), v("b")]), v("c")]));
    same("a/b/c", c("div", [c("div", [v("a"), v("b")]), v("c")]));
    same("a+b*c", c("add", [v("a"), c("mul", [v("b"), v("c")])]));
    same("(a+b)*c", c("mul", [c("add", [v("a"), v("b")]), v("c")]));
    same("a*b^c", c("mul", [v("a"), c("pow", [v("b"), v("c")])]));
  });

  it("reads calls of built-ins, operators by name, and the seed BCE", () => {
    same("pow(a, b)", c("pow", [v("a"), v("b")]));
    same("add(a,b)", c("add", [v("a"), v("b")]));
    same("neg(x)", c("neg", [v("x")]));
    same(
      "bce(clamp(sigmoid(w*x+b), 1e-8, 1-1e-8), y)",
      c("bce", [
        c("clamp", [
          c("sigmoid", [c("add", [c("mul", [v("w"), v("x")]), v("b")])]),
          num(1e-8),
          c("sub", [num(1), num(1e-8)]),
        ]),
        v("y"),
      ]),
    );
    same("matmul(A, x)", c("matmul", [v("A"), v("x")]));
  });

  it("keeps the tree as written (no constant folding)", () => {
    same("1+2", c("add", [num(1), num(2)]));
  });

  it("records the position of every node", () => {
    const e = parse(" sin(x) + 2*-y");
    expect(e).toMatchObject({
      op: "add",
      pos: 8,
      args: [
        { op: "sin", pos: 1, args: [{ name: "x", pos: 5 }] },
        {
          op: "mul",
          pos: 11,
          args: [
            { value: 2, pos: 10 },
            { op: "neg", pos: 12, args: [{ pos: 13 }] },
          ],
        },
      ],
    });
  });
});

describe("parse: custom ops", () => {
  registerUnchecked({
    name: "swishy",
    arity: 1,
    forward: (x) => x / (1 + Math.exp(-x)),
    backward: ({ grad }) => [grad],
  });

  it("calls a registered op by name and checks its arity", () => {
    same("swishy(x)+1", c("add", [c("swishy", [v("x")]), num(1)]));
    expect(failure("swishy(x, y)").message).toBe("swishy takes 1 argument, got 2");
    expect(failure("swishi(x)").message).toBe("unknown function 'swishi'; did you mean 'swishy'?");
  });
});

describe("parse: errors", () => {
  const cases: [string, string, number, string][] = [
    ["", "PARSE", 0, "empty expression"],
    ["   ", "PARSE", 0, "empty expression"],
    ["1 +", "PARSE", 3, "unexpected end of expression; expected a number, a name or '('"],
    ["2 x", "PARSE", 2, "unexpected 'x'; expected an operator or the end (missing '*'?)"],
    ["x * / y", "PARSE", 4, "unexpected '/'; expected a number, a name or '('"],
    ["()", "PARSE", 1, "empty parentheses; expected an expression"],
    ["sin(x,)", "PARSE", 6, "unexpected ')'; expected a number, a name or '('"],
    [
      "sin(x y)",
      "PARSE",
      6,
      "unexpected 'y'; expected ',' or ')' to close the '(' at offset 3 (missing '*'?)",
    ],
    ["(x", "UNBALANCED", 0, "unbalanced parenthesis: this '(' is never closed"],
    ["sin((x)", "UNBALANCED", 3, "unbalanced parenthesis: this '(' is never closed"],
    ["x)+(y", "UNBALANCED", 1, "unbalanced parenthesis: this ')' has no '('"],
    ["sigmod(x)", "UNKNOWN_FUNCTION", 0, "unknown function 'sigmod'; did you mean 'sigmoid'?"],
    ["foo(x)", "UNKNOWN_FUNCTION", 0, "unknown function 'foo'"],
    ["1 + x(2)", "UNKNOWN_FUNCTION", 4, "unknown function 'x'"],
    ["pi(2)", "UNKNOWN_FUNCTION", 0, "'pi' is a constant, not a function"],
    ["e(2)", "UNKNOWN_FUNCTION", 0, "'e' is a constant, not a function"],
    ["clamp(x, 1)", "ARITY", 0, "clamp takes 3 arguments, got 2"],
    ["sin()", "ARITY", 0, "sin takes 1 argument, got 0"],
    [
      "max(x, 0)",
      "ARITY",
      0,
      "max takes 1 argument, got 2; the elementwise maximum of two is maximum(a, b)",
    ],
    [
      "1 + min(x, y)",
      "ARITY",
      4,
      "min takes 1 argument, got 2; the elementwise minimum of two is minimum(a, b)",
    ],
    ["max(x, y, z)", "ARITY", 0, "max takes 1 argument, got 3"],
    ["x + sin", "PARSE", 4, "'sin' is a function; call it as sin(…)"],
    ["x ** 2", "PARSE", 2, "unexpected '**'; write powers with '^'"],
    ["x @ y", "PARSE", 2, "unexpected character '@'"],
  ];
  it.each(cases)("%j → %s at %i", (text, code, pos, message) => {
    const err = failure(text);
    expect([err.code, err.pos, err.message, err.source]).toEqual([code, pos, message, text]);
  });

  it("shows a caret under the position", () => {
    expect(failure("sin(x) + sigmod(y)").format()).toBe(
      "unknown function 'sigmod'; did you mean 'sigmoid'?\n  sin(x) + sigmod(y)\n           ^",
    );
  });

  it("treats names JavaScript objects carry like any other name", () => {
    for (const name of ["constructor", "toString", "__proto__", "hasOwnProperty", "valueOf"]) {
      same(`${name} + 1`, c("add", [v(name), num(1)]));
      const err = failure(`${name}(x)`);
      expect([err.code, err.message]).toEqual(["UNKNOWN_FUNCTION", `unknown function '${name}'`]);
    }
  });

  it("rejects a non-string with a GradtrioError", () => {
    expect(() => parse(42 as unknown as string)).toThrow(GradtrioError);
  });
});

describe("parse: deep input never overflows the stack", () => {
  const n = 100_000;

  it("stops 10^5 nested parentheses with TOO_DEEP", () => {
    const err = failure(`${"(".repeat(n)}x${")".repeat(n)}`);
    expect([err.code, err.pos]).toEqual(["TOO_DEEP", MAX_DEPTH]);
    expect(err.message).toBe("expression nested too deeply (more than 1000 levels of parentheses)");
    expect(failure(`${"sin(".repeat(n)}x${")".repeat(n)}`).code).toBe("TOO_DEEP");
  });

  it("reports 10^5 unclosed parentheses as unbalanced", () => {
    expect(failure("(".repeat(n)).code).toBe("UNBALANCED");
  });

  it("accepts the maximum depth", () => {
    let expected: Expr = v("x");
    for (let k = 0; k < MAX_DEPTH; k++) expected = c("sin", [expected]);
    same(`${"sin(".repeat(MAX_DEPTH)}x${")".repeat(MAX_DEPTH)}`, expected);
    same(`${"(".repeat(MAX_DEPTH)}x${")".repeat(MAX_DEPTH)}`, v("x"));
  });

  it("parses 10^5 unary minus signs", () => {
    let expected: Expr = v("x");
    for (let k = 0; k < n; k++) expected = c("neg", [expected]);
    same(`${"-".repeat(n)}x`, expected);
  });

  it("parses a 10^5-long ^ chain to the right", () => {
    let expected: Expr = v("x");
    for (let k = 0; k < n; k++) expected = c("pow", [v("x"), expected]);
    same(`x${"^x".repeat(n)}`, expected);
    let signed: Expr = v("x");
    for (let k = 0; k < n; k++) signed = c("pow", [v("x"), c("neg", [signed])]);
    same(`x${"^-x".repeat(n)}`, signed);
  });

  it("parses a 10^5-long sum to the left", () => {
    let expected: Expr = v("x");
    for (let k = 0; k < n; k++) expected = c("add", [expected, v("x")]);
    same(`x${"+x".repeat(n)}`, expected);
  });
});

describe("parse: named intermediates", () => {
  it("makes each use of a bound name the node of its binding (a DAG)", () => {
    const { output, bindings } = parseProgram("z = w*x+b; p = sigmoid(z); bce(p, y)");
    expect(bindings.map((b) => b.name)).toEqual(["z", "p"]);
    const [z, p] = bindings;
    same(print(z!.expr), c("add", [c("mul", [v("w"), v("x")]), v("b")]));
    expect(exprEquals(p!.expr, c("sigmoid", [z!.expr]))).toBe(true);
    expect((p!.expr as CallExpr).args[0]).toBe(z!.expr);
    expect((output as CallExpr).args[0]).toBe(p!.expr);
    // parse gives the same output: the bindings inlined, by identity
    const e = parse("z = w*x+b; sigmoid(z)*z") as CallExpr;
    expect(e.args[1]).toBe((e.args[0] as CallExpr).args[0]);
    same("z = w*x+b; sigmoid(z)*z", c("mul", [c("sigmoid", [z!.expr]), z!.expr]));
  });

  it("accepts an unused binding, an alias, a bound number and spaces or newlines", () => {
    const { output, bindings } = parseProgram("u = q*2 ;\n a = x; c = 2; a*c");
    expect(bindings.map((b) => b.name)).toEqual(["u", "a", "c"]);
    same(print(output), c("mul", [v("x"), num(2)]));
    same("a = x; b = a; b", v("x"));
  });

  const cases: [string, number, string][] = [
    ["z = x; z = 2*z; z", 7, "'z' is bound twice (first at offset 0); a name is bound once"],
    [
      "p = sigmoid(z); z = w*x; p",
      12,
      "'z' is used before its binding 'z = …' at offset 16; bind a name before using it",
    ],
    ["x = x + 1; x", 4, "'x' is used in its own binding; bind a new name (e.g. x2 = …)"],
    ["z = w*x", 0, "'z = …' is a binding; the output expression must come last (add '; EXPR')"],
    ["z = w*x;", 8, "expected the output expression after the last ';'"],
    [
      "x^2; y",
      3,
      "';' ends a binding NAME = EXPR; the output expression comes last, with no ';' after it",
    ],
    ["pi = 3; pi*x", 0, "'pi' is a constant; bind another name"],
    ["exp = x; exp", 0, "'exp' is a function; bind another name"],
    [
      "w*x = 3",
      4,
      "unexpected '='; expected an operator or the end (a named intermediate is written 'NAME = EXPR;' before the output)",
    ],
    ["z = w*x y; z", 8, "unexpected 'y'; expected an operator or ';' (missing '*'?)"],
  ];
  it.each(cases)("%j → error at %i", (text, pos, message) => {
    const err = failure(text);
    expect([err.code, err.pos, err.message]).toEqual(["PARSE", pos, message]);
  });

  it("puts the caret under the offending use", () => {
    expect(failure("p = sigmoid(z); z = w*x; p").format()).toBe(
      "'z' is used before its binding 'z = …' at offset 16; bind a name before using it\n  p = sigmoid(z); z = w*x; p\n              ^",
    );
  });
});
