// Named intermediates and `wrt` through check(): the values are PyTorch's (test/fixtures/
// torch-golden.json, float64) or hand formulas, never check()'s own output.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { failure } from "../../test/failure.ts";
import { check } from "./check.ts";
import { wrtNames } from "./wrt.ts";

const golden = JSON.parse(
  readFileSync(new URL("../../test/fixtures/torch-golden.json", import.meta.url), "utf8"),
) as { id: string; at: Record<string, number | number[]>; grad: Record<string, unknown> }[];
const seedBce = golden.find((c) => c.id === "seed-bce-eps8")!;
const logreg = golden.find((c) => c.id === "logreg-batch")!;

describe("check() with named intermediates", () => {
  it("the seed BCE written with bindings has PyTorch's gradients, as without", () => {
    const text = "z = w*x+b; p = clamp(sigmoid(z), 1e-8, 1-1e-8); bce(p, y)";
    const r = check(text, { at: seedBce.at });
    expect(r.verdict).toBe("agree");
    expect(r.expr).toBe(text);
    for (const [name, g] of Object.entries(seedBce.grad)) {
      expect(r.gradients[name]!.autograd).toBe(g);
      // The CAS formula and the finite differences round differently: within 1e-12 relative.
      for (const leg of ["symbolic", "numeric"] as const)
        expect(Math.abs((r.gradients[name]![leg] as number) - (g as number))).toBeLessThan(
          1e-12 * Math.max(1, Math.abs(g as number)),
        );
    }
  });

  it("a node used twice counts once per use: s = sin(x); s*s has d/dx = 2 sin x cos x", () => {
    const r = check("s = sin(x); s*s", { at: { x: 0.7 } });
    expect(r.verdict).toBe("agree");
    expect(r.gradients.x!.autograd).toBeCloseTo(2 * Math.sin(0.7) * Math.cos(0.7), 15);
    expect(r.value).toBeCloseTo(Math.sin(0.7) ** 2, 15);
  });

  it("a bound name given a value is an error with a caret under the binding", () => {
    const e = failure(() => check("z = w*x; z^2", { at: { w: 1, x: 2, z: 3 } }));
    expect(e.message).toMatch(/^'z' is bound in the expression \(z = …\) and also given a value/);
    expect(e.pos).toBe(0);
  });
});

describe("check() with wrt", () => {
  it("reports only those inputs, with PyTorch's values; the others are data", () => {
    const r = check("mean(bce(sigmoid(w*x+b), y))", { at: logreg.at, wrt: ["b", "w"] });
    expect(r.verdict).toBe("agree");
    expect(Object.keys(r.gradients)).toEqual(["w", "b"]); // the point's order
    expect(r.gradients.w!.autograd).toBeCloseTo(logreg.grad.w as number, 15);
    expect(r.gradients.b!.autograd).toBeCloseTo(logreg.grad.b as number, 15);
  });

  it("a data input whose gradient is not finite does not make the check inconclusive", () => {
    // d/dx sqrt(x) is infinite at 0, but x is data here; d/dw = sqrt(x) = 0.
    const r = check("w*sqrt(x)", { at: { w: 2, x: 0 }, wrt: ["w"] });
    expect(r.verdict).toBe("agree");
    expect(r.gradients.w!.autograd).toBe(0); // sqrt(0)
    expect(check("w*sqrt(x)", { at: { w: 2, x: 0 } }).verdict).toBe("inconclusive");
  });

  it("--order 2: the Hessian of the wrt elements only, sized and computed over them (review11 #3)", () => {
    // 2000 data elements: the 1×1 Hessian ∂²/∂w² (sum(x²)·w²) = 2·sum(x²) was refused as 2001×2001.
    const x = Array.from({ length: 2000 }, (_, i) => 3 * Math.sin(i));
    const sx2 = x.reduce((s, v) => s + v * v, 0);
    const h = check("sum(x^2)*w^2", { at: { x, w: 1.5 }, wrt: ["w"], order: 2 });
    expect(h.verdict, h.reason ?? "").toBe("agree");
    expect(h.hessian!.inputs).toEqual(["w"]);
    expect(h.hessian!.autograd![0]![0]).toBeCloseTo(2 * sx2, 8);
    expect(h.hessian!.numeric![0]![0]).toBeCloseTo(2 * sx2, 6);
    // The logistic loss's 2×2 Hessian over 250 samples, against mean(p(1−p)·[x², x; x, 1]) by hand;
    // the CAS derives 3 second derivatives per sample (w·w, w·b, b·b), none by the data.
    const n = 250;
    const xs = Array.from({ length: n }, (_, i) => 2 * Math.sin(1.7 * i));
    const ys = xs.map((_, i) => (Math.cos(i) > 0 ? 1 : 0));
    const [w, b] = [0.5, -0.2];
    const r = check("mean(bce(sigmoid(w*x+b), y))", {
      at: { w, b, x: xs, y: ys },
      wrt: ["w", "b"],
      order: 2,
    });
    expect([r.verdict, r.reason]).toEqual(["agree", null]);
    const byHand = [
      [0, 0],
      [0, 0],
    ];
    for (const xi of xs) {
      const p = 1 / (1 + Math.exp(-(w * xi + b)));
      const s = (p * (1 - p)) / n;
      byHand[0]![0]! += s * xi * xi;
      byHand[0]![1]! += s * xi;
      byHand[1]![1]! += s;
    }
    byHand[1]![0] = byHand[0]![1]!;
    expect(r.hessian!.inputs).toEqual(["w", "b"]);
    for (const leg of ["symbolic", "numeric", "autograd"] as const)
      for (const [i, row] of r.hessian![leg]!.entries())
        for (const [j, v] of row.entries())
          expect(v).toBeCloseTo(byHand[i]![j]!, leg === "numeric" ? 8 : 13);
    expect(r.notes).toContain(
      `symbolic Hessian: ${3 * n} second derivative(s) by the CAS, the others structurally 0`,
    );
  });

  it("a Jacobian's columns are the wrt elements only: sin(x)·y wrt y, x of 2100, is 2100×1", () => {
    const x = Array.from({ length: 2100 }, (_, i) => Math.sin(i));
    const r = check("sin(x)*y", { at: { x, y: 0.5 }, wrt: ["y"] });
    expect(r.verdict, r.reason ?? "").toBe("agree");
    expect(r.jacobian!.inputs).toEqual(["y"]);
    for (const leg of ["symbolic", "numeric", "autograd"] as const) {
      const rows = r.jacobian![leg]!;
      expect([rows.length, rows[7]!.length]).toEqual([2100, 1]);
      expect(rows[7]![0]).toBeCloseTo(Math.sin(x[7]!), 12);
    }
  });

  it("rejects unknown, repeated, bound and empty names", () => {
    const at = { w: 1, x: 2 };
    expect(failure(() => check("w*x", { at, wrt: ["qq"] })).message).toBe(
      "wrt: 'qq' is not a variable of the expression (it uses 'w', 'x')",
    );
    expect(failure(() => check("w*x", { at, wrt: ["W"] })).message).toMatch(/did you mean 'w'\?$/);
    expect(failure(() => check("w*x", { at, wrt: ["w", "w"] })).message).toBe(
      "wrt: 'w' is given twice",
    );
    expect(failure(() => check("z = w*x; z", { at, wrt: ["z"] })).message).toMatch(
      /^wrt: 'z' is a named intermediate \(z = …\), not an input/,
    );
    expect(failure(() => check("w*x", { at, wrt: [] })).message).toBe(
      "wrt: give at least one variable name",
    );
    expect(failure(() => check("w*x", { at, wrt: "w" as never })).message).toBe(
      "wrt must be a list of variable names",
    );
  });

  it("says a constant has nothing to differentiate (it had blamed a wrt the user never gave)", () => {
    const msg = "nothing to differentiate: the expression has no variables (it is a constant)";
    expect(failure(() => check("pi", { at: {} })).message).toBe(msg);
    expect(failure(() => check("2*3", { at: {}, wrt: [] })).message).toBe(msg);
    expect(() => wrtNames(undefined, [])).toThrow(msg);
  });

  it("wrtNames keeps the point's order and defaults to every name", () => {
    expect(wrtNames(["b", "w"], ["w", "b", "x"])).toEqual(["w", "b"]);
    expect(wrtNames(undefined, ["w", "b"])).toEqual(["w", "b"]);
  });
});
