import { describe, expect, it } from "vitest";
import type { CustomOpDefinition } from "../expr/ops.ts";
import { sanityCheck } from "./sanity.ts";

const op = (over: Partial<CustomOpDefinition>): CustomOpDefinition => ({
  name: "sq",
  arity: 1,
  forward: (x) => x * x,
  backward: ({ args: [x], grad }) => [2 * x! * grad],
  formula: (x) => `(${x})^2`,
  ...over,
});

describe("sanityCheck", () => {
  it("passes a sound op and compares its formula with its forward", () => {
    expect(sanityCheck(op({}))).toEqual({
      op: "sq",
      samples: 64,
      formulaChecked: true,
      note: null,
    });
  });

  it("samples only inside the declared domain", () => {
    const log = op({
      forward: Math.log,
      backward: ({ args: [x], grad }) => [grad / x!],
      formula: (x) => `log(${x})`,
      domain: [[0, Infinity]],
    });
    expect(sanityCheck(log).formulaChecked).toBe(true);
    // Without the domain, log is NaN on half the line: bad input, with a hint.
    expect(() => sanityCheck({ ...log, domain: undefined })).toThrow(
      /op 'sq': forward\(-?[\d.]+\) gave NaN, not a finite number, inside its domain \(it declares none/,
    );
  });

  it("reports a forward that throws", () => {
    expect(() =>
      sanityCheck(
        op({
          forward: () => {
            throw new Error("boom\nstack line");
          },
        }),
      ),
    ).toThrow(/^op 'sq': forward\(.*\) threw: boom$/);
  });

  it("reports a backward with the wrong number of values, or a non-finite one", () => {
    const bin = op({ arity: 2, forward: (a, b) => a * b, formula: undefined });
    expect(() => sanityCheck({ ...bin, backward: ({ grad }) => [grad] })).toThrow(
      "returned 1 value(s); it must return an array of 2 number(s), one per argument",
    );
    expect(() => sanityCheck(op({ backward: () => [Number.NaN] }))).toThrow(
      "returned NaN for argument 1, not a finite number",
    );
    // A string is named as one: "returned 2" read as the number 2.
    expect(() => sanityCheck(op({ backward: () => ["2" as unknown as number] }))).toThrow(
      'returned the string "2" for argument 1, not a finite number',
    );
    expect(() => sanityCheck(op({ forward: () => "4" as unknown as number }))).toThrow(
      /forward\(.*\) gave the string "4", not a finite number/,
    );
  });

  it("reports a formula that is another function than the forward", () => {
    expect(() => sanityCheck(op({ formula: (x) => `(${x})^3` }))).toThrow(
      /formula gives .* but forward gives .*: they define different functions/,
    );
  });

  it("fails on a formula gradtrio cannot read, shown at the user's argument names", () => {
    // It had been a note, the op fuzzed on two legs: a defect of the definition passed silently.
    expect(() => sanityCheck(op({ formula: (x) => `fact(${x})` }))).toThrow(
      `its formula "fact(x)" is malformed: unknown function 'fact'`,
    );
    expect(() => sanityCheck(op({ formula: (u) => `(${u}^^2` }))).toThrow(
      `its formula "(u^^2" is malformed: unbalanced parenthesis: this '(' is never closed`,
    );
    expect(() => sanityCheck(op({ formula: (x) => `y*${x}` }))).toThrow(
      `its formula "y*x" names 'y', which is not one of its arguments (x)`,
    );
  });
});
