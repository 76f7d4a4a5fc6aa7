import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GradtrioError } from "../src/errors.ts";
import { exprEquals } from "../src/expr/ast.ts";
import { parse } from "../src/expr/parse.ts";
import { print } from "../src/expr/print.ts";
import { registerUnchecked } from "../test/register-op.ts";
import { builtinSignatures, exprArbitrary, tokenSoup } from "./arbitraries.ts";
import { runs } from "./runs.ts";

/** Parses, or returns the GradtrioError; anything else thrown fails the property. */
function attempt(text: string) {
  try {
    return parse(text);
  } catch (e) {
    if (!(e instanceof GradtrioError)) throw e;
    // Plain checks: expect() per run would dominate the time of thousands of runs.
    const located = e.source === text && e.pos !== undefined && e.pos >= 0 && e.pos <= text.length;
    if (!located || e.message.includes("\n")) throw new Error(`badly located error: ${e.format()}`);
    return e;
  }
}

// Any code point, surrogates included (fc's "binary" unit is slow to generate).
const anyCodePoint = fc.integer({ min: 0, max: 0x10ffff }).map((c) => String.fromCodePoint(c));

describe("parser properties", () => {
  it("throws only GradtrioError on random strings", () => {
    fc.assert(
      fc.property(fc.string(), (s) => void attempt(s)),
      { numRuns: runs(1000) },
    );
    fc.assert(
      fc.property(fc.string({ unit: anyCodePoint }), (s) => void attempt(s)),
      { numRuns: runs(1000) },
    );
  });

  it("throws only GradtrioError on token soup, and what parses prints back to itself", () => {
    let parsed = 0;
    fc.assert(
      fc.property(tokenSoup(), (s) => {
        const e = attempt(s);
        if (e instanceof GradtrioError) return;
        parsed++;
        expect(exprEquals(parse(print(e)), e)).toBe(true);
      }),
      { numRuns: runs(3000) },
    );
    expect(parsed).toBeGreaterThan(30);
  });

  it("round-trips random canonical ASTs over every built-in op", () => {
    const names = ["x", "y", "w_1", "constructor", "__proto__", "E", "PI"];
    fc.assert(
      fc.property(exprArbitrary({ variables: names }), (e) => {
        expect(exprEquals(parse(print(e)), e)).toBe(true);
      }),
      { numRuns: runs(1000) },
    );
  });

  it("round-trips random operator trees (where the parentheses are decided)", () => {
    const operators = ["add", "sub", "mul", "div", "pow", "neg"];
    const ops = builtinSignatures.filter((op) => operators.includes(op.name));
    fc.assert(
      fc.property(exprArbitrary({ ops, maxDepth: 6 }), (e) => {
        expect(exprEquals(parse(print(e)), e)).toBe(true);
      }),
      { numRuns: runs(1000) },
    );
  });

  it("round-trips random ASTs that call custom ops", () => {
    registerUnchecked({
      name: "prop_op2",
      arity: 2,
      forward: (a, b) => a * b,
      backward: ({ args, grad }) => [grad * args[1]!, grad * args[0]!],
    });
    const ops = [...builtinSignatures, { name: "prop_op2", arity: 2 }];
    fc.assert(
      fc.property(exprArbitrary({ ops, maxDepth: 7 }), (e) => {
        expect(exprEquals(parse(print(e)), e)).toBe(true);
      }),
      { numRuns: runs(500) },
    );
  });
});
