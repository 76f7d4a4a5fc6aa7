import { describe, expect, it } from "vitest";
import { ExprMemo, usedOnce } from "./memo.ts";

describe("ExprMemo and usedOnce", () => {
  it("keeps a value while its key lives, outside usedOnce", () => {
    const memo = new ExprMemo<object, number>();
    const key = {};
    expect(memo.get(key)).toBeUndefined();
    expect(memo.set(key, 1)).toBe(1);
    expect(memo.get(key)).toBe(1);
  });

  it("inside usedOnce, starts empty, shares values within the scope and drops them after", () => {
    const memo = new ExprMemo<object, string>();
    const kept = {};
    const once = {};
    memo.set(kept, "kept");
    const seen = usedOnce(() => {
      // The lasting table is not read inside: a scope starts empty.
      const before = memo.get(kept);
      memo.set(once, "once");
      return { before, within: memo.get(once) };
    });
    expect(seen).toEqual({ before: undefined, within: "once" });
    // Nothing set inside reached the lasting table; what was there is still there.
    expect(memo.get(once)).toBeUndefined();
    expect(memo.get(kept)).toBe("kept");
  });

  it("gives a nested scope its own tables and restores the outer scope's, also after a throw", () => {
    const memo = new ExprMemo<object, number>();
    const key = {};
    const kept = {};
    memo.set(kept, 0);
    usedOnce(() => {
      memo.set(key, 1);
      expect(() =>
        usedOnce(() => {
          expect(memo.get(key)).toBeUndefined();
          memo.set(key, 2);
          throw new Error("boom");
        }),
      ).toThrow("boom");
      expect(memo.get(key)).toBe(1);
    });
    expect(memo.get(key)).toBeUndefined();
    // Outside again: the lasting table, not a scope's.
    expect(memo.get(kept)).toBe(0);
  });
});
