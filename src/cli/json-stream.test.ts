import { describe, expect, it } from "vitest";
import { jsonPieces } from "./json-stream.ts";

describe("jsonPieces", () => {
  it.each([
    { a: [1, -0, 1.5e-300, Number.NaN, Number.POSITIVE_INFINITY], b: null, c: 'q"\n\u2028' },
    [[1, 2], [3, [4, undefined]], { x: undefined, y: true, z: false }],
    { expr: "sin(x^2)", at: { x: 3 }, value: 0.4121184852417566, nested: { 'k"ey': [] } },
    3,
    "text",
  ])("writes what JSON.stringify writes: %j", (v) => {
    expect([...jsonPieces(v)].join("")).toBe(JSON.stringify(v));
  });

  it("cuts a large value into pieces of about 64 KB", () => {
    const big = { g: Array.from({ length: 100_000 }, (_, i) => i / 7) };
    const pieces = [...jsonPieces(big)];
    expect(pieces.join("")).toBe(JSON.stringify(big));
    expect(pieces.length).toBeGreaterThan(10);
    // 64 KB, plus at most one block of 4096 numbers (≤ 25 characters each).
    expect(Math.max(...pieces.map((p) => p.length))).toBeLessThan(65_536 + 4096 * 25);
  });
});
