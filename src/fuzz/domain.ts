/**
 * Domains for fuzzing: the interval each argument of an op may take, the narrower "working"
 * interval the fuzzer aims at, and the expressions that keep a subexpression inside a domain.
 * Fuzz variables range over [-1, 1]; leaves map a variable affinely into an interval, and `fit`
 * squashes any real value into a domain (sigmoid for a bounded one, softplus for a half-line).
 */
import { call, type Expr, num } from "../expr/ast.ts";
import type { Interval, OpDefinition } from "../expr/ops.ts";

/** The whole real line: the domain of an argument that declares none. */
export const REAL: Interval = [-Infinity, Infinity];

/** Half-width of the working interval on an unbounded line: (-4, 4) reaches past typical branch points. */
const REACH = 4;

/** The declared domain of argument `i` of an op (the real line when none is declared). */
export function argDomain(def: OpDefinition, i: number): Interval {
  return def.domain?.[i] ?? REAL;
}

/** Rounds to 6 significant digits, so generated constants print short. */
function tidy(v: number): number {
  return Number(v.toPrecision(6));
}

/**
 * The closed interval the fuzzer draws an argument from: strictly inside the open domain
 * (1% in from a finite end, 0.05 in from a half-line's end) and at most 8 wide on a line.
 *
 * @example
 * ```ts
 * workingInterval([0, Infinity]); // [0.05, 4.05]
 * workingInterval([-Infinity, Infinity]); // [-4, 4]
 * ```
 */
export function workingInterval(domain: Interval): Interval {
  const [lo, hi] = domain;
  if (Number.isFinite(lo) && Number.isFinite(hi)) {
    const pad = (hi - lo) / 100;
    return [lo + pad, hi - pad];
  }
  if (Number.isFinite(lo)) return [tidy(lo + 0.05), tidy(lo + 0.05 + REACH)];
  if (Number.isFinite(hi)) return [tidy(hi - 0.05 - REACH), tidy(hi - 0.05)];
  return [-REACH, REACH];
}

/** a + b, printed without a negative literal: a - |b| when b < 0. */
function plus(a: Expr, b: number): Expr {
  if (b === 0) return a;
  return b > 0 ? call("add", [num(b), a]) : call("sub", [a, num(-b)]);
}

function times(k: number, a: Expr): Expr {
  if (k === 1) return a;
  return k > 0 ? call("mul", [num(k), a]) : call("neg", [call("mul", [num(-k), a])]);
}

/**
 * A leaf: the variable `v` (ranging over [-1, 1]) mapped affinely onto `target`'s working
 * interval, e.g. `0.5 + 0.49*x` for (0, 1). With `wide` false on the real line it is `v` alone.
 */
export function leafInto(target: Interval, v: Expr, wide = true): Expr {
  const [lo, hi] = workingInterval(target);
  if (!Number.isFinite(target[0]) && !Number.isFinite(target[1])) return wide ? times(REACH, v) : v;
  const mid = tidy((lo + hi) / 2);
  // Never past the working interval, even after rounding the constants.
  const half = Number(Math.min(mid - lo, hi - mid).toPrecision(5));
  return plus(times(half, v), mid);
}

/**
 * Squashes any real-valued expression into the open interval `target`:
 * `mid + half*sin(e)` (bounded: unlike sigmoid, sin never saturates, so its derivative keeps its
 * precision), `lo + softplus(e)` (a half-line), `e` (the real line). The constants sit strictly
 * inside the domain, so rounding to an endpoint stays inside.
 */
export function fitInto(target: Interval, e: Expr): Expr {
  const [dlo, dhi] = target;
  if (!Number.isFinite(dlo) && !Number.isFinite(dhi)) return e;
  const [lo, hi] = workingInterval(target);
  if (Number.isFinite(dlo) && Number.isFinite(dhi)) {
    const mid = tidy((lo + hi) / 2);
    const half = Number(Math.min(mid - lo, hi - mid).toPrecision(5));
    return plus(times(half, call("sin", [e])), mid);
  }
  if (Number.isFinite(dlo)) return plus(call("softplus", [e]), lo);
  const sp = call("softplus", [e]);
  return hi >= 0 ? call("sub", [num(hi), sp]) : call("neg", [plus(sp, -hi)]);
}
