/**
 * Random expression trees over the whole scalar op set, at random points: the three legs agree.
 * Points outside a domain, on a kink or at a singularity are `inconclusive` and skipped (fc.pre).
 * A disagreement is allowed only where autograd and the finite differences outvote the CAS: those
 * are nerdamer defects, and each one the fixed seed meets is listed in src/symbolic/defects.ts.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { check } from "../src/check/check.ts";
import { print } from "../src/expr/print.ts";
import { builtinSignatures, exprArbitrary } from "./arbitraries.ts";
import { runs } from "./runs.ts";

const ops = builtinSignatures.filter((o) => o.name !== "matmul");
const point = fc.record({
  x: fc.double({ min: -2, max: 2, noNaN: true }),
  y: fc.double({ min: -2, max: 2, noNaN: true }),
});
const expr = exprArbitrary({
  variables: ["x", "y"],
  ops,
  numbers: fc.constantFrom(0.5, 1, 2, 3, 0.25, 1.5),
  maxDepth: 3,
});

describe("random expressions over the whole op set", () => {
  it("the three legs agree, or the CAS is outvoted", () => {
    const outvoted: string[] = [];
    fc.assert(
      fc.property(expr, point, (e, at) => {
        const r = check(e, { at });
        fc.pre(r.verdict !== "inconclusive");
        if (r.verdict === "disagree") {
          // Only the CAS may be outvoted, and only by the two legs gradtrio computes itself.
          expect({ blame: r.blame, reason: r.reason }).toMatchObject({ blame: "symbolic" });
          outvoted.push(`${print(e)} at ${JSON.stringify(at)}`);
        }
      }),
      { numRuns: runs(300) },
    );
    if (outvoted.length > 0)
      console.info(`CAS outvoted in ${outvoted.length} case(s):\n${outvoted.join("\n")}`);
  });
});
