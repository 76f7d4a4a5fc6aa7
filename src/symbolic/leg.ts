/**
 * The symbolic leg: the gradient of a scalar `Expr` from CAS-derived formulas, by structure.
 * The expression splits into elementwise blocks (templates over scalar symbols) joined by
 * reductions and matmuls. Each block is differentiated once per leaf by nerdamer, whatever the
 * number of elements, and evaluated column-wise; `sum`, `mean` and `matmul` pass gradients on by
 * their linear rules (mean: g/n; C = A B: dA = G Bᵀ, dB = Aᵀ G).
 */
import { mapPacked } from "../arrays.ts";
import { GradtrioError } from "../errors.ts";
import { type CallExpr, type Expr, flatExpr, postOrder, variablesOf } from "../expr/ast.ts";
import { broadcastIndex, sumTo } from "../expr/broadcast.ts";
import { ExprMemo } from "../expr/memo.ts";
import {
  branchesOf,
  isBuiltinOp,
  lookupCustomOp,
  type OpDefinition,
  stillRegistered,
} from "../expr/ops.ts";
import { sizeOf, type Value } from "../expr/point.ts";
import { print as exprText } from "../expr/print.ts";
import { expandCustomOps, expandedFrom } from "../expr/tensor-op.ts";
import { CAS_BUDGET_MS, casDiff } from "./cas.ts";
import {
  composedDerivatives,
  composedGradientAt,
  composingDerivatives,
  gradientAt,
} from "./compose.ts";
import {
  type Column,
  compileFormula,
  compileFormulas,
  compileFormulasWithError,
  compileOverflowCheck,
} from "./evaluate.ts";
import {
  type Formula,
  fadd,
  fconst,
  fdisplay,
  fmul,
  fnum,
  fratio,
  fsym,
  simplify,
  symbolsOf,
} from "./formula.ts";
import { type Arr, asMatrix, expandArr, forwardValues } from "./forward.ts";
import { type Declined, declined, KinkFound, Unavailable } from "./outcome.ts";
import { latexName, type SymbolNames, toLatex, toPlain } from "./print.ts";
import { readCas } from "./read-cas.ts";
import { type Branch, CasWriter } from "./to-cas.ts";

export type SymbolicLegResult =
  | {
      readonly status: "ok";
      /** One gradient per variable of the point, row-major like the variable's data. */
      readonly gradients: Map<string, Float64Array>;
      /**
       * Per variable, the CAS formula of its gradient. For a vector variable it is the template
       * for one element (`mean(x^2)`, n = 3: `2*x/3`); a scalar variable that meets a vector sums
       * the template over the elements (`sum(…)`); a value computed by a reduction or matmul shows
       * as its own text (`sum(x*y)`).
       */
      readonly formulas: Map<string, string>;
      readonly latex: Map<string, string>;
      /** How the leg got its answer where that is not the usual way (no formula shown, why). */
      readonly note?: string;
    }
  | Declined;

/**
 * What a block derives at one branch pattern: the CAS derivative per leaf, its leaves (`slots`)
 * and the compiled evaluator. It depends on the expression's structure, the branches and the
 * custom ops' definitions, not on the point, so it is kept per top-level `Expr` object.
 */
interface BlockPlan {
  readonly id: number;
  readonly dfs: readonly Formula[];
  readonly slots: readonly string[];
  readonly run: (cols: Column[]) => Column[];
  readonly defs: readonly (readonly [string, OpDefinition | undefined])[];
  /** `run` one element at a time with a rounding bound beside each value, compiled on demand. */
  withError?: ReturnType<typeof compileFormulasWithError>;
  /** Which formulas overflow at one element, compiled on demand (where a value is not finite). */
  overflow?: ReturnType<typeof compileOverflowCheck>;
  /** Composed from the ops' derivatives because the CAS ran over budget on the block whole. */
  readonly overBudget: boolean;
}

/** Which gradient elements want a rounding bound (all when `only` is absent), and the bounds. */
interface RoundingState {
  readonly only: ReadonlyMap<string, readonly number[]> | undefined;
  /** Reductions and matmuls whose gradient flows to a requested element: needed entirely. */
  readonly needed: Set<Expr>;
  readonly grads: Map<string, Float64Array>;
  readonly upstream: Map<Expr, Float64Array>;
}

const EPS = Number.EPSILON;
/** An underflow may lose up to the smallest subnormal, once per operation. */
const TINY = Number.MIN_VALUE;

interface Shown {
  readonly formulas: Map<string, string>;
  readonly latex: Map<string, string>;
}
const NOT_SHOWN: Shown = { formulas: new Map(), latex: new Map() };
const OVER_BUDGET_NOTE = `symbolic: nerdamer did not finish the derivative whole in ${CAS_BUDGET_MS / 1000} s, so the leg composed each op's CAS derivative by the chain rule (no formula shown)`;

interface Plans {
  readonly blocks: Map<string, BlockPlan>;
  /** Display formulas by variable shapes and the blocks' plans. */
  readonly shown: Map<string, Shown>;
}

/** Entries per expression before its plans are dropped and rebuilt. */
const PLANS_LIMIT = 256;
const plansByExpr = new ExprMemo<Expr, Plans>();
let nextPlanId = 0;

function plansFor(expr: Expr): Plans {
  let p = plansByExpr.get(expr);
  if (p === undefined) plansByExpr.set(expr, (p = { blocks: new Map(), shown: new Map() }));
  if (p.blocks.size > PLANS_LIMIT) p.blocks.clear();
  if (p.shown.size > PLANS_LIMIT) p.shown.clear();
  return p;
}

/**
 * Ops between elementwise blocks: the reductions, softmax and matmul. Their values are leaves of
 * the blocks around them; `passOn` carries the gradient across each.
 */
const BETWEEN_BLOCKS = new Set(["sum", "mean", "max", "min", "logsumexp", "softmax", "matmul"]);
const isBetweenBlocks = (e: Expr): e is CallExpr => e.kind === "call" && BETWEEN_BLOCKS.has(e.op);

/**
 * ∂/∂u of a CAS template in u and other symbols, derived by nerdamer once and compiled: the
 * local derivatives of logsumexp and softmax, by the CAS like every other derivative of this leg.
 * `ce` is e. Evaluated at shifted arguments (x − max), where the templates cannot overflow.
 */
const templateDerivatives = new Map<string, (args: number[]) => number>();
function templateDerivative(text: string, slots: readonly string[]): (args: number[]) => number {
  let run = templateDerivatives.get(text);
  if (run === undefined) {
    const answer = casDiff(text, "u");
    if (!answer.ok) throw new Unavailable(`d/du ${text}: ${answer.reason}`);
    const f = readCas(answer.text, (n) =>
      n === "ce" ? fconst("e") : slots.includes(n) ? fsym(n) : undefined,
    );
    const compiled = compileFormula(f, slots);
    run = (args) => compiled(args) as number;
    templateDerivatives.set(text, run);
  }
  return run;
}
// logsumexp of u and the rest, whose exponentials (shifted by the max) sum to s
const LOGSUMEXP = "log((ce^u)+s)";
// softmax at u (the rest sums to s), and softmax at v as a function of u (the rest sums to r)
const SOFTMAX_SELF = "(ce^u)/((ce^u)+s)";
const SOFTMAX_OTHER = "(ce^v)/((ce^u)+(ce^v)+r)";

/**
 * Differentiates `expr` at the point `values` by the CAS (nerdamer), one variable at a time.
 * Bad input (unknown variable, shape mismatch, non-scalar output) throws a `GradtrioError`; a
 * derivative the CAS did not really derive comes back as "unavailable" with the reason, and a
 * piecewise op on its breakpoint as "kink".
 * @example
 * const r = symbolicLeg(call("sin", [call("pow", [variable("x"), num(2)])]), toValues({ x: 3 }));
 * // r.status === "ok"; r.gradients.get("x") ≈ [-5.4668]; r.formulas.get("x") === "2*x*cos(x^2)"
 */
export function symbolicLeg(input: Expr, values: ReadonlyMap<string, Value>): SymbolicLegResult {
  const expr = expandCustomOps(input);
  if (typeof expr === "string") return { status: "unavailable", reason: expr };
  const fwd = forwardValues(expr, values);
  const out = fwd.get(expr)!;
  if (out.shape.length !== 0)
    throw new GradtrioError(
      "NON_SCALAR",
      `the output must be a scalar, got shape [${out.shape.join(", ")}]`,
    );
  try {
    return (
      (composingDerivatives() ? oneScalarBlock(expr, values, fwd) : undefined) ??
      new Backward(expr, values, fwd).run()
    );
  } catch (e) {
    return declined(e);
  }
}

/**
 * The fuzzer's usual case: every value one element, so the expression is one block of one
 * element. Its gradient by the chain rule on the templates' values (`gradientAt`), without the
 * block machinery. A reduction of one element (`sum`, `mean`, `max`, `min`, `logsumexp`) is that
 * element, its gradient passed on whole (the linear rules, and logsumexp's CAS template, at one
 * element); `softmax` of one element is 1, a leaf (gradient 0). Undefined where the general path
 * must decide and word the outcome: a vector, a kink, a template the CAS cannot derive, a value
 * that is not finite (the compiled plan tells an overflow), a matmul (of 1×1 matrices).
 */
function oneScalarBlock(
  expr: Expr,
  values: ReadonlyMap<string, Value>,
  fwd: Map<Expr, Arr>,
): SymbolicLegResult | undefined {
  for (const v of values.values()) if (v.data.length !== 1) return undefined;
  const flat = flatExpr(expr);
  const { nodes, argStart } = flat;
  const leafKeys: (string | undefined)[] = mapPacked(nodes, () => undefined);
  const branches = new Map<Expr, Branch>();
  // Each one-element reduction stands for its argument (by index), transitively.
  let through: Int32Array | undefined;
  const target = (n: number): number => through?.[n] ?? n;
  for (let n = 0; n < nodes.length; n++) {
    const e = nodes[n]!;
    if (e.kind === "var") leafKeys[n] = e.name;
    if (e.kind !== "call") continue;
    if (e.op === "matmul") return undefined;
    if (BETWEEN_BLOCKS.has(e.op)) {
      // A leaf outside the keys: no template, no gradient of its own.
      leafKeys[n] = `#${n}`;
      if (e.op === "softmax") continue;
      if (through === undefined) through = Int32Array.from(nodes, (_, k) => k);
      through[n] = target(flat.args[argStart[n]!]!);
      continue;
    }
    const pieces = branchesOf(e.op);
    if (pieces === undefined) continue;
    const [u, v, w] = mapPacked([0, 1, 2], (j) =>
      j < e.args.length ? fwd.get(e.args[j]!)!.data[0]! : 0,
    );
    const c = pieces.at(u!, v!, w!);
    if (c < 0) return undefined;
    branches.set(e, c as Branch);
  }
  const block = {
    // A literal in flatExpr's order (a spread copy would have a V8 map of its own).
    flat:
      through === undefined
        ? flat
        : { nodes: flat.nodes, argStart: flat.argStart, args: flat.args.map(target) },
    leafKeys,
    root: target(nodes.length - 1),
  };
  const keys = [...values.keys()];
  let g: number[];
  try {
    g = gradientAt(
      block,
      (e) => branches.get(e)!,
      keys,
      (k) => (k.startsWith("#") ? fwd.get(nodes[Number(k.slice(1))]!)! : values.get(k)!).data[0]!,
    );
  } catch (e) {
    if (e instanceof Unavailable) return undefined;
    throw e;
  }
  if (!g.every(Number.isFinite)) return undefined;
  const gradients = new Map<string, Float64Array>();
  for (let k = 0; k < keys.length; k++) gradients.set(keys[k]!, Float64Array.of(g[k]!));
  // No display formulas while composing (see `run`).
  return { status: "ok", gradients, formulas: new Map(), latex: new Map() };
}

/**
 * The vector–Jacobian product seedᵀ·J of a (non-scalar) `expr` by the same CAS templates as
 * `symbolicLeg`, per variable; `fwd` is `forwardValues(expr, values)`. With `capture`, the root
 * block's per-element contributions of each variable it reads directly are stored there before
 * the broadcast sum: with a seed of ones on an elementwise expression they are the Jacobian's
 * nonzero entries. Throws `Unavailable` or `KinkFound` (see `symbolicLeg`).
 */
export function symbolicPullback(
  expr: Expr,
  values: ReadonlyMap<string, Value>,
  fwd: Map<Expr, Arr>,
  seed: Float64Array,
  capture?: Map<string, Float64Array>,
): Map<string, Float64Array> {
  return new Backward(expr, values, fwd, undefined, seed, capture).pullback();
}

/**
 * A first-order bound on the rounding error with which the symbolic leg evaluates each gradient
 * element: the running error of each CAS formula as compiled (`compileFormulasWithError`), of
 * the products with the upstream gradient, of the sums over broadcast elements (Σ bounds +
 * eps·Σ|terms|·(n−1)) and of the linear maps (mean, matmul). It reuses the formulas `symbolicLeg`
 * derived, and is the symbolic leg's own: where the CAS arranges a formula that cancels
 * (`x*(x-1)-x+1`) its bound grows where the expression's structure shows no cancellation. Inputs
 * and the forward values of reductions and matmuls are taken as exact (autograd computes the same
 * values; their rounding is the structural bound's part).
 *
 * With `only` (element indices per variable), just the elements those bounds depend on are
 * evaluated; every other element is NaN. Null where the leg is not ok (unavailable, kink).
 * @example
 * symbolicRounding(parse("x^2"), toValues({ x: 3 }))!.get("x") // [≈ eps·6]
 */
export function symbolicRounding(
  input: Expr,
  values: ReadonlyMap<string, Value>,
  only?: ReadonlyMap<string, readonly number[]>,
): Map<string, Float64Array> | null {
  const expr = expandCustomOps(input);
  if (typeof expr === "string") return null;
  const fwd = forwardValues(expr, values);
  if (fwd.get(expr)!.shape.length !== 0) return null;
  try {
    return new Backward(expr, values, fwd, { only }).rounding();
  } catch (e) {
    if (e instanceof Unavailable || e instanceof KinkFound) return null;
    throw e;
  }
}

class Backward {
  private readonly grads = new Map<string, Float64Array>();
  private readonly gradFormulas = new Map<string, Formula[]>();
  private readonly upstream = new Map<Expr, Float64Array>();
  private readonly upFormulas = new Map<Expr, Formula[]>();
  private readonly dependsOnVar = new Set<Expr>();
  private readonly order: readonly Expr[];
  private readonly plans: Plans;
  private readonly index = new Map<Expr, number>();
  /** The plans this run used, in order: with the shapes, they determine the display formulas. */
  private signature = "";
  /**
   * A block of this run was too costly for the CAS whole (`CAS_BUDGET_MS`) and was composed: its
   * formula, the ops' derivatives substituted into each other, is no formula to show.
   */
  private overBudget = false;
  /** Set when the run bounds its own rounding (`symbolicRounding`). */
  private readonly err: RoundingState | null = null;

  constructor(
    private readonly expr: Expr,
    private readonly values: ReadonlyMap<string, Value>,
    private readonly fwd: Map<Expr, Arr>,
    rounding?: { readonly only: ReadonlyMap<string, readonly number[]> | undefined },
    /** A vector–Jacobian product: the upstream gradient at a non-scalar root (else 1). */
    private readonly seed?: Float64Array,
    /** Per variable leaf of the root block, its contributions before the broadcast sum. */
    private readonly capture?: Map<string, Float64Array>,
  ) {
    this.order = postOrder(expr);
    this.plans = plansFor(expr);
    for (let i = 0; i < this.order.length; i++) this.index.set(this.order[i]!, i);
    for (const e of this.order)
      if (e.kind === "var" || (e.kind === "call" && e.args.some((a) => this.dependsOnVar.has(a))))
        this.dependsOnVar.add(e);
    for (const [name, v] of values) this.grads.set(name, new Float64Array(v.data.length));
    if (rounding !== undefined) {
      const { only } = rounding;
      const reaches = new Set<Expr>();
      for (const e of this.order)
        if (
          (e.kind === "var" && (only === undefined || (only.get(e.name)?.length ?? 0) > 0)) ||
          (e.kind === "call" && e.args.some((a) => reaches.has(a)))
        )
          reaches.add(e);
      const grads = new Map<string, Float64Array>();
      for (const [name, v] of values) grads.set(name, new Float64Array(v.data.length));
      this.err = {
        only,
        needed: new Set([...reaches].filter(isBetweenBlocks)),
        grads,
        upstream: new Map(),
      };
    }
  }

  /** Runs the blocks from the root down, and the linear maps between them. */
  private propagate(): void {
    const root = this.expr;
    if (isBetweenBlocks(root)) {
      this.upstream.set(root, this.seed?.slice() ?? Float64Array.of(1));
      this.err?.upstream.set(root, new Float64Array(this.seed?.length ?? 1));
      this.upFormulas.set(root, [fnum(1)]);
    } else this.block(root, this.seed ?? 1, fnum(1), 0);
    for (let i = this.order.length - 1; i >= 0; i--) {
      const e = this.order[i]!;
      if (isBetweenBlocks(e) && this.upstream.has(e)) this.passOn(e);
    }
  }

  /** The rounding bound of every requested gradient element (NaN elsewhere). */
  rounding(): Map<string, Float64Array> {
    this.propagate();
    const { only, grads } = this.err!;
    if (only !== undefined)
      for (const [name, e] of grads) {
        const keep = only.get(name) ?? [];
        const vals = keep.map((k) => e[k]!);
        e.fill(Number.NaN);
        keep.forEach((k, i) => {
          e[k] = vals[i]!;
        });
      }
    return grads;
  }

  /** The gradients alone (a vector–Jacobian product with a seed). */
  pullback(): Map<string, Float64Array> {
    this.propagate();
    return this.grads;
  }

  run(): SymbolicLegResult {
    this.propagate();
    let shapes = "";
    for (const [name, v] of this.values) shapes += `${name}:${v.shape.join(",")};`;
    const key = `${shapes}|${this.signature}`;
    // Composing (the fuzzer's many expressions, each seen once): no display formulas, which
    // would cost a fifth of a case; the fuzzer's replay `gradtrio check` shows them.
    let shown = composingDerivatives() || this.overBudget ? NOT_SHOWN : this.plans.shown.get(key);
    if (shown === undefined) {
      const rank = new Map(variablesOf(this.expr).map((n, i) => [n, i]));
      const names: SymbolNames = {
        plain: (k) => this.shownKey(k) ?? k,
        latex: (k) => {
          const shown = this.shownKey(k);
          return shown === undefined ? latexName(k) : `\\texttt{${shown}}`;
        },
        rank: (k) => rank.get(k) ?? 1000,
      };
      const formulas = new Map<string, string>();
      const latex = new Map<string, string>();
      for (const name of this.values.keys()) {
        const f = simplify(fadd(...(this.gradFormulas.get(name) ?? [fnum(0)])));
        formulas.set(name, toPlain(f, names));
        latex.set(name, toLatex(f, names));
      }
      shown = { formulas, latex };
      this.plans.shown.set(key, shown);
    }
    // Fresh maps: a caller may keep or change a report's maps.
    return {
      status: "ok",
      gradients: this.grads,
      formulas: new Map(shown.formulas),
      latex: new Map(shown.latex),
      ...(this.overBudget ? { note: OVER_BUDGET_NOTE } : {}),
    };
  }

  /**
   * The leaf key of a variable, or of a value computed elsewhere: `#i` for the node at position i
   * in post-order, the same in every run on this expression (cached plans refer to these keys).
   */
  private keyOf(e: Expr): string {
    return e.kind === "var" ? e.name : `#${this.index.get(e)}`;
  }

  /** How a leaf key reads in a formula: a variable's name, or the text of the computed value. */
  private shownKey(key: string): string | undefined {
    return key.startsWith("#") ? exprText(this.leafOf(key)) : undefined;
  }

  private leafValue(key: string, leaf: Expr): Arr {
    return leaf.kind === "var" ? this.values.get(key)! : this.fwd.get(leaf)!;
  }

  /** Passes a reduction's, softmax's or matmul's gradient to its arguments' blocks. */
  private passOn(e: CallExpr): void {
    const g = this.upstream.get(e)!;
    // The bound of the upstream gradient: in a rounding run only.
    const gE = this.err === null ? null : this.err.upstream.get(e)!;
    const gf = simplify(fadd(...this.upFormulas.get(e)!));
    if (e.op === "sum") this.block(e.args[0]!, g[0]!, gf, gE?.[0] ?? 0);
    else if (e.op === "mean") {
      const n = this.fwd.get(e.args[0]!)!.data.length;
      // g/n for every element: mean is sum scaled by 1/n.
      const v = g[0]! / n;
      this.block(
        e.args[0]!,
        v,
        fmul(fratio(1, n), gf),
        (gE?.[0] ?? 0) / n + EPS * Math.abs(v) + TINY,
      );
    } else if (e.op === "max" || e.op === "min") {
      // The gradient goes to the extreme element; a tie for it is a kink.
      const a = e.args[0]!;
      const x = this.fwd.get(a)!.data;
      const sign = e.op === "max" ? 1 : -1;
      let k = 0;
      for (let i = 1; i < x.length; i++) if (sign * (x[i]! - x[k]!) > 0) k = i;
      for (let i = 0; i < x.length; i++) if (i !== k && x[i] === x[k]) this.kink(e, i, x[i]!);
      const ga = new Float64Array(x.length);
      const gaE = new Float64Array(x.length);
      ga[k] = g[0]!;
      gaE[k] = gE?.[0] ?? 0;
      this.block(a, ga, fmul(gf, fdisplay(`onehotArg${e.op}`, fsym(this.keyOf(a)))), gaE);
    } else if (e.op === "logsumexp") {
      const a = e.args[0]!;
      const x = this.fwd.get(a)!.data;
      const d = templateDerivative(LOGSUMEXP, ["u", "s"]);
      const m = Math.max(...x);
      let total = 0;
      for (let i = 0; i < x.length; i++) total += Math.exp(x[i]! - m);
      const ga = new Float64Array(x.length);
      const gaE = new Float64Array(x.length);
      for (let i = 0; i < x.length; i++) {
        const u = x[i]! - m;
        const p = d([u, total - Math.exp(u)]);
        ga[i] = g[0]! * p;
        gaE[i] = (gE?.[0] ?? 0) * p + Math.abs(ga[i]!) * (x.length + 6) * EPS + TINY;
      }
      this.block(a, ga, fmul(gf, fdisplay("softmax", fsym(this.keyOf(a)))), gaE);
    } else if (e.op === "softmax") {
      // vjp over each row: Σ_j g_j ∂y_j/∂x_i, with ∂y_i/∂x_i and ∂y_j/∂x_i from the CAS.
      const a = e.args[0]!;
      const x = this.fwd.get(a)!.data;
      const y = this.fwd.get(e)!.data;
      const self = templateDerivative(SOFTMAX_SELF, ["u", "s"]);
      const other = templateDerivative(SOFTMAX_OTHER, ["u", "v", "r"]);
      const shape = this.fwd.get(a)!.shape;
      const len = shape.length === 0 ? 1 : shape[shape.length - 1]!;
      const ga = new Float64Array(x.length);
      const gaE = new Float64Array(x.length);
      for (let r0 = 0; r0 < x.length; r0 += len) {
        let m = -Infinity;
        for (let j = r0; j < r0 + len; j++) m = Math.max(m, x[j]!);
        let total = 0;
        for (let j = r0; j < r0 + len; j++) total += Math.exp(x[j]! - m);
        for (let i = r0; i < r0 + len; i++) {
          const u = x[i]! - m;
          const eu = Math.exp(u);
          let s = 0;
          let se = 0;
          for (let j = r0; j < r0 + len; j++) {
            const v = x[j]! - m;
            const dji = j === i ? self([u, total - eu]) : other([u, v, total - eu - Math.exp(v)]);
            s += g[j]! * dji;
            const terms = y[j]! * ((j === i ? 1 : 0) + y[i]!);
            se += (gE?.[j] ?? 0) * Math.abs(dji) + Math.abs(g[j]!) * terms * (len + 8) * EPS;
          }
          ga[i] = s;
          gaE[i] = se + len * TINY;
        }
      }
      this.block(a, ga, fdisplay("softmaxVJP", gf, fsym(this.keyOf(a))), gaE);
    } else {
      const [a, b] = e.args as [Expr, Expr];
      const A = this.fwd.get(a)!;
      const B = this.fwd.get(b)!;
      const { rows: m, cols: k } = asMatrix(A, "left");
      const n = asMatrix(B, "right").cols;
      if (this.dependsOnVar.has(a)) {
        // dA = G Bᵀ
        const ga = new Float64Array(m * k);
        const gaE = new Float64Array(m * k);
        for (let i = 0; i < m; i++)
          for (let j = 0; j < k; j++) {
            let s = 0;
            let se = 0;
            let absSum = 0;
            for (let c = 0; c < n; c++) {
              const p = g[i * n + c]! * B.data[j * n + c]!;
              s += p;
              if (gE === null) continue;
              se += gE[i * n + c]! * Math.abs(B.data[j * n + c]!);
              absSum += Math.abs(p);
            }
            ga[i * k + j] = s;
            gaE[i * k + j] = se + n * (EPS * absSum + TINY);
          }
        const t = fdisplay("transpose", fsym(this.keyOf(b)));
        this.block(a, ga, fdisplay("matmul", gf, t), gaE);
      }
      if (this.dependsOnVar.has(b)) {
        // dB = Aᵀ G
        const gb = new Float64Array(k * n);
        const gbE = new Float64Array(k * n);
        for (let j = 0; j < k; j++)
          for (let c = 0; c < n; c++) {
            let s = 0;
            let se = 0;
            let absSum = 0;
            for (let i = 0; i < m; i++) {
              const p = A.data[i * k + j]! * g[i * n + c]!;
              s += p;
              if (gE === null) continue;
              se += Math.abs(A.data[i * k + j]!) * gE[i * n + c]!;
              absSum += Math.abs(p);
            }
            gb[j * n + c] = s;
            gbE[j * n + c] = se + m * (EPS * absSum + TINY);
          }
        const t = fdisplay("transpose", fsym(this.keyOf(a)));
        this.block(b, gb, fdisplay("matmul", t, gf), gbE);
      }
    }
  }

  /**
   * One elementwise block rooted at `root`, with upstream gradient `g` (one entry per element of
   * root, or one number for all), its formula `gf` and, in a rounding run, its error bound `gE`.
   */
  private block(root: Expr, g: Column, gf: Formula, gE: Column): void {
    if (!this.dependsOnVar.has(root)) return;
    const shape = this.fwd.get(root)!.shape;
    const n = sizeOf(shape);
    const isLeaf = (e: Expr): boolean => e.kind === "var" || isBetweenBlocks(e);
    const leafKey = (e: Expr): string | undefined => (isLeaf(e) ? this.keyOf(e) : undefined);

    // The block's leaves (that carry a gradient) and its piecewise nodes.
    const leaves = new Map<string, Expr>();
    const piecewise: CallExpr[] = [];
    const customs: string[] = [];
    const seen = new Set<Expr>();
    const stack: Expr[] = [root];
    while (stack.length > 0) {
      const e = stack.pop()!;
      if (seen.has(e)) continue;
      seen.add(e);
      if (isLeaf(e)) {
        if (this.dependsOnVar.has(e)) leaves.set(this.keyOf(e), e);
      } else if (e.kind === "call") {
        if (branchesOf(e.op) !== undefined) piecewise.push(e);
        else if (!isBuiltinOp(e.op)) customs.push(e.op);
        for (const a of e.args) stack.push(a);
      }
    }

    const { uniform, varying, groups } = this.patterns(piecewise, shape, n);
    let writer: CasWriter | undefined;
    const contrib = new Map<string, Float64Array>();
    const leafFormulas = new Map<string, Formula[]>();
    for (const key of leaves.keys()) {
      contrib.set(key, new Float64Array(n));
      leafFormulas.set(key, []);
    }

    const keys = [...leaves.keys()];
    const need = this.err === null ? null : this.need(leaves, shape, n);
    const contribE = new Map<string, Float64Array>();
    if (this.err !== null) for (const key of keys) contribE.set(key, new Float64Array(n));
    for (const idx of groups) {
      const first = idx === null ? 0 : idx[0]!;
      const branch = (p: CallExpr): Branch => uniform.get(p) ?? (varying.get(p)![first]! as Branch);
      const composed = composingDerivatives();
      let planKey = `${this.index.get(root)}|${keys.join(",")}|${composed ? "composed|" : ""}`;
      for (const p of piecewise) planKey += branch(p);
      const outs = keys.map((k) => contrib.get(k)!);
      if (composed && n === 1 && this.err === null) {
        // One element (the fuzzer's cases): the chain rule on the templates' values, no
        // formula built. Where one is not finite, the plan below composes and compiles the
        // formulas, to tell an overflow; where a value's template is unavailable (an op
        // without a formula in a part no derivative reads), they read only what they need.
        const leafValue = (s: string): number => this.leafValue(s, this.leafOf(s)).data[0]!;
        let ds: number[] | undefined;
        try {
          ds = composedGradientAt(root, branch, keys, leafKey, leafValue);
        } catch (e) {
          if (!(e instanceof Unavailable)) throw e;
        }
        ds?.forEach((d, k) => {
          outs[k]![0] = at(g, 0) * d;
        });
        if (ds !== undefined && outs.every((o) => Number.isFinite(o[0]!))) continue;
      }
      let plan = this.plans.blocks.get(planKey);
      if (plan !== undefined && !stillRegistered(plan.defs)) plan = undefined;
      if (plan === undefined) {
        writer ??= new CasWriter(leafKey);
        const w = writer;
        const whole = (): Formula[] | undefined => {
          const dfs: Formula[] = [];
          for (const key of keys) {
            const answer = casDiff(w.write(root, branch, key), w.symbol(key));
            if (!answer.ok && answer.overBudget === true) return undefined;
            if (!answer.ok)
              throw new Unavailable(`d/d${exprText(leaves.get(key)!)}: ${answer.reason}`);
            dfs.push(readCas(answer.text, w.resolve));
          }
          return dfs;
        };
        // Too costly whole: composed from the ops' derivatives (each by the CAS), as the fuzzer does.
        const wholeDfs = composed ? undefined : whole();
        const overBudget = !composed && wholeDfs === undefined;
        const dfs = wholeDfs ?? composedDerivatives(w, root, branch, keys, leafKey);
        // The ops of the block and every op their formulas expanded to, nested ones included.
        const defs: (readonly [string, OpDefinition | undefined])[] = customs.map(
          (op) => [op, lookupCustomOp(op)] as const,
        );
        for (const [op, def] of w.expanded) if (!customs.includes(op)) defs.push([op, def]);
        const slots = [...dfs.reduce((acc, df) => symbolsOf(df, acc), new Set<string>())];
        plan = {
          id: nextPlanId++,
          dfs,
          slots,
          run: compileFormulas(dfs, slots, { reuse: true }),
          defs,
          overBudget,
        };
        this.plans.blocks.set(planKey, plan);
      }
      this.signature += `${plan.id},`;
      if (plan.overBudget) this.overBudget = true;
      for (let i = 0; i < keys.length; i++) leafFormulas.get(keys[i]!)!.push(plan.dfs[i]!);
      if (this.err !== null) {
        if (need === false) continue;
        plan.withError ??= compileFormulasWithError(plan.dfs, plan.slots);
        const cols = plan.slots.map((s) =>
          expandArr(this.leafValue(s, leaves.get(s) ?? this.leafOf(s)), shape),
        );
        const outErrs = keys.map((k) => contribE.get(k)!);
        evaluateWithError(outs, outErrs, plan.withError, cols, g, gE, idx, need, n);
        continue;
      }
      const cols = plan.slots.map((s) =>
        gather(expandArr(this.leafValue(s, leaves.get(s) ?? this.leafOf(s)), shape), idx),
      );
      evaluateInto(outs, plan.run, cols, gather(g, idx), idx, n);
      checkOverflow(plan, outs, cols, idx, n);
    }
    this.signature += ";";

    for (const [key, leaf] of leaves) {
      if (root === this.expr && leaf.kind === "var") this.capture?.set(key, contrib.get(key)!);
      const leafShape = this.leafValue(key, leaf).shape;
      const reduced = sumTo(contrib.get(key)!, shape, leafShape);
      const forms = leafFormulas.get(key)!;
      let f = fmul(gf, forms.length === 1 ? forms[0]! : fdisplay("piecewise", ...forms));
      if (sizeOf(leafShape) === 1 && n > 1) f = fdisplay("sum", f);
      const reducedE =
        this.err === null
          ? null
          : sumToError(contribE.get(key)!, contrib.get(key)!, shape, leafShape);
      if (leaf.kind === "var") {
        const acc = this.grads.get(key)!;
        if (reducedE !== null) addErrorInto(this.err!.grads.get(key)!, acc, reduced, reducedE);
        addInto(acc, reduced);
        push(this.gradFormulas, key, f);
      } else {
        const up = this.upstream.get(leaf) ?? new Float64Array(reduced.length);
        if (reducedE !== null) {
          const upE = this.err!.upstream.get(leaf) ?? new Float64Array(reduced.length);
          addErrorInto(upE, up, reduced, reducedE);
          this.err!.upstream.set(leaf, upE);
        }
        addInto(up, reduced);
        this.upstream.set(leaf, up);
        push(this.upFormulas, leaf, f);
      }
    }
  }

  /**
   * In a rounding run, the block elements whose gradient reaches a requested element: null for
   * all, false for none. A reduction or matmul that is needed takes every element.
   */
  private need(
    leaves: Map<string, Expr>,
    shape: readonly number[],
    n: number,
  ): Uint8Array | null | false {
    const { only, needed } = this.err!;
    if (only === undefined) return null;
    let mask: Uint8Array | null = null;
    for (const [key, leaf] of leaves) {
      if (leaf.kind !== "var") {
        if (needed.has(leaf)) return null;
        continue;
      }
      const ks = only.get(key);
      if (ks === undefined || ks.length === 0) continue;
      const leafShape = this.values.get(key)!.shape;
      if (sizeOf(leafShape) === 1) return null;
      mask ??= new Uint8Array(n);
      if (sizeOf(leafShape) === n) for (const k of ks) mask[k] = 1;
      else {
        const want = new Uint8Array(sizeOf(leafShape));
        for (const k of ks) want[k] = 1;
        const idx = broadcastIndex(leafShape, shape);
        for (let i = 0; i < n; i++) if (want[idx[i]!] === 1) mask[i] = 1;
      }
    }
    return mask ?? false;
  }

  private leafOf(key: string): Expr {
    if (key.startsWith("#")) return this.order[Number(key.slice(1))]!;
    return { kind: "var", name: key };
  }

  /**
   * The active branch of every piecewise node, element by element; groups of elements that share
   * a branch pattern (null: one group of all elements). A breakpoint is a kink.
   */
  private patterns(
    piecewise: CallExpr[],
    shape: readonly number[],
    n: number,
  ): {
    uniform: Map<CallExpr, Branch>;
    varying: Map<CallExpr, Int8Array>;
    groups: (Int32Array | null)[];
  } {
    const uniform = new Map<CallExpr, Branch>();
    const varying = new Map<CallExpr, Int8Array>();
    for (const p of piecewise) {
      const pv = this.fwd.get(p)!;
      const { at: branchAt } = branchesOf(p.op)!;
      const [u, v, w] = [0, 1, 2].map((j) =>
        j < p.args.length ? expandArr(this.fwd.get(p.args[j]!)!, pv.shape) : 0,
      ) as [Column, Column, Column];
      const m = pv.data.length;
      const codes = new Int8Array(m);
      for (let i = 0; i < m; i++) {
        const c = branchAt(at(u, i), at(v, i), at(w, i));
        if (c < 0) this.kink(p, i, at(u, i));
        codes[i] = c;
      }
      if (codes.every((c) => c === codes[0])) uniform.set(p, codes[0] as Branch);
      else {
        const idx = broadcastIndex(pv.shape, shape);
        const full = new Int8Array(n);
        for (let i = 0; i < n; i++) full[i] = codes[idx[i]!]!;
        varying.set(p, full);
      }
    }
    if (varying.size === 0) return { uniform, varying, groups: [null] };
    const byKey = new Map<string, number[]>();
    const cols = [...varying.values()];
    for (let i = 0; i < n; i++) {
      let key = "";
      for (const c of cols) key += c[i];
      let list = byKey.get(key);
      if (list === undefined) byKey.set(key, (list = []));
      list.push(i);
    }
    return { uniform, varying, groups: [...byKey.values()].map((l) => Int32Array.from(l)) };
  }

  private kink(p: CallExpr, element: number, value: number): never {
    // A piecewise op of a custom op's formula is named with the call the user wrote.
    const from = expandedFrom(p);
    const pos = from?.pos ?? p.pos;
    throw new KinkFound({
      op: p.op,
      text: from === undefined ? exprText(p) : `${exprText(p)} (from ${exprText(from)})`,
      ...(pos === undefined ? {} : { pos }),
      element,
      value,
    });
  }
}

const at = (c: number | Float64Array, i: number): number => (typeof c === "number" ? c : c[i]!);

function gather(c: Column, idx: Int32Array | null): Column {
  if (idx === null || typeof c === "number") return c;
  const out = new Float64Array(idx.length);
  for (let i = 0; i < idx.length; i++) out[i] = c[idx[i]!]!;
  return out;
}

// Chunks small enough to stay in cache: the column-wise evaluator allocates one array per node.
const CHUNK = 4096;

// out[idx[i]] = g[i] * d[i] where d is the formula at element i (all elements when idx is null).
// `formulas` reuses its result buffers from call to call: each chunk is stored before the next.
function evaluateInto(
  outs: Float64Array[],
  formulas: (cols: Column[]) => Column[],
  cols: Column[],
  g: Column,
  idx: Int32Array | null,
  n: number,
): void {
  const m = idx === null ? n : idx.length;
  const view = (c: Column, a: number, b: number): Column =>
    typeof c === "number" ? c : c.subarray(a, b);
  for (let start = 0; start < m; start += CHUNK) {
    const end = Math.min(m, start + CHUNK);
    const ds = formulas(cols.map((c) => view(c, start, end)));
    const gv = view(g, start, end);
    for (let k = 0; k < ds.length; k++) store(outs[k]!, gv, ds[k]!, idx, start, end - start);
  }
}

/**
 * Where a gradient element is not finite because its formula overflowed on the way (exp(800)
 * in exp(x)/(exp(x)+1)^2, ∞/∞), the leg has no number: the CAS was right, float64 was not wide
 * enough. A NaN with no overflow behind it (sqrt of a negative) is the formula's own and stays.
 */
function checkOverflow(
  plan: BlockPlan,
  outs: Float64Array[],
  cols: Column[],
  idx: Int32Array | null,
  n: number,
): void {
  const m = idx === null ? n : idx.length;
  const sv = new Float64Array(cols.length);
  for (let t = 0; t < m; t++) {
    const i = idx === null ? t : idx[t]!;
    if (outs.every((o) => Number.isFinite(o[i]!))) continue;
    for (let s = 0; s < cols.length; s++) sv[s] = at(cols[s]!, t);
    plan.overflow ??= compileOverflowCheck(plan.dfs, plan.slots);
    const over = plan.overflow(sv);
    if (outs.some((o, k) => !Number.isFinite(o[i]!) && over[k] === true))
      throw new Unavailable(OVERFLOW);
  }
}

/** The reason the leg gives when a formula overflows. */
export const OVERFLOW = "the formula overflows float64 at this point";

function store(
  out: Float64Array,
  g: Column,
  d: Column,
  idx: Int32Array | null,
  start: number,
  len: number,
): void {
  if (idx === null && typeof g === "number" && typeof d !== "number")
    for (let i = 0; i < len; i++) out[start + i] = g * d[i]!;
  else
    for (let i = 0; i < len; i++)
      out[idx === null ? start + i : idx[start + i]!] = at(g, i) * at(d, i);
}

/**
 * A rounding run's `evaluateInto`: at each element of the group `idx` (all when null) that `need`
 * selects (all when null), out = g·d with its bound |g|·err_d + |d|·err_g + eps·|g·d|.
 */
function evaluateWithError(
  outs: Float64Array[],
  outErrs: Float64Array[],
  run: ReturnType<typeof compileFormulasWithError>,
  cols: Column[],
  g: Column,
  gE: Column,
  idx: Int32Array | null,
  need: Uint8Array | null,
  n: number,
): void {
  const sv = new Float64Array(cols.length);
  const se = new Float64Array(cols.length); // the leaves are exact
  const d = new Float64Array(outs.length);
  const dE = new Float64Array(outs.length);
  const m = idx === null ? n : idx.length;
  for (let t = 0; t < m; t++) {
    const i = idx === null ? t : idx[t]!;
    if (need !== null && need[i] !== 1) continue;
    for (let s = 0; s < cols.length; s++) sv[s] = at(cols[s]!, i);
    run(sv, se, d, dE);
    const gi = at(g, i);
    const ge = at(gE, i);
    const ag = Math.abs(gi);
    for (let k = 0; k < outs.length; k++) {
      const c = gi * d[k]!;
      outs[k]![i] = c;
      // A product with ±1 is exact.
      outErrs[k]![i] =
        ag * dE[k]! +
        (ge > 0 ? Math.abs(d[k]!) * ge : 0) +
        (ag === 1 ? 0 : EPS * Math.abs(c) + TINY);
    }
  }
}

/** The bound of `sumTo(x, shape, target)`: Σ bounds + eps·Σ|terms|·(terms − 1) per element. */
function sumToError(
  xE: Float64Array,
  x: Float64Array,
  shape: readonly number[],
  target: readonly number[],
): Float64Array {
  const m = sizeOf(target);
  if (m === x.length) return xE;
  const abs = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) abs[i] = Math.abs(x[i]!);
  const out = sumTo(xE, shape, target);
  const mag = sumTo(abs, shape, target);
  const terms = x.length / m;
  for (let k = 0; k < m; k++) out[k] = out[k]! + (terms - 1) * (EPS * mag[k]! + TINY);
  return out;
}

/** The bound of `addInto(acc, x)` added into `accE`: x's bound and the addition's rounding. */
function addErrorInto(
  accE: Float64Array,
  acc: Float64Array,
  x: Float64Array,
  xE: Float64Array,
): void {
  for (let k = 0; k < accE.length; k++) {
    const a = acc[k]!;
    // 0 + x is exact.
    accE[k] = accE[k]! + xE[k]! + (a === 0 ? 0 : EPS * (Math.abs(a) + Math.abs(x[k]!)) + TINY);
  }
}

function addInto(acc: Float64Array, x: Float64Array): void {
  for (let i = 0; i < acc.length; i++) acc[i]! += x[i]!;
}

function push<K>(m: Map<K, Formula[]>, k: K, f: Formula): void {
  const list = m.get(k);
  if (list === undefined) m.set(k, [f]);
  else list.push(f);
}
