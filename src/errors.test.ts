import { describe, expect, it } from "vitest";
import { failure } from "../test/failure.ts";
import { backward, grad, tensor } from "./autograd/index.ts";
import { checkOptionNames, firstLine, GradtrioError, isIntegerIn, userThrew } from "./errors.ts";

describe("GradtrioError", () => {
  it("puts a caret under the position", () => {
    const e = new GradtrioError("PARSE", "unexpected ')'", { pos: 6, source: "sin(x))" });
    expect(e.format()).toBe("unexpected ')'\n  sin(x))\n        ^");
    expect(e.code).toBe("PARSE");
  });
  it("keeps the line's tabs under it, so the caret lines up after a tab", () => {
    const e = new GradtrioError("PARSE", "unexpected ')'", { pos: 8, source: "\tsin(x)\t)" });
    expect(e.format()).toBe("unexpected ')'\n  \tsin(x)\t)\n  \t      \t^");
  });
  it("prints the bare message without a position", () => {
    expect(new GradtrioError("SHAPE", "bad shapes").format()).toBe("bad shapes");
  });
});

describe("checkOptionNames", () => {
  it("names the camelCase spelling of PyTorch's snake_case options", () => {
    const message = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return (e as Error).message;
      }
      return "no error";
    };
    expect(message(() => tensor(3, { requires_grad: true } as never))).toBe(
      "tensor: unknown option 'requires_grad'; write requiresGrad (gradtrio spells PyTorch's options in camelCase)",
    );
    const x = tensor(3, { requiresGrad: true });
    expect(message(() => backward(x.pow(2), undefined, { retain_graph: true } as never))).toBe(
      "backward: unknown option 'retain_graph'; write retainGraph (gradtrio spells PyTorch's options in camelCase)",
    );
    expect(message(() => x.pow(2).backward(undefined, { create_graph: true } as never))).toMatch(
      /^backward: unknown option 'create_graph'; write createGraph /,
    );
    expect(message(() => grad(x.pow(2), [x], { allow_unused: true } as never))).toMatch(
      /^grad: unknown option 'allow_unused'; write allowUnused /,
    );
    expect(message(() => tensor(3, { requiresgrad: true } as never))).toMatch(
      /unknown option 'requiresgrad'; write requiresGrad/,
    );
    expect(message(() => tensor(3, { colour: "red" } as never))).toBe(
      "tensor: unknown option 'colour' (known: requiresGrad, shape, dtype)",
    );
    expect(tensor(3, { requiresGrad: true }).requiresGrad).toBe(true);
  });

  it("names the key likely meant, and takes another word and code (a definition's fields)", () => {
    expect(() => checkOptionNames({ at: 1, wtr: 2 }, ["at", "wrt"], "check")).toThrow(
      "check: unknown option 'wtr' (did you mean 'wrt'?; known: at, wrt)",
    );
    const e = failure(() =>
      checkOptionNames({ domian: [] }, ["name", "domain"], "", {
        what: "field",
        code: "DEFINE_OP",
      }),
    );
    expect(e.code).toBe("DEFINE_OP");
    expect(e.message).toBe("unknown field 'domian' (did you mean 'domain'?; known: name, domain)");
  });
});

describe("isIntegerIn", () => {
  it("takes the integers from min to max, both ends included", () => {
    expect([0, 1, 4, 8, 9].map((v) => isIntegerIn(v, 1, 8))).toEqual([
      false,
      true,
      true,
      true,
      false,
    ]);
    expect(isIntegerIn(-3, -3, -1)).toBe(true);
  });
  it("refuses fractions, NaN, infinities and what is not a number", () => {
    for (const v of [2.5, Number.NaN, Number.POSITIVE_INFINITY, "3", null, undefined, 3n])
      expect(isIntegerIn(v, 0, 10)).toBe(false);
  });
  it("stops at 2^53 − 1 when that is the max: 2^53 is not held exactly", () => {
    expect(isIntegerIn(2 ** 53 - 1, 0, Number.MAX_SAFE_INTEGER)).toBe(true);
    expect(isIntegerIn(2 ** 53, 0, Number.MAX_SAFE_INTEGER)).toBe(false);
  });
});

describe("what user code throws, as one line", () => {
  it.each([
    [new Error("bad\nsecond line"), "bad"],
    [new TypeError("no"), "TypeError: no"],
    ["a string", "a string"],
    [42, "42"],
    [undefined, "undefined"],
    [{ code: 42 }, 'a non-Error value: {"code":42}'],
    [{ long: "y".repeat(300) }, `a non-Error value: {"long":"${"y".repeat(200 - 9)}…`],
    [Object.create(null), "a non-Error value: [object Object]"],
    [
      {
        toString() {
          return "custom";
        },
      },
      "a non-Error value: custom",
    ],
  ])("%s → %s", (thrown, line) => {
    expect(firstLine(thrown)).toBe(line);
    expect(userThrew("f's backward", thrown)).toBe(
      thrown instanceof Error ? thrown.message.replace("\n", " ") : line,
    );
  });
});
