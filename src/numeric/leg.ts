/**
 * The numeric leg's entry point: the gradient of an `Expr` at a point from the forward function
 * alone. "auto" takes the complex step where it applies (machine precision; custom ops in forward
 * mode with finite-difference partials of their own), else Richardson extrapolation; inputs above
 * 10^3 elements get the fast mode (one directional derivative uᵀ∇f, plus per-element partials of
 * every scalar input and of the inputs small enough to afford). When its estimates cannot certify
 * themselves (independent step sequences disagree), the result says so in `unreliable`.
 */
import { GradtrioError } from "../errors.ts";
import type { Expr } from "../expr/ast.ts";
import { elementLabel, type Value } from "../expr/point.ts";
import {
  breakpointAt,
  complexStepAlong,
  complexStepGradient,
  type DirectionalStep,
} from "./complex-step.ts";
import { flattenValues, type Layout } from "./evaluate.ts";
import { directionalDerivative, gradient, randomUnitVector } from "./gradient.ts";
import { type Along, startElsewhere, type TimedLeg } from "./offload.ts";
import { cachedForward, customOpsOf, reusingPrograms } from "./programs.ts";
import {
  type DirectionalMethod,
  directionalMethodWords,
  type Kink,
  type NonFinite,
  NUMERIC_METHODS,
  type NumericMethod,
} from "./types.ts";

export type { NumericMethod };

/** Inputs with more elements than this get the fast mode under "auto". */
export const FAST_MODE_THRESHOLD = 1000;

/**
 * Fast mode still gives per-element partials (each as uᵀ∇f is taken, along a unit vector) of the
 * inputs whose elements, summed, times the point's elements stay within this (a partial costs a
 * complex evaluation of f or two, or Richardson's dozen; custom ops' sensitivities are measured
 * once for all); every scalar input has them whatever it costs.
 */
const FAST_PARTIALS_BUDGET = 2 ** 20;

export interface NumericLegOptions {
  readonly method?: NumericMethod;
  /** Seed of the random direction of the fast mode. */
  readonly seed?: number;
  /**
   * The inputs differentiated (default: all). Fast mode's direction u and its per-element partials
   * keep to them: the others are data, whose derivatives nobody asked for (a backward rule may
   * leave them out, as PyTorch's does for tensors without requires_grad).
   */
  readonly wrt?: readonly string[];
}

export interface NumericLegResult {
  /** f at the point. */
  readonly value: number;
  /**
   * The complex step's f at the point (its real part): the float64 intermediates whose chain rule
   * the gradients are. Absent for the other methods.
   */
  readonly chainValue?: number;
  /** What ran: "complex", "richardson", "central", "fast". */
  readonly method: string;
  /**
   * ∂f/∂(each variable), shaped flat like the variable; null on failure. Fast mode has only the
   * inputs it can afford (every scalar input), or null when it can afford none.
   */
  readonly gradients: Map<string, Float64Array> | null;
  /** Estimated bound on the absolute error of each gradient element. */
  readonly errors: Map<string, Float64Array> | null;
  /**
   * Fast mode: uᵀ∇f along the unit vector u (flat over the variables in order), and how; and how
   * the per-element partials in `gradients` were taken (each method that ran, in the order met;
   * empty without partials).
   */
  readonly directional?: {
    u: Float64Array;
    value: number;
    error: number;
    method: DirectionalMethod;
    partialsBy: readonly DirectionalMethod[];
  };
  readonly kinks: Kink[];
  /**
   * The breakpoint of a piecewise op (or a domain edge) the point sits on, in words
   * (`relu at 0`), whether or not the function has a kink there (relu(x)·x has none).
   */
  readonly breakpoint?: string;
  /** A point where f is not finite, which left the gradient undefined. */
  readonly nonFinite?: NonFinite;
  /**
   * Set when the leg cannot certify its own answer (why, and where): its error estimates may not
   * bound its error, so it must not outvote another leg.
   */
  readonly unreliable?: string;
  readonly notes: string[];
}

/**
 * Differentiates `expr` at `values` by finite differences (or the complex step).
 *
 * @example
 * ```ts
 * const r = numericLeg(parse("sin(x^2)"), toValues({ x: 3 }));
 * r.method; // "complex"
 * r.gradients.get("x"); // Float64Array [-5.466781571308061]
 * ```
 */
export function numericLeg(
  expr: Expr,
  values: Map<string, Value>,
  opts: NumericLegOptions = {},
): NumericLegResult {
  return runNumericLeg(expr, values, opts);
}

/**
 * `numericLeg`, calling `beat` after each evaluation over the point that fast mode makes (f, each
 * complex step, each of Richardson's evaluations): the worker thread's heartbeat (`leg-thread.ts`).
 */
export function runNumericLeg(
  expr: Expr,
  values: Map<string, Value>,
  opts: NumericLegOptions,
  beat?: () => void,
): NumericLegResult {
  // One program per input layout for every evaluation of the leg, whatever the inputs' size.
  return reusingPrograms(() => differentiate(expr, values, opts, beat));
}

/** Inputs of at least this many elements have fast mode's numeric leg run elsewhere. */
export const OFFLOAD_MIN = 1 << 16;

/**
 * `numericLeg` in two steps, for a caller with other work to do meanwhile (the checker's other
 * legs): it starts the leg on the installed runner (`offload.ts`) when fast mode applies to large
 * inputs (OFFLOAD_MIN) that call no custom op (a worker thread has the built-ins only), and
 * returns what takes its result, or runs it here, with the leg's own time where it ran. The same
 * numbers as `numericLeg`.
 */
export function startNumericLeg(
  expr: Expr,
  values: Map<string, Value>,
  opts: NumericLegOptions = {},
): (() => TimedLeg) & { readonly elsewhere: boolean } {
  let n = 0;
  for (const v of values.values()) n += v.data.length;
  const pending =
    (opts.method ?? "auto") === "auto" && n >= OFFLOAD_MIN && customOpsOf(expr).length === 0
      ? startElsewhere({ expr, values, opts })
      : undefined;
  // Bad input fails there too: the leg then runs here and throws it, as `numericLeg` would.
  const finish = () => {
    const there = pending?.take();
    if (there !== undefined) return there;
    const t0 = performance.now();
    const result = numericLeg(expr, values, opts);
    return { result, ms: performance.now() - t0 };
  };
  // `elsewhere`: the leg runs on another thread meanwhile (this one would wait for it).
  return Object.assign(finish, { elsewhere: pending !== undefined });
}

/** The derivative of f along e_c, `unit` (all 0) set to e_c meanwhile. */
function partialAt(
  complex: (u: Float64Array, whatever?: boolean) => DirectionalStep,
  x: Float64Array,
  f: (x: Float64Array) => number,
  value: number,
  unit: Float64Array,
  c: number,
): Along {
  unit[c] = 1;
  try {
    return along(complex, x, f, value, unit, c);
  } finally {
    unit[c] = 0;
  }
}

function differentiate(
  expr: Expr,
  values: Map<string, Value>,
  opts: NumericLegOptions,
  beat?: () => void,
): NumericLegResult {
  const requested = opts.method ?? "auto";
  if (!(NUMERIC_METHODS as readonly string[]).includes(requested))
    throw new GradtrioError(
      "INVALID_ARGUMENT",
      `unknown numeric method '${requested}' (${NUMERIC_METHODS.join(", ")})`,
    );
  const { x, layout } = flattenValues(values);
  const f = cachedForward(expr, layout);
  const value = f(x);
  beat?.();
  const notes: string[] = [];
  const n = x.length;
  let method = requested;
  if (method === "auto" && n > FAST_MODE_THRESHOLD) method = "fast";
  const names = method === "fast" ? fastPartials(values, layout, n, opts.wrt) : [];
  if (method !== requested) {
    const each =
      names.length === 0
        ? "instead of each element"
        : `and per element only ${names.join(", ")} (every scalar input, and others while their elements together × ${n} ≤ 2^${Math.log2(FAST_PARTIALS_BUDGET)})`;
    notes.push(
      `fast mode: ${n} input elements (> ${FAST_MODE_THRESHOLD}), so the numeric leg checks one directional derivative uᵀ∇f along a random unit vector u, ${each}`,
    );
  }
  const base = { value, kinks: [] as Kink[], notes };
  if (!Number.isFinite(value))
    return {
      ...base,
      // What would have run: the complex step needs a finite f(x), so "auto" is Richardson.
      method: method === "auto" || method === "complex" ? "richardson" : method,
      gradients: null,
      errors: null,
      nonFinite: { coordinate: -1, step: 0, where: `f(x) = ${value} at the point itself` },
    };

  const label = labeller(values);
  const split = (flat: Float64Array) => {
    const out = new Map<string, Float64Array>();
    for (const [name, slot] of layout)
      out.set(name, flat.slice(slot.offset, slot.offset + values.get(name)!.data.length));
    return out;
  };

  if (method === "fast") {
    const u = directionOver(values, layout, n, opts.seed ?? 1, opts.wrt);
    // uᵀ∇f and every partial share the custom ops' sensitivities, measured once.
    let directions = 1;
    for (const name of names) directions += values.get(name)!.data.length;
    const complex = complexStepAlong(expr, layout, x, directions);
    // Each evaluation of f beats (Richardson's take dozens: at 10^6 elements, seconds).
    const fb =
      beat === undefined
        ? f
        : (p: Float64Array) => {
            const v = f(p);
            beat();
            return v;
          };
    const d = along(complex, x, fb, value, u);
    beat?.();
    notes.push(d.note);
    const gradients = new Map<string, Float64Array>();
    const errors = new Map<string, Float64Array>();
    const unreliable =
      d.unreliable === undefined
        ? []
        : [d.method === "richardson" ? `uᵀ∇f: ${d.unreliable}` : d.unreliable];
    let nonFinite = d.nonFinite;
    const how = new Set<DirectionalMethod>();
    const unit = new Float64Array(n);
    for (const name of names) {
      const { offset } = layout.get(name)!;
      const size = values.get(name)!.data.length;
      const g = new Float64Array(size);
      const e = new Float64Array(size);
      for (let k = 0; k < size; k++) {
        const p = partialAt(complex, x, fb, value, unit, offset + k);
        beat?.();
        g[k] = p.derivative;
        e[k] = p.error;
        how.add(p.method);
        if (p.unreliable !== undefined) unreliable.push(`${label(offset + k)}: ${p.unreliable}`);
        if (p.kink !== undefined) base.kinks.push({ ...p.kink, label: label(offset + k) });
        if (p.nonFinite !== undefined && !Number.isFinite(p.derivative))
          nonFinite ??= { ...p.nonFinite, where: `${label(offset + k)}: ${p.nonFinite.where}` };
      }
      gradients.set(name, g);
      errors.set(name, e);
    }
    if (names.length > 0)
      notes.push(
        `fast mode: ${names.join(", ")} per element by ${[...how].map(directionalMethodWords).join(" and ")}`,
      );
    return {
      ...base,
      method: "fast",
      directional: {
        u,
        value: d.derivative,
        error: d.error,
        method: d.method,
        partialsBy: [...how],
      },
      gradients: names.length === 0 ? null : gradients,
      errors: names.length === 0 ? null : errors,
      ...(nonFinite === undefined ? {} : { nonFinite }),
      ...(unreliable.length === 0 ? {} : { unreliable: unreliable.join("; ") }),
    };
  }

  if (method === "auto" || method === "complex") {
    const c = complexStepGradient(expr, layout, x);
    const complex = c.ok
      ? {
          ...base,
          method: "complex",
          chainValue: c.value,
          gradients: split(c.gradient),
          errors: split(c.error),
          ...(c.unreliable === undefined ? {} : { unreliable: c.unreliable }),
        }
      : null;
    if (complex !== null && complex.unreliable === undefined) return complex;
    notes.push(
      c.ok
        ? `complex step: ${c.unreliable}; used Richardson extrapolation`
        : `${c.reason}; used Richardson extrapolation`,
    );
    const r = richardsonLeg(f, x, value, label, split, notes);
    // Both uncertified: the forward-mode answer, whose error covers its partials' disagreement.
    if (r.unreliable !== undefined && complex !== null) return complex;
    return { ...base, ...r, ...breakpoint(expr, layout, x) };
  }
  return {
    ...base,
    ...richardsonLeg(f, x, value, label, split, notes, method),
    ...breakpoint(expr, layout, x),
  };
}

/**
 * The derivative of f along u (fast mode's uᵀ∇f, or, with `coordinate`, the partial along that
 * unit vector): the complex step where it applies, else Richardson extrapolation along u (a
 * partial: on the coordinate's line, as the leg takes each partial without fast mode, with its
 * search for a kink); what ran and why in `note`.
 */
function along(
  complex: (u: Float64Array, whatever?: boolean) => DirectionalStep,
  x: Float64Array,
  f: (x: Float64Array) => number,
  value: number,
  u: Float64Array,
  coordinate?: number,
): Along {
  const byComplexStep = (
    c: { derivative: number; error: number; unreliable?: string },
    note: string,
  ) => ({
    derivative: c.derivative,
    error: c.error,
    method: "complex" as const,
    note,
    ...(c.unreliable === undefined ? {} : { unreliable: c.unreliable }),
  });
  const fastMode = (m: DirectionalMethod) => `fast mode by ${directionalMethodWords(m)} along u`;
  const c = complex(u);
  if (c.ok) return byComplexStep(c, fastMode("complex"));
  const d: Estimated =
    coordinate === undefined
      ? directionalDerivative(f, x, u, { f0: value })
      : onCoordinate(f, x, value, coordinate);
  // Many custom op elements only made the complex step costly: where Richardson meets a value
  // that is not finite along u (a domain edge within its steps), the complex step decides.
  if (c.costly === true && (!Number.isFinite(d.derivative) || d.nonFinite !== undefined)) {
    const all = complex(u, true);
    if (all.ok)
      return byComplexStep(
        all,
        `${c.reason}; Richardson along u met a value that is not finite; ${fastMode("complex")}`,
      );
  }
  return {
    derivative: d.derivative,
    error: d.error,
    method: "richardson",
    note: `${c.reason}; ${fastMode("richardson")}`,
    ...(Number.isFinite(d.derivative) || d.nonFinite === undefined
      ? {}
      : { nonFinite: d.nonFinite }),
    ...(d.unreliable === undefined ? {} : { unreliable: d.unreliable }),
    ...(d.kink === undefined ? {} : { kink: d.kink }),
  };
}

/** A derivative along a direction by Richardson extrapolation, and what it met. */
interface Estimated {
  readonly derivative: number;
  readonly error: number;
  readonly nonFinite?: NonFinite;
  readonly unreliable?: string;
  readonly kink?: Kink;
}

/**
 * The partial along coordinate c by Richardson extrapolation on its line, as the leg takes each
 * partial without fast mode (`gradient`): with its check of independent step sequences and its
 * search for a kink (left and right derivatives apart; the error then spans them).
 */
function onCoordinate(
  f: (x: Float64Array) => number,
  x: Float64Array,
  value: number,
  c: number,
): Estimated {
  const g = gradient(f, x, { method: "richardson", f0: value, coordinates: [c] });
  // A value that is not finite met on the way counts, the derivative found or not (a costly
  // custom op's complex step then decides: `along`).
  const [nonFinite = g.nonFiniteMet[0]] = g.nonFinite;
  const [unreliable] = g.unreliable;
  const [kink] = g.kinks;
  return {
    derivative: g.gradient[c]!,
    error: g.error[c]!,
    ...(nonFinite === undefined ? {} : { nonFinite }),
    ...(unreliable === undefined ? {} : { unreliable: unreliable.reason }),
    ...(kink === undefined ? {} : { kink }),
  };
}

/**
 * Fast mode's random unit vector u over the n coordinates, zero outside the inputs in `wrt` (all
 * by default): a unit vector over theirs (seeded), in the layout's order.
 */
function directionOver(
  values: Map<string, Value>,
  layout: Layout,
  n: number,
  seed: number,
  wrt?: readonly string[],
): Float64Array {
  const kept = [...layout].filter(([name]) => wrt === undefined || wrt.includes(name));
  let m = 0;
  for (const [name] of kept) m += values.get(name)!.data.length;
  if (m === n || m === 0) return randomUnitVector(n, seed);
  const v = randomUnitVector(m, seed);
  const u = new Float64Array(n);
  let o = 0;
  for (const [name, { offset }] of kept) {
    const size = values.get(name)!.data.length;
    u.set(v.subarray(o, o + size), offset);
    o += size;
  }
  return u;
}

/** The inputs whose per-element partials fast mode affords (FAST_PARTIALS_BUDGET), in order. */
function fastPartials(
  values: Map<string, Value>,
  layout: Layout,
  n: number,
  wrt?: readonly string[],
): string[] {
  const out: string[] = [];
  let spent = 0;
  for (const name of layout.keys()) {
    if (wrt !== undefined && !wrt.includes(name)) continue;
    const size = values.get(name)!.data.length;
    if (size > 1 && (spent + size) * n > FAST_PARTIALS_BUDGET) continue;
    out.push(name);
    spent += size;
  }
  return out;
}

function breakpoint(expr: Expr, layout: Layout, x: Float64Array): { breakpoint?: string } {
  const at = breakpointAt(expr, layout, x);
  return at === null ? {} : { breakpoint: at };
}

/** The gradient by Richardson extrapolation (or plain central differences), kinks labelled. */
function richardsonLeg(
  f: (x: Float64Array) => number,
  x: Float64Array,
  value: number,
  label: (k: number) => string,
  split: (flat: Float64Array) => Map<string, Float64Array>,
  notes: string[],
  method: "richardson" | "central" = "richardson",
): Omit<NumericLegResult, "value" | "notes"> {
  const g = gradient(f, x, { method, f0: value });
  for (const note of g.notes) notes.push(note.replace(/^coordinate (\d+)/, (_, k) => label(+k)));
  const kinks = g.kinks.map((k) => ({ ...k, label: label(k.coordinate) }));
  const failed = g.nonFinite[0];
  const unreliable = g.unreliable.map((u) => `${label(u.coordinate)}: ${u.reason}`).join("; ");
  return {
    method,
    kinks,
    gradients: split(g.gradient),
    errors: split(g.error),
    ...(unreliable === "" ? {} : { unreliable }),
    ...(failed === undefined
      ? {}
      : {
          nonFinite: {
            ...failed,
            where: `${label(failed.coordinate)}: ${failed.where}; no finite stencil on either side`,
          },
        }),
  };
}

/** `x[1][2]` for a flat index into the concatenated variables. */
function labeller(values: Map<string, Value>): (k: number) => string {
  const names: { name: string; start: number; shape: readonly number[]; size: number }[] = [];
  let o = 0;
  for (const [name, v] of values) {
    names.push({ name, start: o, shape: v.shape, size: v.data.length });
    o += v.data.length;
  }
  return (k) => {
    const slot = names.find((s) => k >= s.start && k < s.start + s.size);
    if (slot === undefined) return `coordinate ${k}`;
    return elementLabel(slot.name, slot.shape, k - slot.start);
  };
}
