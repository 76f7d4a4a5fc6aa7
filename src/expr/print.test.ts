import { describe, expect, it } from "vitest";
import {
  type CallExpr,
  call as c,
  constant,
  type Expr,
  exprEquals,
  num,
  variable as v,
} from "./ast.ts";
import { parse, parseProgram } from "./parse.ts";
import { print, printProgram } from "./print.ts";

const [x, y, z] = [v("x"), v("y"), v("z")];

describe("print", () => {
  it("prints operators with the fewest parentheses", () => {
    const cases: [Expr, string][] = [
      [c("neg", [c("pow", [x, num(2)])]), "-x^2"],
      [c("pow", [c("neg", [x]), num(2)]), "(-x)^2"],
      [c("pow", [num(2), c("neg", [x])]), "2^-x"],
      [c("pow", [x, c("pow", [y, z])]), "x^y^z"],
      [c("pow", [c("pow", [x, y]), z]), "(x^y)^z"],
      [c("sub", [c("sub", [x, y]), z]), "x - y - z"],
      [c("sub", [x, c("sub", [y, z])]), "x - (y - z)"],
      [c("sub", [x, c("add", [y, z])]), "x - (y + z)"],
      [c("add", [x, c("sub", [y, z])]), "x + (y - z)"],
      [c("div", [x, c("mul", [y, z])]), "x/(y*z)"],
      [c("mul", [c("div", [x, y]), z]), "x/y*z"],
      [c("mul", [x, c("neg", [y])]), "x*-y"],
      [c("mul", [c("neg", [x]), y]), "-x*y"],
      [c("neg", [c("mul", [x, y])]), "-(x*y)"],
      [c("neg", [c("neg", [x])]), "--x"],
      [c("sub", [x, c("neg", [y])]), "x - -y"],
      [c("mul", [c("add", [x, y]), z]), "(x + y)*z"],
      [c("pow", [c("sin", [x]), num(2)]), "sin(x)^2"],
      [
        c("clamp", [c("add", [x, y]), num(1e-8), c("sub", [num(1), num(1e-8)])]),
        "clamp(x + y, 1e-8, 1 - 1e-8)",
      ],
      [c("mul", [num(2), constant("pi")]), "2*pi"],
    ];
    for (const [e, text] of cases) {
      expect(print(e)).toBe(text);
      expect(exprEquals(parse(text), e)).toBe(true);
    }
  });

  it("prints numbers in their shortest round-trip form", () => {
    const values = [0, 3, 0.5, 1e-8, 1e21, 5e-324, 123456789012, Number.MAX_VALUE, 0.1 + 0.2];
    const texts = [
      "0",
      "3",
      "0.5",
      "1e-8",
      "1e+21",
      "5e-324",
      "123456789012",
      "1.7976931348623157e+308",
      "0.30000000000000004",
    ];
    values.forEach((value, k) => {
      expect(print(num(value))).toBe(texts[k]);
      expect(exprEquals(parse(texts[k]!), num(value))).toBe(true);
    });
  });

  it("prints literals the parser cannot produce as equal-valued expressions", () => {
    expect(print(c("pow", [num(-3), num(2)]))).toBe("(-3)^2");
    expect(print(c("sub", [x, num(-0.5)]))).toBe("x - (-0.5)");
    expect(print(num(-0))).toBe("(-0)");
    expect(print(c("add", [num(Infinity), num(-Infinity)]))).toBe("(1/0) + (-1/0)");
    expect(print(num(Number.NaN))).toBe("(0/0)");
  });

  it("prints calls with a wrong argument count as calls", () => {
    expect(print(c("add", [x, y, z]))).toBe("add(x, y, z)");
    expect(print(c("neg", [x, y]))).toBe("neg(x, y)");
  });

  it("prints a 10^5-deep chain without overflowing the stack", () => {
    let e: Expr = x;
    for (let k = 0; k < 100_000; k++) e = c(k % 2 === 0 ? "sin" : "neg", [e]);
    const text = print(e);
    expect(text.length).toBe((100_000 / 2) * "sin(-".length + 1 + 100_000 / 2);
    expect(text.startsWith("-sin(-sin(")).toBe(true);
    let sum: Expr = x;
    for (let k = 0; k < 100_000; k++) sum = c("add", [sum, y]);
    expect(print(sum)).toBe(`x${" + y".repeat(100_000)}`);
  });
});

describe("printProgram", () => {
  it("prints bindings and names their uses, so the text parses back to the same DAG", () => {
    const cases: [string, string][] = [
      ["z=w*x+b;p=sigmoid(z);bce(p,y)", "z = w*x + b; p = sigmoid(z); bce(p, y)"],
      ["z = x^2; z", "z = x^2; z"],
      ["a = x; b = a; b*2", "a = x; b = a; b*2"],
      ["u = q; x", "u = q; x"],
      ["s = x + y; s*s - -s", "s = x + y; s*s - -s"],
    ];
    for (const [text, printed] of cases) {
      expect(printProgram(parseProgram(text))).toBe(printed);
      expect(exprEquals(parse(printed), parse(text))).toBe(true);
    }
    const again = parse(printProgram(parseProgram("s = x + y; s*s"))) as CallExpr;
    expect(again.args[0]).toBe(again.args[1]);
  });
});
