import { describe, expect, it } from "vitest";
import { fsym } from "./formula.ts";
import { readCas } from "./read-cas.ts";

const resolve = (name: string) => (name === "x" ? fsym("x") : undefined);

describe("readCas", () => {
  it("names the character it cannot read, wherever it stands", () => {
    expect(() => readCas("x+$", resolve)).toThrow('unexpected character "$" in "x+$"');
    expect(() => readCas("  x + @ ", resolve)).toThrow('unexpected character "@" in "  x + @ "');
    expect(() => readCas("#", resolve)).toThrow('unexpected character "#" in "#"');
  });

  it("says which name it cannot resolve", () => {
    expect(() => readCas("y+1", resolve)).toThrow(
      "the CAS answer names 'y', which is not an input",
    );
  });
});
