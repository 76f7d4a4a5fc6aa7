import { describe, expect, it } from "vitest";
import { DEFAULT_GATE_SEED, defineConfig, validateConfig } from "./config.ts";

const bad = (raw: unknown) => {
  try {
    validateConfig(raw);
  } catch (e) {
    return (e as Error).message;
  }
  return "no error";
};

describe("validateConfig", () => {
  it("accepts point checks, domain checks and fuzz entries, with the default seed", () => {
    const c = defineConfig({
      checks: [
        { expr: "x^2", at: { x: 3 } },
        { expr: "mean(x^2)", domain: { x: { shape: [3], interval: [-1, 1] } }, runs: 4 },
      ],
      fuzz: [{ ops: "./ops.ts", runs: 10, allowInconclusive: true, rtol: 1e-9 }],
    });
    expect(validateConfig(c).seed).toBe(DEFAULT_GATE_SEED);
    expect(validateConfig({ ...c, seed: 5 }).seed).toBe(5);
  });

  it("names the bad entry by its path", () => {
    const ok = { expr: "x", at: { x: 1 } };
    expect(bad({ checks: [ok, ok, { expr: "x", at: "x=3" }] })).toBe(
      'config: checks[2].at must be an object of NAME: value, got "x=3"',
    );
    expect(bad({ checks: [{ expr: "x", at: { x: [1, "2"] } }] })).toBe(
      'config: checks[0].at.x[1] must be a number or a non-empty (nested) array of numbers, got "2"',
    );
    expect(bad({ checks: [{ expr: "x" }] })).toBe(
      "config: checks[0] needs a point (at) or a domain (domain and runs)",
    );
    expect(bad({ checks: [{ expr: "x", domain: { x: { interval: [2, 1] } } }] })).toBe(
      "config: checks[0].domain.x.interval must be [lo, hi] with finite lo < hi, got [2, 1]",
    );
    expect(bad({ checks: [{ expr: "x", at: { x: 1 }, rtol: -1 }] })).toBe(
      "config: checks[0].rtol must be a finite number ≥ 0, got -1",
    );
    expect(bad({ fuzz: [{ ops: "./a.ts", runs: 0 }] })).toBe(
      "config: fuzz[0].runs must be an integer from 1 to 100000000, got 0",
    );
    expect(bad({ fuzz: [{ ops: "./a.ts", runs: 2.5 }] })).toBe(
      "config: fuzz[0].runs must be an integer from 1 to 100000000, got 2.5",
    );
    expect(bad({ fuzz: [{ ops: "./a.ts", runs: 1e9 }] })).toBe(
      "config: fuzz[0].runs must be an integer from 1 to 100000000, got 1000000000",
    );
    expect(bad({ fuzz: [{ ops: "./a.ts", maxDepth: 9 }] })).toBe(
      "config: fuzz[0].maxDepth must be an integer from 1 to 8, got 9",
    );
    const domain = { expr: "x", domain: { x: { interval: [0, 1] } } };
    expect(bad({ checks: [{ ...domain, runs: -3 }] })).toBe(
      "config: checks[0].runs must be an integer from 1 to 100000000, got -3",
    );
    expect(bad({ fuzz: [{ op: "./a.ts" }] })).toContain("config: fuzz[0].op is not a known option");
  });

  it("caps a domain variable's element count, and needs a finite interval width", () => {
    const domain = (spec: unknown) => ({ checks: [{ expr: "sum(x)", domain: { x: spec } }] });
    // 10^8 float64s (800 MB per point) used to abort Node out of memory.
    expect(bad(domain({ shape: [100000000], interval: [0, 1] }))).toBe(
      "config: checks[0].domain.x: shape [100000000] has 100000000 elements; at most 10000000",
    );
    expect(bad(domain({ shape: [5000, 2001], interval: [0, 1] }))).toBe(
      "config: checks[0].domain.x: shape [5000, 2001] has 10005000 elements; at most 10000000",
    );
    expect(bad(domain({ shape: [10000, 1000], interval: [0, 1] }))).toBe("no error");
    expect(bad(domain({ interval: [-1e308, 1e308] }))).toBe(
      "config: checks[0].domain.x.interval [-1e+308, 1e+308] is too wide: hi - lo must be finite",
    );
    expect(bad(domain({ interval: [-1e307, 1e307] }))).toBe("no error");
  });

  it("rejects a config that is not an object, or has nothing to run", () => {
    expect(bad(undefined)).toContain("the default export must be defineConfig");
    expect(bad({})).toContain("nothing to run");
    // An async config (export default (async () => …)()) was "nothing to run".
    const later = Promise.resolve({ checks: [{ expr: "x", at: { x: 1 } }] });
    expect(bad(later)).toMatch(
      /^config: the default export is a Promise: export the config itself/,
    );
    expect(bad({ checks: {} })).toBe("config: checks must be an array, got object");
    const one = { checks: [{ expr: "x", at: { x: 1 } }] };
    // As the command line's --seed: an integer from 0 to 2^53 − 1 (-1 was accepted).
    for (const seed of [1.5, -1, 2 ** 53, Number.NaN, "7"])
      expect(bad({ ...one, seed })).toMatch(
        /^config: seed must be an integer from 0 to 9007199254740991, got (1\.5|-1|9007199254740992|NaN|"7")$/,
      );
    expect(validateConfig({ ...one, seed: 0 }).seed).toBe(0);
  });
});
