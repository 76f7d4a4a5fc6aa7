import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { runs } from "../../properties/runs.ts";
import { parseValue } from "./point-args.ts";

const dir = mkdtempSync(join(tmpdir(), "gradtrio-at-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("@FILE", () => {
  it("reads an ASCII file and a UTF-8 one alike (the message echoes the text read)", () => {
    writeFileSync(join(dir, "a.json"), "[1.5, -2e-3]");
    expect(parseValue("x", "@a.json", dir)).toEqual([1.5, -0.002]);
    writeFileSync(join(dir, "u.json"), '[1, "é✓"]');
    expect(() => parseValue("x", "@u.json", dir)).toThrow('--at x[1]: expected a number, got "é✓"');
  });

  it("reads a file that starts with a UTF-8 byte order mark", () => {
    writeFileSync(join(dir, "bom.json"), "\ufeff[1, 2.5]");
    expect(parseValue("x", "@bom.json", dir)).toEqual([1, 2.5]);
    writeFileSync(join(dir, "bom1.json"), "\ufeff3");
    expect(parseValue("x", "@bom1.json", dir)).toBe(3);
  });
});

describe("@FILE numbers that underflow to 0", () => {
  /** The oracle: every literal read alone, nonzero digits that Number() makes 0. */
  const underflows = (literal: string) =>
    Number(literal) === 0 && /[1-9]/.test(literal.split(/[eE]/)[0]!);

  it("are refused, naming the file and the literal (JSON.parse made them 0)", () => {
    writeFileSync(join(dir, "tiny.json"), "[1, 1e-400, 3]");
    expect(() => parseValue("x", "@tiny.json", dir)).toThrow(
      "--at x=@tiny.json: 1e-400 underflows to 0 in float64 (the smallest nonzero is 5e-324)",
    );
    // Below 2.5e-324 by its mantissa's zeros, its exponent far from -324.
    writeFileSync(join(dir, "mantissa.json"), "[[2], [0.0000001e-317]]");
    expect(() => parseValue("x", "@mantissa.json", dir)).toThrow(
      "--at x=@mantissa.json: 0.0000001e-317 underflows",
    );
    const zeros = `0.${"0".repeat(323)}2`; // 2e-324
    writeFileSync(join(dir, "zeros.json"), `[${zeros}]`);
    expect(() => parseValue("x", "@zeros.json", dir)).toThrow(`@zeros.json: ${zeros} underflows`);
  });

  it("keeps zeros and the numbers float64 holds, subnormals too", () => {
    writeFileSync(
      join(dir, "kept.json"),
      `[0, -0.0, 0e-400, 1e-200, 4.9e-324, -1E-0310, 0.${"0".repeat(200)}]`,
    );
    expect(parseValue("x", "@kept.json", dir)).toEqual([0, -0, 0, 1e-200, 5e-324, -1e-310, 0]);
  });

  it("is refused exactly where a literal underflows, over random literals", () => {
    const digits = (min: number, max: number) =>
      fc
        .array(fc.constantFrom(..."0123456789"), { minLength: min, maxLength: max })
        .map((d) => d.join(""));
    const literal = fc
      .tuple(
        fc.constantFrom("", "-"),
        fc.oneof(
          fc.constant("0"),
          digits(0, 3).map((d) => `1${d}`),
        ),
        fc.oneof(
          fc.constant(""),
          fc
            .tuple(fc.integer({ min: 0, max: 400 }), digits(1, 4))
            .map(([z, d]) => `.${"0".repeat(z)}${d}`),
        ),
        fc.oneof(
          fc.constant(""),
          fc
            .tuple(
              fc.constantFrom("e", "E"),
              fc.constantFrom("+", ""),
              fc.integer({ min: 0, max: 2 }), // leading zeros
              fc.integer({ min: -700, max: 20 }), // no overflow: that is another error
            )
            .map(
              ([e, plus, lead, n]) => `${e}${n < 0 ? "-" : plus}${"0".repeat(lead)}${Math.abs(n)}`,
            ),
        ),
      )
      .map((parts) => parts.join(""));
    fc.assert(
      fc.property(fc.array(literal, { minLength: 1, maxLength: 6 }), (literals) => {
        writeFileSync(join(dir, "random.json"), `[${literals.join(", ")}]`);
        const bad = literals.filter(underflows);
        let named: string | null = null;
        try {
          parseValue("x", "@random.json", dir);
        } catch (e) {
          named =
            /^--at x=@random\.json: (\S+) underflows/.exec((e as Error).message)?.[1] ??
            (e as Error).message;
        }
        if (bad.length === 0) expect(named).toBeNull();
        else expect(bad).toContain(named);
      }),
      { seed: 20261206, numRuns: runs(300) },
    );
  });
});
