import { describe, expect, it } from "vitest";
import { cubeRight } from "../../test/fixtures/ops/mixed/correct-and-wrong.ts";
import { exprEquals } from "../expr/ast.ts";
import { casesOf, judgeCases, prepareFuzz } from "./fuzz.ts";

describe("a fuzz's case stream", () => {
  it("lets judged cases go, and makes them anew, the same, when asked again", () => {
    const { ctx } = prepareFuzz({ ops: [cubeRight], runs: 100, seed: 7 });
    const kept = casesOf(ctx, 0, [0], 0, 24);
    // Judging cases 8…15 lets them go from the stream; the others stay as they were.
    expect(judgeCases(ctx, 0, [0], 8, 16)).toHaveLength(8);
    const again = [
      ...casesOf(ctx, 0, [0], 0, 8),
      ...casesOf(ctx, 0, [0], 8, 16),
      ...casesOf(ctx, 0, [0], 16, 24),
    ];
    for (let i = 0; i < 24; i++) {
      const judged = i >= 8 && i < 16;
      expect(again[i] === kept[i]).toBe(!judged);
      expect(exprEquals(again[i]!.expr, kept[i]!.expr)).toBe(true);
      expect(again[i]!.at).toEqual(kept[i]!.at);
    }
  });
});
