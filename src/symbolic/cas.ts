/**
 * The one place that talks to nerdamer. `casDiff` differentiates CAS text with respect to one
 * symbol and says plainly when the answer is not a real derivative: the CAS gave up (`diff(`
 * left in the answer), threw, or slipped in a rational stand-in for an irrational number
 * (`2^x` → `(49180508/70952475)*2^x`). Answers are cached (bounded) by input text.
 * Memory: the static `nerdamer.diff` keeps no expression history (`numExpressions()` stays 0;
 * `nerdamer(...)` would add to it), and 10^4 distinct differentiations leave the heap flat
 * (bench/symbolic.bench.ts), so no `clear`/`flush` is needed; our own cache is the bound.
 */
// "nerdamer-prime/all": the CAS with its add-ons (Calculus for diff) for both ESM and CommonJS
// (the package's plain CommonJS entry is the core alone). The CLI loads this module with the
// commands that differentiate, so `gradtrio --help` never loads the CAS.
import nerdamer from "nerdamer-prime/all";

export type CasAnswer =
  | { readonly ok: true; readonly text: string }
  | {
      readonly ok: false;
      readonly reason: string;
      /** nerdamer was stopped at `CAS_BUDGET_MS`: the input is too costly to derive whole. */
      readonly overBudget?: true;
    };

/**
 * The longest one call to nerdamer may run. Its time grows steeply with the expression: the
 * derivative of `a4` in `a0 = x; aₖ = aₖ₋₁^x + sin(aₖ₋₁)*cos(aₖ₋₁)` (721 characters written out)
 * takes 1.4 s, `a5` (2179) 10 s, `a8` hours; a sum of 200 short terms 20 s. A call past it is
 * stopped (`overBudget`): the symbolic leg composes that block's derivative from the ops' own
 * (README "Scale").
 */
export const CAS_BUDGET_MS = 2000;

/** Thrown inside nerdamer (from its parser's arithmetic) once a call's time is up. */
export class OverBudget extends Error {}
const OVER_BUDGET = new OverBudget("gradtrio: the CAS's time is up");

let deadline = Number.POSITIVE_INFINITY;
let ticks = 0;
/** Set once a call's time is up: nerdamer may catch the error and throw another of its own. */
let stopped = false;
// nerdamer has no way to stop a computation; every step of one goes through its parser's
// arithmetic (add, multiply, pow…), so those check the clock now and then. What an unwound
// computation leaves behind is put back (`stopped`).
const parser = (nerdamer as unknown as { getCore(): { PARSER: Record<string, unknown> } }).getCore()
  .PARSER;
for (const name of ["add", "subtract", "multiply", "divide", "pow", "callfunction", "parse"]) {
  const step = parser[name] as (...args: unknown[]) => unknown;
  parser[name] = function (this: unknown, ...args: unknown[]) {
    if (stopped || ((++ticks & 63) === 0 && performance.now() > deadline)) {
      stopped = true;
      throw OVER_BUDGET;
    }
    return step.apply(this, args);
  };
}
const settings = (
  nerdamer as unknown as { getCore(): { Settings: { PARSE2NUMBER: boolean } } }
).getCore().Settings;

/**
 * Runs `f` (calls to nerdamer) within `ms` (CAS_BUDGET_MS), or says it was stopped. nerdamer's `block`
 * sets PARSE2NUMBER around a computation without a `finally`: a stopped one leaves it set (e then
 * reads as 325368125/119696244 in every later answer), so it is put back.
 */
export function withinBudget<T>(f: () => T, ms = CAS_BUDGET_MS): T | OverBudget {
  const parse2number = settings.PARSE2NUMBER;
  deadline = performance.now() + ms;
  try {
    return f();
  } catch (e) {
    if (!stopped) throw e;
    settings.PARSE2NUMBER = parse2number;
    return OVER_BUDGET;
  } finally {
    deadline = Number.POSITIVE_INFINITY;
    stopped = false;
  }
}

const overBudget = (what: string): CasAnswer => ({
  ok: false,
  reason: `nerdamer did not finish ${what} in ${CAS_BUDGET_MS / 1000} s`,
  overBudget: true,
});

const CACHE_LIMIT = 4096;
const cache = new Map<string, CasAnswer>();

/** Calls to nerdamer since the process started (cache misses), for benchmarks and tests. */
export const casStats = { calls: 0, cacheHits: 0 };

/**
 * d(text)/d(symbol) by nerdamer, as nerdamer's text, or the reason there is no derivative.
 * @example casDiff("sin(v0^2)", "v0") // { ok: true, text: "2*cos(v0^2)*v0" }
 */
export function casDiff(text: string, symbol: string): CasAnswer {
  const key = `${symbol}\u0000${text}`;
  const hit = cache.get(key);
  if (hit !== undefined) {
    casStats.cacheHits++;
    // Re-insert: the Map's insertion order is the LRU order.
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const answer = diffUncached(text, symbol);
  // Whether a call runs out of time depends on the machine's load: not kept (a block composed
  // for it keeps its plan, src/symbolic/leg.ts; an op's derivative is tried again next time).
  if (!answer.ok && answer.overBudget === true) return answer;
  cache.set(key, answer);
  if (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  return answer;
}

/**
 * A sum of products, simplified the way a student would: each product factored on its own
 * (cancelling factors such as p(1−p) against each other), then the sum expanded and factored.
 * (nerdamer's `simplify` returns wrong results on such products; `factor` does not.)
 * @example casSimplifySum(["((v0-v1)/(v0*(1-v0)))*(v0*(1-v0))*v2"]) // { ok: true, text: "(-v1+v0)*v2" }
 */
export function casSimplifySum(terms: readonly string[]): CasAnswer {
  casStats.calls++;
  try {
    const text = withinBudget(() => {
      const each = terms.map((t) => `(${nerdamer(`factor(${t})`).toString()})`);
      return nerdamer(`factor(expand(${each.join("+")}))`).toString();
    });
    return text instanceof OverBudget ? overBudget("simplifying") : { ok: true, text };
  } catch (e) {
    return { ok: false, reason: `nerdamer failed to simplify: ${(e as Error).message}` };
  } finally {
    nerdamer.flush(); // nerdamer(…) keeps each expression in its history
  }
}

/** Entries in the derivative cache (bounded by 4096). */
export function casCacheSize(): number {
  return cache.size;
}

/** Empties the derivative cache (tests, memory measurements). */
export function clearCasCache(): void {
  cache.clear();
}

function diffUncached(text: string, symbol: string): CasAnswer {
  casStats.calls++;
  let out: string;
  try {
    const answer = withinBudget(() => nerdamer.diff(text, symbol).toString());
    if (answer instanceof OverBudget) return overBudget(`d/d${symbol}`);
    out = answer;
  } catch (e) {
    return {
      ok: false,
      reason: `nerdamer failed on d/d${symbol} ${text}: ${(e as Error).message}`,
    };
  }
  if (text.includes("erf(")) out = exactErfDerivative(out);
  if (out.includes("diff("))
    return { ok: false, reason: `the CAS gave up: nerdamer left ${out} unevaluated` };
  const standIn = rationalStandIn(text, out);
  if (standIn !== undefined)
    return {
      ok: false,
      reason: `nerdamer replaced an irrational number by the rational approximation ${standIn} in ${out}`,
    };
  return { ok: true, text: out };
}

/** 2/√π as nerdamer writes it in d/dx erf(x) (a rational stand-in). */
const ERF_NUM = 37593262n;
const ERF_DEN = 33316161n;

const gcd = (a: bigint, b: bigint): bigint => (b === 0n ? a : gcd(b, a % b));

/**
 * nerdamer writes d/dx erf(u) = 2/√π·e^(−u²)·u' with rational stand-ins: `(37593262/33316161)`
 * for 2/√π (times small factors, and powers of it for nested erf) and
 * `119696244^E*325368125^(-E)` for e^(−E) (325368125/119696244 ≈ e). Those exact numbers are
 * put back: `1^E*ce^(-E)` and `(a/b*2^m*cpi^(-m/2))` for (a/b)·(2/√π)^m, in the writer's symbols.
 */
function exactErfDerivative(out: string): string {
  const exp = out.replace(/\b119696244\^/g, "1^").replace(/\b325368125\^/g, "ce^");
  return exp.replace(/\b(\d{7,})\/(\d{7,})\b/g, (whole, p: string, q: string) => {
    for (let m = 1; m <= 4; m++) {
      const mb = BigInt(m);
      let a = BigInt(p) * ERF_DEN ** mb;
      let b = BigInt(q) * ERF_NUM ** mb;
      const g = gcd(a, b);
      a /= g;
      b /= g;
      if (a <= 1_000_000n && b <= 1_000_000n) return `(${a}/${b}*2^${m}*cpi^(-${m}/2))`;
    }
    return whole;
  });
}

/**
 * nerdamer approximates irrational numbers (log 3, e, pi) by fractions of 8–9 digit integers
 * (`30312094/27591257`, `325368125^x`) when it evaluates them. The writer sends every number but
 * a small integer, e, pi and the logs of constants as symbols, so nerdamer computes with integers
 * only: an exact answer's denominators and numeric power bases are products of the primes of the
 * input's integers and of the small factors derivative rules bring (x/3 gives 3^14 = 4782969 in
 * d/dx (x/3)^15). A number with another prime factor did not come from the input: a stand-in.
 */
function rationalStandIn(input: string, output: string): string | undefined {
  // Derivative rules bring small factors of their own (d/dx sqrt(u) = u'/(2·sqrt(u))).
  const known = [...new Set(input.match(NUMBER) ?? [])]
    .map(BigInt)
    .filter((n) => n > 1n)
    .concat(SMALL_PRIMES);
  const explained = (text: string): boolean => {
    let n = BigInt(text);
    if (n === 0n) return true;
    for (const k of known) {
      let g = gcd(n, k);
      while (g > 1n) {
        n /= g;
        g = gcd(n, k);
      }
    }
    return n <= 1n;
  };
  for (const m of output.matchAll(/(?<![\w.])(\d+)\/(\d+)/g))
    if (!explained(m[2]!)) return `${m[1]}/${m[2]}`;
  for (const m of output.matchAll(/(?<![\w.])(\d+)\^/g)) if (!explained(m[1]!)) return m[1]!;
  return undefined;
}

/** An integer literal, not the digits of a name (`k0`, `v12`). */
const NUMBER = /(?<![\w.])\d+/g;
const SMALL_PRIMES = [2n, 3n, 5n, 7n, 11n, 13n];
