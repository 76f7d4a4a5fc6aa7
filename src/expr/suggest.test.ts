import { describe, expect, it } from "vitest";
import { didYouMean, editDistance } from "./suggest.ts";

describe("editDistance", () => {
  it("counts insertions, deletions, substitutions and transpositions", () => {
    expect(editDistance("", "abc")).toBe(3);
    expect(editDistance("sigmod", "sigmoid")).toBe(1);
    expect(editDistance("sni", "sin")).toBe(1);
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(editDistance("same", "same")).toBe(0);
  });
});

describe("didYouMean", () => {
  const names = ["sin", "sinh", "sigmoid", "softplus", "sqrt"];
  it("suggests the closest plausible name", () => {
    expect(didYouMean("sigmod", names)).toBe("sigmoid");
    expect(didYouMean("SIN", names)).toBe("sin");
    expect(didYouMean("softplu", names)).toBe("softplus");
  });
  it("stays quiet when nothing is close", () => {
    expect(didYouMean("foo", names)).toBeUndefined();
    expect(didYouMean("constructor", names)).toBeUndefined();
    expect(didYouMean("x", names)).toBeUndefined();
  });
});
