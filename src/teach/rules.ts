/**
 * Derivatives as students write them: one local rule per op, in the form a textbook or a
 * notebook uses (σ′ = σ(1−σ), tanh′ = 1−tanh², abs′ = sign(x), log′ = 1/x), written in terms of
 * the node's own name where that is the habit (`p*(1-p)` for `p = sigmoid(z)`). Read it top to
 * bottom to audit the teaching view. The rules are the "by hand" column of `explain`: they share
 * no code with autograd's backward rules (src/autograd/ops.ts) or with the CAS.
 *
 * `Record<BuiltinOp, …>` makes the compiler refuse an op without a rule; custom ops take theirs
 * from the CAS (src/symbolic/local.ts).
 */
import type { BuiltinOp } from "../expr/ops.ts";
import { type Formula, fadd, ffn, fmul, fnum, fpow, fratio } from "../symbolic/formula.ts";

/** What a rule sees: its arguments and its own output, as formulas (symbols or numbers). */
export interface RuleInput {
  readonly args: readonly Formula[];
  readonly out: Formula;
  /** Elements of the (first) argument: a mean's 1/n. */
  readonly size: number;
}

/** ∂out/∂argᵢ for one argument: a formula, or a piecewise rule with its own words. */
export type LocalForm =
  | { readonly kind: "formula"; readonly formula: Formula; readonly note?: string }
  /** Elementwise 0/1 (relu, clamp): `keep(values)` is 1 where the gradient passes. */
  | {
      readonly kind: "mask";
      readonly plain: string;
      readonly latex: string;
      readonly keep: (args: readonly number[], out: number) => number;
      readonly note?: string;
    };

/**
 * A rule, or "linear" for an op whose local derivative is a linear map on the gradient rather
 * than elementwise (matmul, softmax): the chain applies it (src/teach/chain.ts).
 */
export type Rule = ((input: RuleInput) => LocalForm[]) | "linear";

const f = (formula: Formula, note?: string): LocalForm =>
  note === undefined ? { kind: "formula", formula } : { kind: "formula", formula, note };
const neg = (a: Formula): Formula => fmul(fnum(-1), a);
const oneMinus = (a: Formula): Formula => fadd(fnum(1), neg(a));
const recip = (a: Formula): Formula => fpow(a, fnum(-1));
const isZero = (a: Formula): boolean => a.kind === "num" && a.value === 0;

/** The reciprocal node PyTorch makes for `c / x` (a plain number over a tensor). */
export const RECIPROCAL_RULE = ({ args: [x] }: RuleInput): LocalForm[] => [
  f(neg(fpow(x!, fnum(-2)))), // d(1/x) = -1/x²
];

/** Elementwise multiplication by a plain number (the MulBackward0 over a reciprocal). */
export const SCALE_RULE = ({ args: [, c] }: RuleInput): LocalForm[] => [f(c!)];

export const RULES: Record<BuiltinOp, Rule> = {
  add: () => [f(fnum(1)), f(fnum(1))],
  sub: () => [f(fnum(1)), f(fnum(-1))],
  mul: ({ args: [a, b] }) => [f(b!), f(a!)],
  // d(a/b) = da/b − a/b² db
  div: ({ args: [a, b] }) => [f(recip(b!)), f(neg(fmul(a!, fpow(b!, fnum(-2)))))],
  // d(aᵇ) = b·aᵇ⁻¹ da + aᵇ·log(a) db
  pow: ({ args: [a, b], out }) => [
    f(isZero(b!) ? fnum(0) : fmul(b!, fpow(a!, fadd(b!, fnum(-1))))),
    f(fmul(out, ffn("log", a!))),
  ],
  neg: () => [f(fnum(-1))],
  sin: ({ args: [a] }) => [f(ffn("cos", a!))],
  cos: ({ args: [a] }) => [f(neg(ffn("sin", a!)))],
  tan: ({ out }) => [f(fadd(fnum(1), fpow(out, fnum(2))))], // 1 + tan²
  exp: ({ out }) => [f(out)], // exp′ = exp
  log: ({ args: [a] }) => [f(recip(a!))],
  sqrt: ({ out }) => [f(recip(fmul(fnum(2), out)))], // 1/(2√x)
  tanh: ({ out }) => [f(oneMinus(fpow(out, fnum(2))))], // 1 − tanh²
  sigmoid: ({ out }) => [f(fmul(out, oneMinus(out)))], // σ(1 − σ)
  relu: ({ args: [a] }) => [
    {
      kind: "mask",
      plain: `1 if ${text(a!)} > 0, else 0`,
      latex: `\\mathbb{1}[${text(a!)} > 0]`,
      keep: ([v]) => (v! > 0 ? 1 : 0),
      note: "relu′(0) = 0, PyTorch's convention",
    },
  ],
  abs: ({ args: [a] }) => [f(ffn("sign", a!), "abs′(0) = sign(0) = 0, PyTorch's convention")],
  log1p: ({ args: [a] }) => [f(recip(fadd(fnum(1), a!)))],
  // softplus′ = σ(x) = 1/(1 + e⁻ˣ)
  softplus: ({ args: [a] }) => [f(recip(fadd(fnum(1), ffn("exp", neg(a!)))))],
  clamp: ({ args: [a, lo, hi] }) => {
    const between = (v: readonly number[]) => v[0]! >= v[1]! && v[0]! <= v[2]!;
    return [
      {
        kind: "mask",
        plain: `1 if ${text(lo!)} ≤ ${text(a!)} ≤ ${text(hi!)}, else 0`,
        latex: `\\mathbb{1}[${text(lo!)} \\le ${text(a!)} \\le ${text(hi!)}]`,
        keep: (v) => (between(v) ? 1 : 0),
      },
      {
        kind: "mask",
        plain: `1 if ${text(a!)} < ${text(lo!)}, else 0`,
        latex: `\\mathbb{1}[${text(a!)} < ${text(lo!)}]`,
        keep: (v) => (v[0]! < v[1]! ? 1 : 0),
      },
      {
        kind: "mask",
        plain: `1 if ${text(a!)} > ${text(hi!)}, else 0`,
        latex: `\\mathbb{1}[${text(a!)} > ${text(hi!)}]`,
        keep: (v) => (v[0]! > v[2]! && v[1]! <= v[2]! ? 1 : 0),
      },
    ];
  },
  // bce(p, t) = −(t·log p + (1−t)·log(1−p)): ∂/∂p = (p − t)/(p(1 − p)), ∂/∂t = log(1−p) − log p
  bce: ({ args: [p, t] }) => [
    f(fmul(fadd(p!, neg(t!)), recip(fmul(p!, oneMinus(p!))))),
    f(fadd(ffn("log", oneMinus(p!)), neg(ffn("log", p!)))),
  ],
  // Reductions: the local derivative of every element.
  sum: () => [f(fnum(1), "for each element")],
  mean: ({ size }) => [f(fratio(1, size), "for each element")],
  // erf′ = 2/√π·e^(−u²)
  erf: ({ args: [a] }) => [
    f(fmul(fnum(2 / Math.sqrt(Math.PI)), ffn("exp", neg(fpow(a!, fnum(2)))))),
  ],
  // gelu(u) = u·Φ(u): gelu′ = Φ(u) + u·φ(u)
  gelu: ({ args: [a] }) => [
    f(
      fadd(
        fmul(fratio(1, 2), fadd(fnum(1), ffn("erf", fmul(fnum(Math.SQRT1_2), a!)))),
        fmul(
          a!,
          fnum(1 / Math.sqrt(2 * Math.PI)),
          ffn("exp", fmul(fratio(-1, 2), fpow(a!, fnum(2)))),
        ),
      ),
    ),
  ],
  asin: ({ args: [a] }) => [f(recip(ffn("sqrt", oneMinus(fpow(a!, fnum(2))))))],
  acos: ({ args: [a] }) => [f(neg(recip(ffn("sqrt", oneMinus(fpow(a!, fnum(2)))))))],
  atan: ({ args: [a] }) => [f(recip(fadd(fnum(1), fpow(a!, fnum(2)))))],
  sinh: ({ args: [a] }) => [f(ffn("cosh", a!))],
  cosh: ({ args: [a] }) => [f(ffn("sinh", a!))],
  expm1: ({ args: [a] }) => [f(ffn("exp", a!))],
  // The gradient goes to the larger (smaller) argument; at a tie half to each, as PyTorch.
  maximum: ({ args: [a, b] }) => [
    winner(`1 if ${text(a!)} > ${text(b!)}, ½ at a tie, else 0`, (u, v) =>
      u > v ? 1 : u < v ? 0 : 0.5,
    ),
    winner(`1 if ${text(b!)} > ${text(a!)}, ½ at a tie, else 0`, (u, v) =>
      v > u ? 1 : v < u ? 0 : 0.5,
    ),
  ],
  minimum: ({ args: [a, b] }) => [
    winner(`1 if ${text(a!)} < ${text(b!)}, ½ at a tie, else 0`, (u, v) =>
      u < v ? 1 : u > v ? 0 : 0.5,
    ),
    winner(`1 if ${text(b!)} < ${text(a!)}, ½ at a tie, else 0`, (u, v) =>
      v < u ? 1 : v > u ? 0 : 0.5,
    ),
  ],
  // max/min over all elements: 1 at the extreme element (a tie is a kink).
  max: ({ args: [a], out }) => [extreme(`1 where ${text(a!)} = ${text(out)}, else 0`)],
  min: ({ args: [a], out }) => [extreme(`1 where ${text(a!)} = ${text(out)}, else 0`)],
  // logsumexp′ = softmax: e^(u − logsumexp(u)) for each element
  logsumexp: ({ args: [a], out }) => [
    f(ffn("exp", fadd(a!, neg(out))), "for each element: softmax"),
  ],
  softmax: "linear", // a Jacobian per row: G ↦ y ⊙ (G − Σ G ⊙ y)
  matmul: "linear", // G ↦ G·Bᵀ, Aᵀ·G
};

function winner(plain: string, keep: (u: number, v: number) => number): LocalForm {
  return { kind: "mask", plain, latex: plain, keep: ([u, v]) => keep(u!, v!) };
}

function extreme(plain: string): LocalForm {
  return { kind: "mask", plain, latex: plain, keep: ([u], out) => (u === out ? 1 : 0) };
}

function text(a: Formula): string {
  if (a.kind === "sym") return a.name;
  if (a.kind === "num") return String(a.value);
  if (a.kind === "const") return a.name;
  return "…";
}
