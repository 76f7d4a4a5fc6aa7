import { describe, expect, it } from "vitest";
import { GradtrioError } from "../errors.ts";
import { tokenize } from "./tokenize.ts";

const kinds = (s: string) => tokenize(s).map((t) => t.kind);

describe("tokenize", () => {
  it("reads every number form the printer emits", () => {
    const cases: [string, number][] = [
      ["3", 3],
      ["0.5", 0.5],
      [".5", 0.5],
      ["1.", 1],
      ["1e-8", 1e-8],
      ["2E+3", 2000],
      ["1e+21", 1e21],
      ["5e-324", 5e-324],
      ["1.7976931348623157e+308", Number.MAX_VALUE],
    ];
    for (const [text, value] of cases) {
      const [t, end] = tokenize(text);
      expect(t).toEqual({ kind: "num", text, pos: 0, value });
      expect(end).toEqual({ kind: "end", text: "", pos: text.length });
    }
  });

  it("does not take a bare e after a number as an exponent", () => {
    expect(tokenize("2e").map((t) => t.text)).toEqual(["2", "e", ""]);
    expect(tokenize("2exp").map((t) => t.text)).toEqual(["2", "exp", ""]);
  });

  it("splits names, operators and punctuation with positions", () => {
    expect(tokenize(" f_1(x, y)^2").map((t) => [t.kind, t.text, t.pos])).toEqual([
      ["name", "f_1", 1],
      ["lparen", "(", 4],
      ["name", "x", 5],
      ["comma", ",", 6],
      ["name", "y", 8],
      ["rparen", ")", 9],
      ["op", "^", 10],
      ["num", "2", 11],
      ["end", "", 12],
    ]);
    expect(kinds("a+b-c*d/e")).toEqual([
      "name",
      "op",
      "name",
      "op",
      "name",
      "op",
      "name",
      "op",
      "name",
      "end",
    ]);
  });

  it("writes a method call's arguments back on one line: the message is one line", () => {
    let caught: unknown;
    try {
      tokenize("x.bce(x\n  x)");
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(GradtrioError);
    expect((caught as GradtrioError).message).toBe(
      "unexpected '.'; method syntax is not part of the language: write bce(x, x x)",
    );
  });

  it("rejects unknown characters with their position", () => {
    const err = (s: string) => {
      try {
        tokenize(s);
      } catch (e) {
        return e as GradtrioError;
      }
      throw new Error("no error");
    };
    const e1 = err("x $ y");
    expect(e1).toBeInstanceOf(GradtrioError);
    expect([e1.code, e1.pos, e1.message]).toEqual(["PARSE", 2, "unexpected character '$'"]);
    expect(err("x\u200by").message).toBe("unexpected character U+200B");
    expect(err("x ** 2").message).toMatch(/'\^'/);
    expect(err("1e999").message).toBe("number '1e999' is too large");
    // A literal float64 reads as 0 although written nonzero, as --at x=1e-400 is refused.
    const under = err("x^1e-400");
    expect([under.code, under.pos, under.message]).toEqual([
      "PARSE",
      2,
      "number '1e-400' underflows to 0 in float64 (the smallest nonzero is 5e-324)",
    ]);
    expect(err("2*0.0000001e-330").message).toMatch(/'0.0000001e-330' underflows/);
    // Zeros written as zeros, and subnormals, are numbers.
    expect(tokenize("0e-400 + 0.0 + 1e-310")[4]!.value).toBe(1e-310);
    expect(tokenize("0e-400")[0]!.value).toBe(0);
    expect(err("😀").message).toBe("unexpected character '😀'");
  });
});
