/**
 * Parity of the ops added in issue 11 with PyTorch's definitions, three ways: autograd and the
 * symbolic leg to 1e-10, the numeric leg to 1e-6 (relative, absolute near 0), at random points
 * inside each op's domain. No PyTorch here: the reference values come from Python's math module
 * and the closed-form derivatives of derivatives.yaml, written out in
 * test/fixtures/new-ops-reference.py (which calls nothing of gradtrio).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { autogradLeg } from "../src/autograd/index.ts";
import { parse } from "../src/expr/parse.ts";
import { type Point, toValues } from "../src/expr/point.ts";
import { numericLeg } from "../src/numeric/leg.ts";
import { symbolicLeg } from "../src/symbolic/leg.ts";

interface Case {
  readonly expr: string;
  readonly at: Point;
  readonly value: number;
  readonly grad: Record<string, number | number[] | number[][]>;
}

const { cases } = JSON.parse(
  readFileSync(new URL("./fixtures/new-ops-reference.json", import.meta.url), "utf8"),
) as { cases: Case[] };

const flat = (v: number | number[] | number[][]): number[] =>
  typeof v === "number" ? [v] : (v as (number | number[])[]).flat();

function expectClose(got: ArrayLike<number>, want: readonly number[], tol: number, what: string) {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i]! - want[i]!) / Math.max(1, Math.abs(want[i]!));
    expect(err, `${what}[${i}]: ${got[i]} vs ${want[i]}`).toBeLessThanOrEqual(tol);
  }
}

describe.each(cases.map((c, i) => [`${c.expr} #${i}`, c] as const))("%s", (_name, c) => {
  const expr = parse(c.expr);
  const values = toValues(c.at);

  it("autograd to 1e-10", () => {
    const r = autogradLeg(expr, values);
    expect(Math.abs(r.value - c.value)).toBeLessThanOrEqual(1e-10 * Math.max(1, Math.abs(c.value)));
    for (const [name, want] of Object.entries(c.grad))
      expectClose(r.gradients.get(name)!, flat(want), 1e-10, `autograd ∂/∂${name}`);
  });

  it("symbolic to 1e-10", () => {
    const r = symbolicLeg(expr, values);
    expect(r.status, r.status === "ok" ? "" : r.reason).toBe("ok");
    if (r.status !== "ok") return;
    for (const [name, want] of Object.entries(c.grad))
      expectClose(r.gradients.get(name)!, flat(want), 1e-10, `symbolic ∂/∂${name}`);
  });

  it("numeric to 1e-6", () => {
    const r = numericLeg(expr, values);
    for (const [name, want] of Object.entries(c.grad))
      expectClose(r.gradients!.get(name)!, flat(want), 1e-6, `numeric ∂/∂${name}`);
  });
});
