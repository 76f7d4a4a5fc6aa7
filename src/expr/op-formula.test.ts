import { describe, expect, it } from "vitest";
import { formulaArgumentNames, formulaDefect } from "./op-formula.ts";
import type { CustomOpDefinition } from "./ops.ts";

const op = (arity: number, formula: (...a: string[]) => string): CustomOpDefinition => ({
  name: "opFormulaTest",
  arity,
  forward: () => 0,
  backward: () => [],
  formula,
});

describe("formulaArgumentNames", () => {
  it("reads the user's parameter names, else a, b, c…", () => {
    expect(formulaArgumentNames((u, v) => `${u}*${v}`, 2)).toEqual(["u", "v"]);
    expect(formulaArgumentNames((t) => t, 1)).toEqual(["t"]);
    expect(formulaArgumentNames((p, q) => `${p}+${q}`, 2)).toEqual(["p", "q"]);
    const o = {
      formula(w: string) {
        return w;
      },
    };
    expect(formulaArgumentNames(o.formula, 1)).toEqual(["w"]);
    expect(formulaArgumentNames((...xs) => xs.join("+"), 3)).toEqual(["a", "b", "c"]);
    expect(formulaArgumentNames((u = "1") => u, 1)).toEqual(["a"]);
  });
});

describe("formulaDefect", () => {
  it("names what is malformed, with the user's argument names, never gradtrio's placeholders", () => {
    expect(
      formulaDefect(
        op(1, (a) => `(${a}^^2`),
        true,
      ),
    ).toBe(`its formula "(a^^2" is malformed: unbalanced parenthesis: this '(' is never closed`);
    expect(
      formulaDefect(
        op(2, (p, q) => `sin(${p}, ${q})`),
        true,
      ),
    ).toBe(`its formula "sin(p, q)" is malformed: sin takes 1 argument, got 2`);
    expect(
      formulaDefect(
        op(1, (a) => `x*${a}`),
        true,
      ),
    ).toBe(`its formula "x*a" names 'x', which is not one of its arguments (a)`);
    expect(
      formulaDefect(
        op(1, () => {
          throw new Error("no");
        }),
        true,
      ),
    ).toBe("its formula threw: no");
  });

  it("lets a call of an op not defined yet pass while the module loads, not after", () => {
    const later = op(1, (a) => `notDefinedYet(${a})`);
    expect(formulaDefect(later, true)).toBeNull();
    expect(formulaDefect(later, false)).toBe(
      `its formula "notDefinedYet(a)" is malformed: unknown function 'notDefinedYet'`,
    );
  });

  it("passes a sound formula, and an op without one", () => {
    expect(
      formulaDefect(
        op(2, (a, b) => `log(1+exp(${a}))*${b}`),
        false,
      ),
    ).toBeNull();
    expect(formulaDefect({ ...op(1, (a) => a), formula: undefined }, false)).toBeNull();
  });
});
