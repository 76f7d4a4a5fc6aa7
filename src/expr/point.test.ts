/**
 * toValue / fromValue: validation of user-written values, and the rank cap that keeps the walks'
 * recursion bounded.
 */
import { describe, expect, it } from "vitest";
import { errorText } from "../../test/failure.ts";
import { fromValue, toValue } from "./point.ts";

/** `[[[…[1]…]]]` nested `depth` deep, built without recursion. */
function nested(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

describe("toValue rank cap", () => {
  it("rejects a value nested 50,000 deep with a SHAPE error, not a stack overflow", () => {
    expect(errorText(() => toValue(nested(50_000), "x"))).toBe(
      "SHAPE: x: too many dimensions (50000); at most 32",
    );
  });

  it("rejects 33 dimensions and accepts 32, which round-trips through fromValue", () => {
    expect(errorText(() => toValue(nested(33), "x"))).toBe(
      "SHAPE: x: too many dimensions (33); at most 32",
    );
    const v = toValue(nested(32), "x");
    expect(v.shape).toEqual(new Array(32).fill(1));
    expect([...v.data]).toEqual([1]);
    expect(fromValue(v)).toEqual(nested(32));
  });
});

describe("toValue: large values in shared memory", () => {
  it("2^16 elements or more: a SharedArrayBuffer (a worker thread reads it without a copy), the same numbers", () => {
    const big = Array.from({ length: 1 << 16 }, (_, k) => k / 7);
    const v = toValue(big, "x");
    expect(v.data.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(v.data.length).toBe(1 << 16);
    expect(v.data[7]).toBe(1);
    expect(v.data[(1 << 16) - 1]).toBe(((1 << 16) - 1) / 7);
    expect(toValue(big.slice(1), "x").data.buffer).toBeInstanceOf(ArrayBuffer);
    expect(toValue(big.slice(1), "x").data.buffer).not.toBeInstanceOf(SharedArrayBuffer);
  });

  it("where SharedArrayBuffer is not defined (a page opened from a file): an ArrayBuffer", () => {
    const shared = globalThis.SharedArrayBuffer;
    // @ts-expect-error: as a browser page without cross-origin isolation has it
    globalThis.SharedArrayBuffer = undefined;
    try {
      const v = toValue(
        Array.from({ length: 1 << 16 }, (_, k) => k),
        "x",
      );
      expect(v.data.buffer).toBeInstanceOf(ArrayBuffer);
      expect(v.data[12345]).toBe(12345);
    } finally {
      globalThis.SharedArrayBuffer = shared;
    }
  });
});
