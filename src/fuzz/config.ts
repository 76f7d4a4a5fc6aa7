/**
 * The gate's configuration (`gradtrio.config.ts`): checks at fixed points, checks at random
 * points of a domain, and custom-op modules to fuzz. `defineConfig` only types it; `validateConfig`
 * checks a loaded value and names the first bad entry by its path (`checks[2].at`).
 */
import { GradtrioError, isIntegerIn } from "../errors.ts";
import type { Point } from "../expr/point.ts";
import type { PointDomain } from "./arbitraries.ts";
import { MAX_DEPTH, MAX_RUNS } from "./limits.ts";

/** Options every entry may carry. */
export interface EntryOptions {
  /** Shown in the summary and as the JUnit test case name. */
  readonly name?: string;
  /** An inconclusive verdict (kink, singularity) passes instead of failing. */
  readonly allowInconclusive?: boolean;
  readonly rtol?: number;
  readonly atol?: number;
}

/** Options of a check entry. */
export interface CheckOptionsOfEntry extends EntryOptions {
  /**
   * Any disagreement fails, an outvoted reference leg (CAS, finite differences) too; by default a
   * check passes when autograd is confirmed (docs/DESIGN.md, "Exit codes of check").
   */
  readonly strict?: boolean;
}

/** `{ expr, at }`: one three-way check at a point. */
export interface PointCheck extends CheckOptionsOfEntry {
  readonly expr: string;
  readonly at: Point;
}

/** `{ expr, domain, runs }`: three-way checks at `runs` random points of a box. */
export interface DomainCheck extends CheckOptionsOfEntry {
  readonly expr: string;
  readonly domain: PointDomain;
  /** Random points (default 20). */
  readonly runs?: number;
}

export type CheckEntry = PointCheck | DomainCheck;

/** `{ ops, runs }`: fuzz every op a module exports (path relative to the config file). */
export interface FuzzEntry extends EntryOptions {
  readonly ops: string;
  /** Random expressions per op (default 100). */
  readonly runs?: number;
  readonly maxDepth?: number;
}

export interface GradtrioConfig {
  /** Seed of every random choice (default 20261122): the gate is reproducible. */
  readonly seed?: number;
  readonly checks?: readonly CheckEntry[];
  readonly fuzz?: readonly FuzzEntry[];
}

export const DEFAULT_GATE_SEED = 20261122;
export const DEFAULT_DOMAIN_RUNS = 20;
/** The most elements a domain variable may have (a random point is drawn for each run). */
export const MAX_DOMAIN_ELEMENTS = 10_000_000;

/**
 * Declares a gate configuration (identity at run time; types and editor completion).
 *
 * @example
 * ```ts
 * // gradtrio.config.ts
 * import { defineConfig } from "gradtrio";
 * export default defineConfig({
 *   checks: [{ expr: "sin(x^2)", at: { x: 3 } }],
 *   fuzz: [{ ops: "./ops/my-ops.ts", runs: 100 }],
 * });
 * ```
 */
export function defineConfig(config: GradtrioConfig): GradtrioConfig {
  return config;
}

/** An entry's (or fuzz options') tolerances, without the ones left unset. */
export function tolerances(o: {
  readonly rtol?: number | undefined;
  readonly atol?: number | undefined;
}): {
  rtol?: number;
  atol?: number;
} {
  return {
    ...(o.rtol === undefined ? {} : { rtol: o.rtol }),
    ...(o.atol === undefined ? {} : { atol: o.atol }),
  };
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** A value in a message: numbers, booleans and strings (cut at `max`) as written, else its kind. */
function describe(v: unknown, max = 40): string {
  if (v === null) return "null";
  if (Array.isArray(v)) {
    // A few items, each as a value or its kind: [1, "a", array, object, …].
    const items = v.slice(0, 6).map((x: unknown) => (Array.isArray(x) ? "array" : describe(x, 12)));
    return `[${items.join(", ")}${v.length > 6 ? ", …" : ""}]`;
  }
  if (typeof v === "string") return JSON.stringify(v.length > max ? `${v.slice(0, max)}…` : v);
  return typeof v === "number" || typeof v === "boolean" ? String(v) : typeof v;
}

function bad(path: string, what: string, got: unknown): never {
  throw new GradtrioError("INVALID_ARGUMENT", `config: ${path} ${what}, got ${describe(got)}`);
}

function checkKeys(o: Record<string, unknown>, path: string, allowed: readonly string[]): void {
  for (const k of Object.keys(o))
    if (!allowed.includes(k))
      throw new GradtrioError(
        "INVALID_ARGUMENT",
        `config: ${path}.${k} is not a known option (expected ${allowed.join(", ")})`,
      );
}

function options(o: Record<string, unknown>, path: string): void {
  if (o.name !== undefined && typeof o.name !== "string")
    bad(`${path}.name`, "must be a string", o.name);
  if (o.allowInconclusive !== undefined && typeof o.allowInconclusive !== "boolean")
    bad(`${path}.allowInconclusive`, "must be true or false", o.allowInconclusive);
  for (const k of ["rtol", "atol"] as const)
    if (
      o[k] !== undefined &&
      !(typeof o[k] === "number" && Number.isFinite(o[k]) && (o[k] as number) >= 0)
    )
      bad(`${path}.${k}`, "must be a finite number ≥ 0", o[k]);
}

/** An integer from `min` to `max`, or left out. */
function integerIn(v: unknown, path: string, min: number, max: number): void {
  if (v !== undefined && !isIntegerIn(v, min, max))
    bad(path, `must be an integer from ${min} to ${max}`, v);
}

function nested(v: unknown, path: string): void {
  if (typeof v === "number") {
    if (!Number.isFinite(v)) bad(path, "must be finite", v);
    return;
  }
  if (!Array.isArray(v) || v.length === 0)
    bad(path, "must be a number or a non-empty (nested) array of numbers", v);
  const items = v as unknown[];
  for (let i = 0; i < items.length; i++) nested(items[i], `${path}[${i}]`);
}

function validateCheck(e: unknown, path: string): CheckEntry {
  if (!isObject(e)) bad(path, "must be an object { expr, at } or { expr, domain, runs }", e);
  const o = e as Record<string, unknown>;
  if (typeof o.expr !== "string" || o.expr.trim() === "")
    bad(`${path}.expr`, "must be an expression string", o.expr);
  options(o, path);
  if (o.strict !== undefined && typeof o.strict !== "boolean")
    bad(`${path}.strict`, "must be true or false", o.strict);
  const common = ["name", "expr", "allowInconclusive", "strict", "rtol", "atol"];
  if (o.at !== undefined && o.domain !== undefined)
    throw new GradtrioError("INVALID_ARGUMENT", `config: ${path} has both at and domain: give one`);
  if (o.at !== undefined) {
    checkKeys(o, path, [...common, "at"]);
    if (!isObject(o.at) || Object.keys(o.at).length === 0)
      bad(`${path}.at`, "must be an object of NAME: value", o.at);
    for (const [k, v] of Object.entries(o.at as object)) nested(v, `${path}.at.${k}`);
    return o as unknown as PointCheck;
  }
  if (o.domain !== undefined) {
    checkKeys(o, path, [...common, "domain", "runs"]);
    if (!isObject(o.domain) || Object.keys(o.domain).length === 0)
      bad(`${path}.domain`, "must be an object of NAME: { shape?, interval: [lo, hi] }", o.domain);
    for (const [k, spec] of Object.entries(o.domain as object)) {
      const p = `${path}.domain.${k}`;
      if (!isObject(spec)) bad(p, "must be an object { shape?, interval: [lo, hi] }", spec);
      const s = spec as Record<string, unknown>;
      checkKeys(s, p, ["shape", "interval"]);
      const iv = s.interval;
      if (
        !Array.isArray(iv) ||
        iv.length !== 2 ||
        !iv.every((x) => typeof x === "number" && Number.isFinite(x)) ||
        !(iv[0] < iv[1])
      )
        bad(`${p}.interval`, "must be [lo, hi] with finite lo < hi", iv);
      if (!Number.isFinite(iv[1] - iv[0]))
        throw new GradtrioError(
          "INVALID_ARGUMENT",
          `config: ${p}.interval [${iv[0]}, ${iv[1]}] is too wide: hi - lo must be finite`,
        );
      if (
        s.shape !== undefined &&
        !(Array.isArray(s.shape) && s.shape.every((n) => Number.isInteger(n) && n >= 1))
      )
        bad(`${p}.shape`, "must be an array of positive integers", s.shape);
      const size = ((s.shape as number[] | undefined) ?? []).reduce((a, n) => a * n, 1);
      if (size > MAX_DOMAIN_ELEMENTS)
        throw new GradtrioError(
          "INVALID_ARGUMENT",
          `config: ${p}: shape [${(s.shape as number[]).join(", ")}] has ${size} elements; at most ${MAX_DOMAIN_ELEMENTS}`,
        );
    }
    integerIn(o.runs, `${path}.runs`, 1, MAX_RUNS);
    return o as unknown as DomainCheck;
  }
  throw new GradtrioError(
    "INVALID_ARGUMENT",
    `config: ${path} needs a point (at) or a domain (domain and runs)`,
  );
}

function validateFuzz(e: unknown, path: string): FuzzEntry {
  if (!isObject(e)) bad(path, "must be an object { ops, runs }", e);
  const o = e as Record<string, unknown>;
  checkKeys(o, path, ["name", "ops", "runs", "maxDepth", "allowInconclusive", "rtol", "atol"]);
  if (typeof o.ops !== "string" || o.ops === "")
    bad(`${path}.ops`, "must be the path of an ops module (relative to the config)", o.ops);
  options(o, path);
  integerIn(o.runs, `${path}.runs`, 1, MAX_RUNS);
  integerIn(o.maxDepth, `${path}.maxDepth`, 1, MAX_DEPTH);
  return o as unknown as FuzzEntry;
}

/**
 * Validates a loaded configuration (the default export of the config module).
 * Throws a GradtrioError naming the first bad field by its path.
 *
 * @example
 * ```ts
 * validateConfig({ checks: [{ expr: "x^2" }] });
 * // GradtrioError: config: checks[0] needs a point (at) or a domain (domain and runs)
 * ```
 */
export function validateConfig(raw: unknown): GradtrioConfig {
  if (raw instanceof Promise || typeof (raw as { then?: unknown } | null)?.then === "function")
    throw new GradtrioError(
      "INVALID_ARGUMENT",
      "config: the default export is a Promise: export the config itself, export default defineConfig({ … }) (await what it needs with a top-level await before it)",
    );
  if (!isObject(raw))
    bad("the default export", "must be defineConfig({ seed?, checks?, fuzz? })", raw);
  const c = raw as Record<string, unknown>;
  checkKeys(c, "config", ["seed", "checks", "fuzz"]);
  // As the command line's --seed.
  integerIn(c.seed, "seed", 0, Number.MAX_SAFE_INTEGER);
  for (const key of ["checks", "fuzz"] as const)
    if (c[key] !== undefined && !Array.isArray(c[key])) bad(key, "must be an array", c[key]);
  const checks = ((c.checks as unknown[] | undefined) ?? []).map((e, i) =>
    validateCheck(e, `checks[${i}]`),
  );
  const fuzz = ((c.fuzz as unknown[] | undefined) ?? []).map((e, i) =>
    validateFuzz(e, `fuzz[${i}]`),
  );
  if (checks.length === 0 && fuzz.length === 0)
    throw new GradtrioError(
      "INVALID_ARGUMENT",
      "config: nothing to run: give at least one entry in checks or fuzz",
    );
  return { seed: (c.seed as number | undefined) ?? DEFAULT_GATE_SEED, checks, fuzz };
}
