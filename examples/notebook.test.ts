// pyFloat against the text CPython prints for repr(float) (the seeds and Python's documented rules).
import { describe, expect, it } from "vitest";
import { pyFloat, pyStr } from "./notebook.ts";

describe("pyFloat", () => {
  it("prints the seeds' floats", () => {
    expect(pyFloat(-5.466781571308061)).toBe("-5.466781571308061");
    expect(pyFloat(-7.661275842587077)).toBe("-7.661275842587077");
    expect(pyFloat(Math.fround(6.691762447357178))).toBe("6.691762447357178");
    expect(pyFloat(Math.fround(0.998770534992218))).toBe("0.998770534992218");
  });

  it("keeps a .0 on integral floats", () => {
    expect(pyFloat(6)).toBe("6.0");
    expect(pyFloat(-0)).toBe("-0.0");
    expect(pyFloat(0)).toBe("0.0");
    expect(pyFloat(1e15)).toBe("1000000000000000.0");
    expect(pyFloat(123.5)).toBe("123.5");
  });

  it("switches to scientific notation below 1e-4 and from 1e16", () => {
    expect(pyFloat(0.0001)).toBe("0.0001");
    expect(pyFloat(0.00012)).toBe("0.00012");
    expect(pyFloat(1e-5)).toBe("1e-05");
    expect(pyFloat(-1.5e-7)).toBe("-1.5e-07");
    expect(pyFloat(1e16)).toBe("1e+16");
    expect(pyFloat(1.5e16)).toBe("1.5e+16");
    expect(pyFloat(1e100)).toBe("1e+100");
    expect(pyFloat(5e-324)).toBe("5e-324");
  });

  it("prints nan and infinities as Python does", () => {
    expect(pyFloat(Number.NaN)).toBe("nan");
    expect(pyFloat(Infinity)).toBe("inf");
    expect(pyFloat(-Infinity)).toBe("-inf");
  });
});

describe("pyStr", () => {
  it("prints None, True and False", () => {
    expect(pyStr(null)).toBe("None");
    expect(pyStr(true)).toBe("True");
    expect(pyStr(false)).toBe("False");
    expect(pyStr(6)).toBe("6");
  });
});
