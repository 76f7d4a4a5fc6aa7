import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
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
