/**
 * Writes nerdamer input text from gradtrio's validated `Expr` (never from user text). Leaves get
 * safe names (`v0`, `v1`… for inputs, `k0`… for every number but a small integer, `ce` and `cpi`
 * for e and pi, `cm` for the -1 of a negation, `c0`… for constants such as log(3) and subtrees
 * free of the variable), so no variable name can collide with nerdamer's own and nerdamer never
 * turns a number into a rational stand-in. Built-ins nerdamer lacks are rewritten in terms it
 * knows (their CAS text is declared with each op in src/expr/ops.ts); piecewise ops are written
 * as their active branch.
 */
import { GradtrioError } from "../errors.ts";
import { type CallExpr, type Expr, postOrder, substitute } from "../expr/ast.ts";
import {
  BUILTIN_OPS,
  type CustomOpDefinition,
  formulaPlaceholders,
  formulaText,
  isBuiltinOp,
  isTensorOp,
  lookupCustomOp,
  type OpSpec,
} from "../expr/ops.ts";
import { parse } from "../expr/parse.ts";
import {
  type Formula,
  fconst,
  fnum,
  fratio,
  fsym,
  simplify,
  substitute as substituteSymbols,
  symbolsOf,
} from "./formula.ts";
import { Unavailable } from "./outcome.ts";
import { parseCas, MAX_DEPTH as READ_MAX_DEPTH, readCas } from "./read-cas.ts";

/** Piecewise branch codes. abs: 0 → u, 1 → -u. relu: 0 → u, 1 → 0. clamp: 0 → u, 1 → lo, 2 → hi. */
export type Branch = 0 | 1 | 2;

const MAX_DEPTH = 400;
const MAX_TEXT = 200_000;

/** One `write`: its memo, its depth, and how subtrees go out. */
interface WriteState {
  readonly branch: (e: CallExpr) => Branch;
  readonly memo: Map<Expr, string>;
  readonly leafy: Map<Expr, boolean>;
  depth: number;
  /** Text for nerdamer (roots rewritten), or plain text read back as an opaque symbol's formula. */
  readonly cas: boolean;
  readonly opaque?: (e: Expr) => boolean;
  plain?: WriteState;
  /**
   * While reading (`CasWriter.reader`): the texts of the constants `constant` was asked for, each
   * written as the placeholder `__c<index>` (its text names the node's argument placeholders).
   */
  readonly constants?: string[];
}

/** A node as `CasWriter.reader` reads it, with what decides whether `write` and `readCas` could. */
interface Read {
  /** What `parseCas` reads from the node's text. */
  readonly raw: Formula;
  /** The most nodes `write` passes through from this one to a leaf (itself and the leaf included). */
  readonly height: number;
  /** At least the length of the node's text. */
  readonly length: number;
  /** How many characters of the text can nest `readCas` one level deeper: ( - + ^. */
  readonly nesting: number;
}

/** `readCas` nests at most 2 + 2·nesting deep (a parenthesis opens a sum and a factor). */
const MAX_NESTING = (READ_MAX_DEPTH - 2) / 2;
/** The longest name a writer gives (`v123`): a Map holds fewer than 2^24 entries. */
const NAME_MAX = 12;

/** A node's text with placeholders for its arguments, parsed: the same for every such node. */
interface Shape {
  /** `parseCas` of the text, every name a `sym` leaf. */
  readonly raw: Formula;
  /** At least the text's length, the arguments' left out. */
  readonly length: number;
  /** The text's characters that nest `readCas`, the arguments' left out. */
  readonly nesting: number;
  /** How often the text names each argument. */
  readonly uses: readonly number[];
}

const SHAPE_LIMIT = 4096;
const shapes = new Map<string, Shape>();

/** Placeholders in a node's text while reading: `__a<i>` for argument i, `__c<j>` for constant j. */
const placeholders = new Map<string, { readonly constant: boolean; readonly index: number }>();
const argumentLists: string[][] = [];

function placeholder(constant: boolean, index: number): string {
  const name = `__${constant ? "c" : "a"}${index}`;
  if (!placeholders.has(name)) placeholders.set(name, { constant, index });
  return name;
}

/** `__a0`…`__a<n-1>`. */
function argumentPlaceholders(n: number): readonly string[] {
  let list = argumentLists[n];
  if (list === undefined)
    argumentLists[n] = list = Array.from({ length: n }, (_, i) => placeholder(false, i));
  return list;
}

function shapeOf(text: string): Shape {
  let shape = shapes.get(text);
  if (shape !== undefined) return shape;
  const raw = parseCas(text, fsym);
  let length = text.length;
  let nesting = 0;
  for (let i = 0; i < text.length; i++) if ("(-+^".includes(text[i]!)) nesting++;
  const uses: number[] = [];
  const names = (f: Formula): void => {
    switch (f.kind) {
      case "sym": {
        const p = placeholders.get(f.name);
        length -= f.name.length;
        if (p !== undefined && !p.constant) uses[p.index] = (uses[p.index] ?? 0) + 1;
        else length += NAME_MAX;
        break;
      }
      case "fn":
        names(f.arg);
        break;
      case "pow":
        names(f.base);
        names(f.exp);
        break;
      case "add":
      case "mul":
      case "display":
        for (const a of f.args) names(a);
        break;
    }
  };
  names(raw);
  if (shapes.size >= SHAPE_LIMIT) shapes.clear();
  shape = { raw, length, nesting, uses };
  shapes.set(text, shape);
  return shape;
}

/** One `reader`'s state: its branches, each node's `Read`, and the formulas it gave. */
interface Reading {
  readonly state: WriteState & { readonly constants: string[] };
  readonly reads: Map<Expr, Read>;
  /** Per node's `raw`, its simplified form: what the reader gave for the node. */
  readonly simplified: Map<Formula, Formula>;
}

const NO_READS: readonly Read[] = [];
const NO_TEXTS: readonly string[] = [];

type FormulaBody =
  | { readonly kind: "expr"; readonly expr: Expr; readonly placeholders: readonly string[] }
  | {
      readonly kind: "text";
      readonly text: string;
      readonly placeholders: readonly string[];
      readonly parseError: string;
    };

const bodies = new WeakMap<CustomOpDefinition, FormulaBody>();

/** A custom op's formula at placeholder arguments, parsed once per definition. */
function formulaBody(op: string, def: CustomOpDefinition): FormulaBody {
  const hit = bodies.get(def);
  if (hit !== undefined) return hit;
  const placeholders = formulaPlaceholders(def.arity);
  let text: string | undefined;
  try {
    text = formulaText(def);
  } catch (err) {
    throw new Unavailable(`custom op '${op}': its formula threw: ${(err as Error).message}`);
  }
  if (text === undefined) throw new Unavailable(`custom op '${op}' has no formula`);
  let body: FormulaBody;
  try {
    const expr = parse(text);
    for (const n of postOrder(expr)) {
      if (n.kind === "var" && !placeholders.includes(n.name))
        throw new Unavailable(
          `custom op '${op}': its formula "${text}" names '${n.name}', which is not an argument`,
        );
      if (n.kind === "call" && (n.op === "sum" || n.op === "mean" || n.op === "matmul"))
        throw new Unavailable(
          `custom op '${op}': its formula "${text}" is not elementwise (${n.op})`,
        );
    }
    body = { kind: "expr", expr, placeholders };
  } catch (err) {
    if (!(err instanceof GradtrioError)) throw err;
    body = { kind: "text", text, placeholders, parseError: err.message };
  }
  bodies.set(def, body);
  return body;
}

/** A short decimal as the fraction it reads as (0.5 → 1/2, 2.401 → 2401/1000): for display only. */
function decimalFraction(v: number): [number, number] | undefined {
  const m = /^(-?)(\d+)\.(\d{1,6})$/.exec(String(v));
  if (m === null || m[2]!.length + m[3]!.length > 12) return undefined;
  let q = 10 ** m[3]!.length;
  let p = Number(m[2]! + m[3]!);
  while (p % 2 === 0 && q % 2 === 0) [p, q] = [p / 2, q / 2];
  while (p % 5 === 0 && q % 5 === 0) [p, q] = [p / 5, q / 5];
  return [(m[1] ? -1 : 1) * p, q];
}

/** Integers nerdamer computes with exactly; every other number goes as a symbol. */
const isSmallInteger = (v: number): boolean => Number.isInteger(v) && Math.abs(v) <= 1e6;

/**
 * One block's CAS text and the names in it. A writer keeps its names across calls, so the texts
 * of one block's branch patterns share symbols.
 */
export class CasWriter {
  private readonly leafName = new Map<string, string>();
  private readonly names = new Map<string, Formula>([
    ["ce", fconst("e")],
    ["cpi", fconst("pi")],
    ["cm", fratio(-1, 1)],
  ]);
  private readonly numberName = new Map<number, string>();
  private readonly opaqueName = new Map<string, string>();
  /**
   * Every custom op this writer expanded, by name, with the definition it used: ops inside other
   * ops' formulas included (a cached derivative is stale when any of them is redefined).
   */
  readonly expanded = new Map<string, CustomOpDefinition>();

  /**
   * @param leafKey the key of a leaf (a variable's name, or a key for a value computed elsewhere),
   *   or undefined when `e` is not a leaf of this block.
   */
  constructor(private readonly leafKey: (e: Expr) => string | undefined) {}

  /** The CAS symbol of a leaf key. */
  symbol(key: string): string {
    let s = this.leafName.get(key);
    if (s === undefined) {
      s = `v${this.leafName.size}`;
      this.leafName.set(key, s);
      this.names.set(s, fsym(key));
    }
    return s;
  }

  /** Maps a name in the CAS's answer back to a formula: a leaf, a number, e or pi. */
  readonly resolve = (name: string): Formula | undefined => this.names.get(name);

  /**
   * A number: a small integer as itself, any other as a symbol (`k0`) that reads back as the
   * number. nerdamer never sees a decimal or a fraction it could multiply out (2.401³ =
   * 41523861603/1000000000 is exact, but looks like one of its stand-ins) or take the root of.
   */
  private numberText(v: number): string {
    if (isSmallInteger(v)) return v < 0 ? `(${v})` : String(v);
    let s = this.numberName.get(v);
    if (s === undefined) {
      s = `k${this.numberName.size}`;
      this.numberName.set(v, s);
      const fr = decimalFraction(v);
      this.names.set(s, fr === undefined ? fnum(v) : fratio(fr[0], fr[1]));
    }
    return s;
  }

  /**
   * A symbol (`c0`) for a constant written as CAS text (`log(3)`), read back as its formula.
   * nerdamer evaluates constants such as log(3) to rational stand-ins inside a chain rule
   * (d/dx cos(3^x) came back with cos(e^((30312094/27591257)·x))); a symbol it cannot evaluate.
   */
  private constantSymbol(text: string): string {
    let name = this.opaqueName.get(text);
    if (name === undefined) {
      name = `c${this.opaqueName.size}`;
      this.opaqueName.set(text, name);
      this.names.set(name, readCas(text, this.resolve));
    }
    return name;
  }

  /**
   * The text of `root` with each piecewise node written as the branch `branch` picks.
   *
   * With `wrt` (the leaf key differentiated by), the text is for that derivative only: every
   * subtree that does not contain the leaf `wrt` is an opaque symbol (`c0`, `c1`…) that reads back
   * as its own formula (`sqrt(y)`, `sigmoid(1/2)`). nerdamer-prime 1.5.0 mangles a root that is
   * constant in a product (`d/dv1 sqrt(v0)*v1` → `sqrt(v0^(1/2))`, CAS_DEFECTS
   * "sqrt-constant-factor"); a symbol it cannot touch. Roots that depend on `wrt` go as `u^h`,
   * h a symbol for 1/2: nerdamer's own `sqrt(u)` node is faulty, and it gives up on it
   * (`diff(sqrt(cos(v0)),v0)` left unevaluated).
   */
  write(root: Expr, branch: (e: CallExpr) => Branch, wrt?: string): string {
    const state: WriteState = { branch, memo: new Map(), leafy: new Map(), depth: 0, cas: true };
    if (wrt === undefined) return this.go(root, state);
    const deps = new Map<Expr, boolean>();
    const dependsOnWrt = (e: Expr): boolean => {
      let d = deps.get(e);
      if (d === undefined) {
        d = this.leafKey(e) === wrt || (e.kind === "call" && e.args.some(dependsOnWrt));
        deps.set(e, d);
      }
      return d;
    };
    return this.go(root, { ...state, opaque: (e) => e.kind === "call" && !dependsOnWrt(e) });
  }

  /**
   * A function giving `readCas(this.write(e, branch), this.resolve)` without writing the text out
   * whole: each node's text is written with placeholders for its arguments (`__a0`…), parsed once
   * per distinct text (`shapeOf`), the arguments' formulas put in their places, and simplified
   * as `readCas` does, each node it was asked for once. The texts are those `write` writes, so
   * the formulas are the ones `readCas` reads from them. It keeps every node's formula for its
   * next calls (one branch pattern). Where the text could reach a limit of `write` or `readCas`,
   * and on any error, the text is written and read: that decides, error or formula.
   */
  reader(branch: (e: CallExpr) => Branch): (e: Expr) => Formula {
    const r: Reading = {
      state: { branch, memo: new Map(), leafy: new Map(), depth: 0, cas: true, constants: [] },
      reads: new Map(),
      simplified: new Map(),
    };
    return (e) => {
      try {
        const { raw, nesting } = this.read(e, r, 1);
        if (nesting <= MAX_NESTING) {
          let f = r.simplified.get(raw);
          if (f === undefined) r.simplified.set(raw, (f = simplify(raw, r.simplified)));
          return f;
        }
      } catch {
        // The text decides below.
      }
      return readCas(this.write(e, branch), this.resolve);
    };
  }

  /** The text of a leaf (a block's, a number, a constant, a variable); undefined for a call. */
  private leafText(e: Expr): string | undefined {
    const key = this.leafKey(e);
    if (key !== undefined) return this.symbol(key);
    if (e.kind === "num") return this.numberText(e.value);
    if (e.kind === "const") return e.name === "pi" ? "cpi" : "ce";
    if (e.kind === "var") return this.symbol(e.name);
    return undefined;
  }

  /** `e` as `reader` reads it; throws where the text could reach a limit of `write`. */
  private read(e: Expr, r: Reading, depth: number): Read {
    const seen = r.reads.get(e);
    if (seen !== undefined) return seen;
    if (depth > MAX_DEPTH) throw new Unavailable("nested too deeply to read");
    const leaf = this.leafText(e);
    let out: Read;
    if (leaf !== undefined) out = this.readText(leaf, NO_READS, NO_TEXTS, r);
    else if (e.kind === "call") {
      const args = e.args.map((a) => this.read(a, r, depth + 1));
      const body = isBuiltinOp(e.op) ? undefined : this.bodyOf(e);
      if (body?.kind === "expr") {
        // As `custom` writes it: the formula with the arguments in place.
        const inner = this.read(substitute(body.expr, body.placeholders, e.args), r, depth + 1);
        let height = inner.height;
        for (const a of args) height = Math.max(height, a.height);
        out = { ...inner, height: height + 1 };
      } else {
        const constants = r.state.constants;
        constants.length = 0;
        const text = this.callText(e, argumentPlaceholders(e.args.length), r.state);
        out = this.readText(text, args, constants.splice(0), r);
      }
    } else throw new Unavailable(`internal: '${e.kind}' has no text`);
    if (out.height > MAX_DEPTH || out.length > MAX_TEXT) throw new Unavailable("too large to read");
    r.reads.set(e, out);
    return out;
  }

  /** A node's text with placeholders, its arguments and its constants' texts read. */
  private readText(
    text: string,
    args: readonly Read[],
    constantTexts: readonly string[],
    r: Reading,
  ): Read {
    const constants = constantTexts.map((c) => {
      const shape = shapeOf(c);
      const read = this.fill(shape, args, []);
      if (read.nesting > MAX_NESTING) throw new Unavailable("too deeply nested to read");
      return simplify(read.raw, r.simplified);
    });
    return this.fill(shapeOf(text), args, constants);
  }

  /** A shape with the arguments' and the constants' formulas in place, its names resolved. */
  private fill(shape: Shape, args: readonly Read[], constants: readonly Formula[]): Read {
    let length = shape.length;
    let nesting = shape.nesting;
    let height = 0;
    for (let i = 0; i < shape.uses.length; i++) {
      const n = shape.uses[i] ?? 0;
      length += n * args[i]!.length;
      nesting += n * args[i]!.nesting;
    }
    for (const a of args) height = Math.max(height, a.height);
    const raw = substituteSymbols(shape.raw, (name) => {
      const p = placeholders.get(name);
      const f =
        p === undefined ? this.resolve(name) : p.constant ? constants[p.index] : args[p.index]?.raw;
      if (f === undefined) throw new Unavailable(`internal: '${name}' has no formula`);
      return f;
    });
    return { raw, height: height + 1, length, nesting };
  }

  private go(e: Expr, s: WriteState): string {
    const seen = s.memo.get(e);
    if (seen !== undefined) return seen;
    if (++s.depth > MAX_DEPTH)
      throw new Unavailable(`the expression is nested too deeply for the CAS (over ${MAX_DEPTH})`);
    const leaf = this.leafText(e);
    let t: string;
    if (leaf !== undefined) t = leaf;
    else if (e.kind !== "call") throw new Unavailable(`internal: '${e.kind}' has no text`);
    else if (s.opaque?.(e)) t = this.opaque(e, s);
    else t = this.call(e, s);
    s.depth--;
    if (t.length > MAX_TEXT)
      throw new Unavailable(
        `the expression is too large for the CAS (over ${MAX_TEXT} characters)`,
      );
    s.memo.set(e, t);
    return t;
  }

  /** The opaque symbol of a subtree, named by its plain text: equal subtrees share a symbol. */
  private opaque(e: CallExpr, s: WriteState): string {
    s.plain ??= { branch: s.branch, memo: new Map(), leafy: s.leafy, depth: 0, cas: false };
    return this.constantSymbol(this.go(e, s.plain));
  }

  private leafy(e: Expr, s: WriteState): boolean {
    let h = s.leafy.get(e);
    if (h === undefined) {
      h =
        this.leafKey(e) !== undefined ||
        (e.kind === "call" && e.args.some((a) => this.leafy(a, s)));
      s.leafy.set(e, h);
    }
    return h;
  }

  private call(e: CallExpr, s: WriteState): string {
    return this.callText(
      e,
      e.args.map((x) => this.go(x, s)),
      s,
    );
  }

  /** The text of `e` with its arguments' texts `a`. */
  private callText(e: CallExpr, a: readonly string[], s: WriteState): string {
    const branch = s.branch;
    const [u, v, w] = a;
    const op = e.op;
    if (!isBuiltinOp(op)) return this.custom(e, a, s);
    const spec: OpSpec = BUILTIN_OPS[op];
    // Piecewise ops are written as their active branch (the declaration lists the branches).
    if (spec.branches !== undefined) return spec.branches.cas[branch(e)]!(u!, v!, w!);
    if (spec.cas !== null) return spec.cas(u!, v!, (x) => this.numberText(x));
    switch (op) {
      case "pow": {
        const base = e.args[0]!;
        // A fractional exponent is a symbol (numberText): nerdamer's own u^(1/2) is its faulty sqrt node.
        if (this.leafy(base, s)) return `(${u}^${v})`;
        if (base.kind === "const" && base.name === "e") return `(ce^${v})`;
        // A constant base goes through e^(b*log(a)), log(a) a symbol: nerdamer writes d(2^x)
        // with a fraction for log 2.
        return s.cas ? `(ce^(${v}*${this.constant(`log(${u})`, s)}))` : `(ce^(${v}*log(${u})))`;
      }
      case "sqrt":
        // u^h with h a symbol for 1/2: nerdamer gives up on, or corrupts, its own sqrt node.
        return s.cas ? `(${u}^${this.numberText(0.5)})` : `sqrt(${u})`;
      default:
        // Reductions, softmax and matmul are leaves of elementwise templates, never inside one.
        throw new Unavailable(`internal: ${e.op} inside an elementwise template`);
    }
  }

  /**
   * A custom op goes through its formula, parsed by gradtrio's own parser with the arguments in
   * place, and written like any built-in expression (so `2^(u)` gets the constant-base rewrite,
   * `sqrt(u)` the root rewrite). A formula in nerdamer's wider vocabulary (`cosh(u)`) that the
   * expression language lacks is read by `readCas` and written as is.
   */
  private custom(e: CallExpr, args: readonly string[], s: WriteState): string {
    const body = this.bodyOf(e);
    if (body.kind === "expr") return this.go(substitute(body.expr, body.placeholders, e.args), s);
    let f: Formula;
    try {
      f = readCas(body.text, (n) => {
        const i = body.placeholders.indexOf(n);
        if (i >= 0) return fsym(n);
        if (n === "e") return fconst("e");
        if (n === "pi") return fconst("pi");
        return undefined;
      });
    } catch (err) {
      throw new Unavailable(
        `custom op '${e.op}': its formula "${body.text}" is not understood: ${body.parseError}; ${(err as Error).message}`,
      );
    }
    return this.emit(f, (n) => args[body.placeholders.indexOf(n)]!);
  }

  /** The formula of the custom op `e` calls (noted in `expanded`). */
  private bodyOf(e: CallExpr): FormulaBody {
    const def = lookupCustomOp(e.op);
    if (def === undefined) throw new Unavailable(`unknown function '${e.op}'`);
    // The symbolic leg expands tensor ops into their formulas first (expandCustomOps).
    if (isTensorOp(def)) throw new Unavailable(`custom op '${e.op}' is a tensor op`);
    this.expanded.set(e.op, def);
    return formulaBody(e.op, def);
  }

  /** A constant's symbol (`constantSymbol`); while reading, a placeholder for it (`constants`). */
  private constant(text: string, s: WriteState): string {
    if (s.constants === undefined) return this.constantSymbol(text);
    s.constants.push(text);
    return placeholder(true, s.constants.length - 1);
  }

  /** CAS text of a formula, its symbols written by `sym`. */
  emit(f: Formula, sym: (name: string) => string): string {
    switch (f.kind) {
      case "num":
        return f.value === -1 ? "cm" : this.numberText(f.value);
      case "sym":
        return `(${sym(f.name)})`;
      case "const":
        return f.name === "pi" ? "cpi" : "ce";
      case "add":
        return `(${f.args.map((a) => this.emit(a, sym)).join("+")})`;
      case "mul":
        return `(${f.args.map((a) => this.emit(a, sym)).join("*")})`;
      case "pow": {
        const base = this.emit(f.base, sym);
        const exp = this.emit(f.exp, sym);
        // As `write` does: a constant base through e^(b·log a), log a a symbol.
        if (symbolsOf(f.base).size === 0 && symbolsOf(f.exp).size > 0)
          return `(ce^(${exp}*${this.constantSymbol(`log(${base})`)}))`;
        return `(${base}^${exp})`;
      }
      case "fn": {
        const a = this.emit(f.arg, sym);
        if (f.name === "sqrt") return `(${a}^${this.numberText(0.5)})`;
        // nerdamer knows neither log1p nor expm1: they go as their textbook forms.
        if (f.name === "log1p") return `log(1+${a})`;
        if (f.name === "expm1") return `((ce^${a})-1)`;
        return f.name === "exp" ? `(ce^${a})` : `${f.name}(${a})`;
      }
      case "display":
        throw new Unavailable(`internal: '${f.name}' cannot go to the CAS`);
    }
  }
}
