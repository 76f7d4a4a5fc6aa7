import { describe, expect, it } from "vitest";
import { variable } from "../expr/ast.ts";
import type { Interval } from "../expr/ops.ts";
import { parse } from "../expr/parse.ts";
import { toValues } from "../expr/point.ts";
import { print } from "../expr/print.ts";
import { evaluate } from "../numeric/evaluate.ts";
import { fitInto, leafInto, workingInterval } from "./domain.ts";

const at = (text: string, x: number) => evaluate(parse(text), toValues({ x })).data[0]!;

describe("workingInterval", () => {
  it("stays strictly inside the domain", () => {
    expect(workingInterval([0, 1])).toEqual([0.01, 0.99]);
    expect(workingInterval([0, Infinity])).toEqual([0.05, 4.05]);
    expect(workingInterval([-Infinity, -3])).toEqual([-7.05, -3.05]);
    expect(workingInterval([-Infinity, Infinity])).toEqual([-4, 4]);
  });
});

describe("leafInto and fitInto", () => {
  const domains: Interval[] = [
    [0, 1],
    [0, Infinity],
    [-Infinity, -3],
    [-1, Infinity],
    [1e-3, 2e-3],
  ];
  it("map every variable value in [-1, 1] into the domain", () => {
    for (const d of domains) {
      const text = print(leafInto(d, variable("x")));
      for (let k = -100; k <= 100; k++) {
        const v = at(text, k / 100);
        expect(v > d[0] && v < d[1], `${text} at ${k / 100} = ${v} in ${d}`).toBe(true);
      }
    }
  });

  it("squash any real value, however large, into the domain", () => {
    for (const d of domains) {
      const text = print(fitInto(d, parse("x^3*1e5")));
      for (const x of [-50, -3, -1, -0.1, 0, 0.2, 1, 7, 60]) {
        const v = at(text, x);
        expect(v > d[0] && v < d[1], `${text} at ${x} = ${v} in ${d}`).toBe(true);
      }
    }
  });

  it("print short, readable leaves", () => {
    expect(print(leafInto([0, 1], variable("x")))).toBe("0.5 + 0.49*x");
    expect(print(leafInto([-Infinity, Infinity], variable("y"), false))).toBe("y");
    expect(print(leafInto([-Infinity, Infinity], variable("y")))).toBe("4*y");
  });
});
