/**
 * Known wrong derivatives from nerdamer-prime 1.5.0, met while building the symbolic leg.
 * `defects.test.ts` pins every entry: nerdamer still answers `nerdamer` for `casInput`, and the
 * leg does what `leg` says at `at`: "wrong" (a three-way check blames the symbolic leg there, as
 * an outvoted reference: autograd is confirmed, exit 0), "unavailable" (nerdamer gives up on the
 * leg's translation instead of answering wrong) or "right" (the translation works around the
 * defect: numbers other than small integers, a negation's -1 and the logs of constants go to
 * nerdamer as symbols, roots as u^h with h a symbol for 1/2, subtrees free of the variable as
 * opaque symbols; see src/symbolic/to-cas.ts).
 */

export interface CasDefect {
  readonly id: string;
  /** The function, in gradtrio's expression language. */
  readonly expr: string;
  /** A point where the defect shows. */
  readonly at: Readonly<Record<string, number>>;
  /** A text on which nerdamer shows the defect (`v0` is the variable), as the leg once sent it. */
  readonly casInput: string;
  /** The CAS symbol of the variable differentiated by (default `v0`). */
  readonly wrt?: string;
  /** What nerdamer returns for d/d(wrt). */
  readonly nerdamer: string;
  /** The right derivative, by hand, in the same names. */
  readonly correct: string;
  /** The right gradient at `at`, by hand. */
  readonly grad: Readonly<Record<string, number>>;
  /** What the symbolic leg does at `at` (see the top of this file). */
  readonly leg: "wrong" | "unavailable" | "right";
  /** What the symbolic Hessian does at `at`, for a defect met in second derivatives. */
  readonly hessian?: "wrong";
  readonly note: string;
}

/**
 * @example
 * for (const d of CAS_DEFECTS) console.log(d.id, d.expr, d.nerdamer, "≠", d.correct);
 */
export const CAS_DEFECTS: readonly CasDefect[] = [
  {
    id: "sqrt-of-negated",
    expr: "sqrt(-x)",
    at: { x: -2 },
    casInput: "sqrt((-v0))",
    nerdamer: "(-1/2)*v0^(-1/2)",
    correct: "(-1/2)*(-v0)^(-1/2)",
    grad: { x: -1 / (2 * Math.SQRT2) },
    leg: "right",
    note: "the minus sign is pulled out of the root: NaN for x < 0, where sqrt(-x) is defined. Worked around: the leg sends roots as u^h (h a symbol for 1/2) and the minus as a symbol for -1 (cm*v0), which nerdamer cannot move: right here",
  },
  {
    id: "abs-branch-sqrt",
    expr: "abs(x)^0.5",
    at: { x: -2 },
    casInput: "((-v0)^(1/2))",
    nerdamer: "(-1/2)*v0^(-1/2)",
    correct: "(-1/2)*(-v0)^(-1/2)",
    grad: { x: -1 / (2 * Math.SQRT2) },
    leg: "right",
    note: "abs(x) takes its branch -x for x < 0, then the same sign error as sqrt(-x); worked around the same way: right here",
  },
  {
    id: "cube-root-of-negated",
    expr: "(-x)^(1/3)",
    at: { x: -8 },
    casInput: "((-v0)^(1/3))",
    nerdamer: "(-1/3)*v0^(-2/3)",
    correct: "(-1/3)*(-v0)^(-2/3)",
    grad: { x: -1 / 12 },
    leg: "right",
    note: "the sign is pulled out of a fractional power: NaN for x < 0 (also (-x)^k for a symbol k). Worked around: the leg sends the minus as a symbol for -1 (cm*v0), which nerdamer cannot move: right here",
  },
  {
    id: "sqrt-of-negated-cube",
    expr: "sqrt(-x^3)",
    at: { x: -1 },
    casInput: "sqrt((-(v0^3)))",
    nerdamer: "(-3/2)*v0^(1/2)",
    correct: "(-3/2)*v0^2*(-v0^3)^(-1/2)",
    grad: { x: -1.5 },
    leg: "right",
    note: "(-x^3)^(1/2) is simplified as if it were -x^(3/2): NaN for x < 0. Worked around like sqrt-of-negated: right here",
  },
  {
    id: "nested-sqrt",
    expr: "sqrt(1+sqrt(x))",
    at: { x: 4 },
    casInput: "sqrt((1+sqrt(v0)))",
    nerdamer: "(1/4)*(1+sqrt((1/2)*v0^(-1/2)))^(-1/2)*v0^(-1/2)",
    correct: "(1/4)*(1+sqrt(v0))^(-1/2)*v0^(-1/2)",
    grad: { x: 1 / (8 * Math.sqrt(3)) },
    leg: "right",
    note: "the inner sqrt(x) is replaced by the root of its own derivative: wrong for every x; nerdamer's sqrt node shares its argument with its derivative, which it rewrites in place. Worked around: the leg sends roots as u^(1/4)*u^(1/4), which nerdamer folds to a plain power u^(1/2), and the leg is right here",
  },
  {
    id: "sqrt-of-x-plus-sqrt",
    expr: "sqrt(x+sqrt(x))",
    at: { x: 4 },
    casInput: "sqrt((v0+sqrt(v0)))",
    nerdamer: "(1/2)*((1/2)*v0^(-1/2)+1)*(sqrt((1/2)*v0^(-1/2))+v0)^(-1/2)",
    correct: "(1/2)*((1/2)*v0^(-1/2)+1)*(sqrt(v0)+v0)^(-1/2)",
    grad: { x: 1.25 / (2 * Math.sqrt(6)) },
    leg: "right",
    note: "same corruption of an inner sqrt inside an outer root (worked around like nested-sqrt: the leg is right here)",
  },
  {
    id: "power-of-sqrt-sum",
    expr: "(1+sqrt(x))^1.5",
    at: { x: 4 },
    casInput: "((1+sqrt(v0))^(3/2))",
    nerdamer: "(3/4)*(1+sqrt((1/2)*v0^(-1/2)))^(1/2)*v0^(-1/2)",
    correct: "(3/4)*(1+sqrt(v0))^(1/2)*v0^(-1/2)",
    grad: { x: (1.5 * Math.sqrt(3)) / 4 },
    leg: "right",
    note: "same corruption under a fractional power (worked around like nested-sqrt: u^(3/2) goes as u^(3/4)*u^(3/4); the leg is right here)",
  },
  {
    id: "sqrt-constant-factor",
    expr: "sqrt(y)*x",
    at: { y: 4, x: 3 },
    casInput: "sqrt(v0)*v1",
    wrt: "v1",
    nerdamer: "sqrt(v0^(1/2))",
    correct: "sqrt(v0)",
    grad: { x: 2 },
    leg: "right",
    note: "a root that is constant w.r.t. the variable comes back as the root of itself (y^(1/4)): wrong wherever y ≠ 0, 1; found by the random-expression property (sqrt(x)*y, x*sqrt(sum(2)), 1.5*(y/sqrt(pi))) Worked around: for d/dx the leg sends every subtree free of x as an opaque symbol (sqrt(y) → c0), and roots that do depend on x as u^(1/4)*u^(1/4); the leg is right here",
  },
  {
    id: "log-of-negated-root",
    expr: "log(sqrt(-x))",
    at: { x: -2 },
    casInput: "log(((-v0)^(1/4)*(-v0)^(1/4)))",
    nerdamer: "(-1/2)*v0^(-1)",
    correct: "(1/2)*v0^(-1)",
    grad: { x: -0.25 },
    leg: "right",
    note: "the root of a negated argument under log gets the inner minus twice: the sign is wrong for every x < 0. Worked around: the leg sends roots as u^h and the minus as cm*v0, on which nerdamer is right",
  },
  {
    id: "negated-power-of-e",
    expr: "-2^x",
    at: { x: -1.5 },
    casInput: "-(ce^(v0*log(2)))",
    nerdamer: "(-ce)^(log(2)*v0)*log(2)*log(ce)",
    correct: "-ce^(log(2)*v0)*log(2)",
    grad: { x: -(2 ** -1.5) * Math.LN2 },
    leg: "right",
    note: "a minus in front of a power whose exponent is a product moves into the base, (-e)^(…): NaN for most x. Also -pi^x, -exp(tan(y)), -0.5^y; (-1)*… and 0-… are read the same way. Found by the sensitivity benchmark. Worked around: the minus goes as cm*(…), cm a symbol for -1: right here",
  },
  {
    id: "root-of-a-square",
    expr: "sqrt(e*(x*x))",
    at: { x: -0.5 },
    casInput: "((ce*(v0*v0))^(1/4)*(ce*(v0*v0))^(1/4))",
    nerdamer: "ce^(1/2)",
    correct: "ce^(1/2)*v0/abs(v0)",
    grad: { x: -Math.sqrt(Math.E) },
    leg: "right",
    note: "the root of a square is taken as the variable itself (sqrt(x²) = x): the sign is wrong for every x < 0. Found by the sensitivity benchmark. On the leg's u^h form nerdamer keeps (e·x²)^h and is right here; the same defect remains for a bare square, power-of-a-square",
  },
  {
    id: "power-of-a-quotient",
    expr: "(x/y)^1.5",
    at: { x: -2, y: -1.5 },
    casInput: "((v0/v1)^(3/4)*(v0/v1)^(3/4))",
    nerdamer: "(3/2)*v0^(1/2)*v1^(-3/2)",
    correct: "(3/2)*(v0/v1)^(1/2)/v1",
    grad: { x: (1.5 * Math.sqrt(-2 / -1.5)) / -1.5 },
    leg: "right",
    note: "a fractional power of a quotient is split into powers of numerator and denominator: NaN where both are negative, though x/y > 0. Found by the sensitivity benchmark. With the exponent a symbol (k0 for 1.5) nerdamer keeps (x/y)^k0: right here",
  },
  {
    id: "power-of-a-square",
    expr: "pow(x^2, 0.75)",
    at: { x: -1.5 },
    casInput: "((v0^2)^k0)",
    nerdamer: "2*k0*v0^(-1+2*k0)",
    correct: "2*k0*v0*(v0^2)^(-1+k0)",
    grad: { x: 1.5 * -1.5 * 2.25 ** -0.25 },
    leg: "wrong",
    note: "(u²)^k is simplified to u^(2k): NaN for x < 0 (pow(x^2, 0.75), (x^2)^y), and the wrong sign where 2k is an integer (sqrt(x^2) gives 1 at x < 0). The one defect the random-expression benchmark still meets; autograd and the finite differences outvote it (exit 0)",
  },
  {
    id: "exponent-merge",
    expr: "exp(x)/(exp(x)+exp(y))",
    at: { x: 1, y: 2 },
    casInput: "(ce^v0)/((ce^v0)+(ce^v1))",
    nerdamer: "((-1+v0)*(ce^v0+ce^v1)^(-1)*ce^v0*log(ce)+log(ce^v0+ce^v1))*(ce^v0+ce^v1)^(-1+v0)",
    correct: "ce^v0*ce^v1*(ce^v0+ce^v1)^(-2)*log(ce)",
    grad: { x: Math.exp(3) / (Math.E + Math.exp(2)) ** 2 },
    leg: "right",
    hessian: "wrong",
    note: "e^x over a sum that holds it is read as one power of the sum, the exponents added: e^x/(e^x+e^y) becomes (e^x+e^y)^(x-1), wrong for every x. Met in the Hessian of the textbook softmax (exp(x)/sum(exp(x)), whose Jacobian is logsumexp's Hessian): the symbolic Hessian sends whole terms to the CAS and is outvoted there (exit 0). The gradient leg is right (e^y, free of x, goes as an opaque symbol), and so is the Hessian of logsumexp itself (log(Σ e^(xᵢ-m)): nerdamer's own first derivative does not trip it)",
  },
];
