/**
 * Trust of `--order 2` (review11 #5), figures not pass/fail:
 * (a) false alarms over random built-in expressions checked at order 2 — scalars x, y (the
 *     review's generator, seed 3) and vectors x, z of 3 with a scalar y (seed 13): how many exit
 *     1 (`outcome` "fail"), and how many of those that agree the Hessian's vote alone contradicts
 *     without the rounding-noise probe (hessianComparisons with `noise` null: the allowance
 *     before it; exit 1 then);
 * (b) planted faults: in every agreeing scalar case of (a) that calls a plantable op, that op's
 *     double backward planted with a fault its gradient does not show (test/planted-hessian.ts,
 *     c = 1e-6): how often the check exits 1, by the fault's size (the largest change of an entry
 *     relative to the Hessian's largest entry).
 * HESSIAN_TRUST_SCALE=k multiplies the sample sizes (default 1: 600 + 400 expressions).
 */
import { check } from "../src/check/check.ts";
import { hessianComparisons, hessianLegs } from "../src/check/hessian.ts";
import { outcome } from "../src/check/outcome.ts";
import type { Report } from "../src/check/report.ts";
import { DEFAULT_TOLERANCE, judge } from "../src/check/verdict.ts";
import { parse } from "../src/expr/parse.ts";
import { type Point, toValues } from "../src/expr/point.ts";
import { PLANTABLE, planted } from "../test/planted-hessian.ts";

const SCALE = Number(process.env.HESSIAN_TRUST_SCALE ?? 1);

/** The review's generators (its rnd.mjs and rnd3.mjs), seeded: Park–Miller. */
function generator(seed: number) {
  let s = seed;
  const rnd = () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647;
  };
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
  const num = () => String(Math.round((rnd() * 4 - 2) * 100) / 100);
  const at = () => Math.round((rnd() * 6 - 3) * 1000) / 1000;
  const un = ["sin", "cos", "tan", "exp", "log", "sqrt", "tanh", "sigmoid", "abs", "log1p"];
  const un2 = ["softplus", "erf", "gelu", "atan", "sinh", "cosh", "expm1", "asin", "acos", "relu"];
  const scalar = (d: number): string => {
    if (d === 0 || rnd() < 0.25) return rnd() < 0.7 ? pick(["x", "y"]) : num();
    const r = rnd();
    if (r < 0.45) return `${pick([...un, ...un2])}(${scalar(d - 1)})`;
    if (r < 0.9) {
      const op = pick(["+", "-", "*", "/", "^"]);
      return op === "^"
        ? `(${scalar(d - 1)})^${pick(["2", "3", "0.5", "-1", "y"])}`
        : `(${scalar(d - 1)} ${op} ${scalar(d - 1)})`;
    }
    return `${pick(["maximum", "minimum", "pow"])}(${scalar(d - 1)}, ${scalar(d - 1)})`;
  };
  const vun = [...un.filter((u) => u !== "tan"), "softplus", "erf", "gelu", "atan", "relu"];
  const vec = (d: number): string => {
    if (d === 0 || rnd() < 0.2) return pick(["x", "x", "y", "z"]);
    const r = rnd();
    if (r < 0.4) return `${pick([...vun, "softmax"])}(${vec(d - 1)})`;
    if (r < 0.8)
      return `(${vec(d - 1)} ${pick(["+", "-", "*", "/"])} ${rnd() < 0.5 ? vec(d - 1) : sc(d - 1)})`;
    return `${pick(["maximum", "minimum"])}(${vec(d - 1)}, ${vec(d - 1)})`;
  };
  const sc = (d: number): string => {
    if (d === 0 || rnd() < 0.3) return rnd() < 0.5 ? "y" : num();
    const r = rnd();
    if (r < 0.6) return `${pick(["sum", "mean", "max", "min", "logsumexp"])}(${vec(d - 1)})`;
    if (r < 0.8) return `matmul(${vec(d - 1)}, ${vec(d - 1)})`;
    return `(${sc(d - 1)} ${pick(["+", "*", "-"])} ${sc(d - 1)})`;
  };
  return {
    scalar: (): [string, Point] => {
      const e = scalar(3);
      return [e, { x: at(), y: at() }];
    },
    vector: (): [string, Point] => {
      const e = sc(4);
      return [e, { x: [at(), at(), at()], y: at(), z: [at(), at(), at()] }];
    },
  };
}

/** The point's variables that the expression uses (the generators give all of them). */
function used(expr: string, at: Point): Point {
  return Object.fromEntries(
    Object.entries(at).filter(([k]) => new RegExp(`\\b${k}\\b`).test(expr)),
  );
}

/**
 * Whether the Hessian's vote alone contradicts autograd (outvoted, or no majority) without the
 * rounding-noise probe: the allowance before it.
 */
function apartWithoutProbe(expr: string, at: Point): boolean {
  const h = hessianLegs(parse(expr), toValues(at));
  if (h.legs.autograd === null) return false;
  const j = judge(hessianComparisons({ ...h, noise: null }, DEFAULT_TOLERANCE), DEFAULT_TOLERANCE);
  return j.verdict === "disagree" && j.blame !== "symbolic" && j.blame !== "numeric";
}

interface Case {
  expr: string;
  at: Point;
  report: Report;
}

function sweep(name: string, n: number, next: () => [string, Point]): Case[] {
  const agreeing: Case[] = [];
  let ran = 0;
  let fail = 0;
  let before = 0;
  const verdicts: Record<string, number> = {};
  const failures: string[] = [];
  for (let i = 0; i < n; i++) {
    const [expr, all] = next();
    const at = used(expr, all);
    if (Object.keys(at).length === 0) continue;
    let r: Report;
    try {
      r = check(expr, { at, order: 2 });
    } catch {
      continue; // bad input (a constant, a shape mismatch)
    }
    ran++;
    const k = `${r.verdict}${r.blame === null ? "" : `/${r.blame}`}`;
    verdicts[k] = (verdicts[k] ?? 0) + 1;
    if (outcome(r) === "fail") {
      fail++;
      failures.push(`${expr} at ${JSON.stringify(at)}: ${r.reason?.slice(0, 160)}`);
    }
    // An agreeing check whose Hessian vote contradicted autograd before the probe was exit 1.
    if (r.verdict === "agree" && apartWithoutProbe(expr, at)) before++;
    if (r.verdict === "agree") agreeing.push({ expr, at, report: r });
  }
  console.log(
    `${name}: ${ran} checked at order 2; exit 1 (autograd contradicted): ${fail}; agreeing, but the Hessian's vote contradicts autograd without the rounding-noise probe: ${before}; verdicts ${JSON.stringify(verdicts)}`,
  );
  for (const f of failures) console.log(`  exit 1: ${f}`);
  return agreeing;
}

function plantedFaults(cases: readonly Case[]): void {
  const buckets = { "≥ 1e-6": [0, 0], "1e-8 – 1e-6": [0, 0], "< 1e-8": [0, 0] };
  const missed: string[] = [];
  for (const { expr, at, report } of cases) {
    const ok = report.hessian!.autograd;
    if (ok == null) continue;
    for (const op of PLANTABLE) {
      if (!new RegExp(`\\b${op}\\(`).test(expr)) continue;
      const bad = planted(op, 1e-6, () => check(expr, { at, order: 2 }));
      const h = bad.hessian!.autograd;
      if (h == null) continue;
      let big = 0;
      let moved = 0;
      for (let i = 0; i < ok.length; i++)
        for (let j = 0; j < ok[i]!.length; j++) {
          big = Math.max(big, Math.abs(ok[i]![j]!));
          moved = Math.max(moved, Math.abs(h[i]![j]! - ok[i]![j]!));
        }
      const size = big === 0 ? 0 : moved / big;
      const b = size >= 1e-6 ? "≥ 1e-6" : size >= 1e-8 ? "1e-8 – 1e-6" : "< 1e-8";
      buckets[b][0]++;
      if (outcome(bad) === "fail") buckets[b][1]++;
      else if (size >= 1e-6)
        missed.push(
          `${op} in ${expr} at ${JSON.stringify(at)} (moved ${size.toExponential(1)}): ${bad.verdict}, ${bad.reason?.slice(0, 160)}`,
        );
    }
  }
  for (const [b, [n, caught]] of Object.entries(buckets))
    console.log(
      `planted double-backward faults (c = 1e-6), Hessian moved by ${b} of its largest entry: ${caught} of ${n} exit 1`,
    );
  for (const m of missed) console.log(`  not exit 1: ${m}`);
}

export function run(): void {
  const t0 = performance.now();
  const scalars = generator(3);
  const agreeing = sweep("scalar x, y (seed 3)", Math.round(600 * SCALE), scalars.scalar);
  const vectors = generator(13);
  sweep("vectors x, z of 3 and scalar y (seed 13)", Math.round(400 * SCALE), vectors.vector);
  plantedFaults(agreeing);
  console.log(`(${((performance.now() - t0) / 1000).toFixed(0)} s)`);
}
