/**
 * Sensitivity of the verdict: over random smooth expressions at random points,
 *  - false alarms: checks that say `disagree` although nothing is wrong;
 *  - planted faults: one backward rule of the autograd engine made wrong by a relative δ
 *    (1e-6, and smaller for scale); the rate at which the check says `disagree` and blames autograd.
 * For comparison, the same faults judged with PyTorch gradcheck's defaults (rtol 1e-3, atol 1e-5)
 * applied between autograd and the finite differences.
 */
import fc from "fast-check";
import { builtinSignatures, exprArbitrary } from "../properties/arbitraries.ts";
import { OPS } from "../src/autograd/ops.ts";
import { check } from "../src/check/check.ts";
import type { Expr } from "../src/expr/ast.ts";
import { postOrder, variablesOf } from "../src/expr/ast.ts";

type Rule = {
  backward: (n: unknown, g: unknown) => readonly ({ mul(x: number): unknown } | null)[];
};
const rules = OPS as unknown as Record<string, Rule>;

/** Engine ops that serve an expression op (pow has number- and tensor-exponent forms, …). */
const ENGINE_OPS: Record<string, string[]> = {
  sub: ["sub", "rsub"],
  pow: ["pow", "powScalar", "rpow"],
  clamp: ["clamp", "clampTensor"],
  sum: ["sum"],
  mean: ["mean"],
};

const SMOOTH = builtinSignatures.filter(
  (o) => !["matmul", "abs", "relu", "clamp"].includes(o.name),
);
const N = Number(process.env.SENSITIVITY_N ?? 10_000);

/** Uniform on [-r, r] (fc.double leans towards the bounds and towards tiny magnitudes). */
const uniform = (r: number) =>
  fc.integer({ min: -(2 ** 30), max: 2 ** 30 }).map((k) => (r * k) / 2 ** 30);

/**
 * Random smooth expressions in x, y at points uniform on [-r, r] (default 2; also
 * bench/trust.bench.ts, which samples [-20, 20] too: there intermediates overflow).
 */
export function cases(seed: number, n: number, r = 2): [Expr, { x: number; y: number }][] {
  const gen = fc.tuple(
    exprArbitrary({
      variables: ["x", "y"],
      ops: SMOOTH,
      numbers: fc.constantFrom(0.5, 1, 2, 3, 0.25, 1.5),
      maxDepth: 3,
    }).filter((e) => variablesOf(e).length > 0),
    fc.record({ x: uniform(r), y: uniform(r) }),
  );
  return fc.sample(gen, { numRuns: n, seed });
}

function planted<T>(op: string, delta: number, fn: () => T): T {
  const keys = ENGINE_OPS[op] ?? [op];
  const saved = keys.map((k) => rules[k]!.backward);
  for (const k of keys) {
    const orig = rules[k]!.backward;
    rules[k]!.backward = (n, g) =>
      orig(n, g).map((t) => (t === null ? null : (t.mul(1 + delta) as never)));
  }
  try {
    return fn();
  } finally {
    keys.forEach((k, i) => {
      rules[k]!.backward = saved[i]!;
    });
  }
}

export function run(): void {
  // False alarms.
  const tally = {
    agree: 0,
    inconclusive: 0,
    disagree: 0,
    blamed: { symbolic: 0, numeric: 0, autograd: 0, none: 0 },
  };
  const t0 = performance.now();
  const conclusive: [Expr, { x: number; y: number }][] = [];
  for (const [e, at] of cases(1, N)) {
    const r = check(e, { at });
    tally[r.verdict]++;
    if (r.verdict === "disagree") {
      tally.blamed[r.blame ?? "none"]++;
      if (process.env.SENSITIVITY_VERBOSE)
        console.log(`  disagree: ${r.expr} at ${JSON.stringify(at)}: ${r.reason}`);
    }
    if (r.verdict === "agree") conclusive.push([e, at]);
  }
  const ms = performance.now() - t0;
  const decided = tally.agree + tally.disagree;
  console.log(
    `random smooth expressions, x, y ∈ [-2, 2]: ${N} checks in ${(ms / 1000).toFixed(1)} s`,
  );
  console.log(
    `  agree ${tally.agree}, inconclusive ${tally.inconclusive} (domain, singularity), disagree ${tally.disagree}` +
      ` (blaming symbolic ${tally.blamed.symbolic}, numeric ${tally.blamed.numeric}, autograd ${tally.blamed.autograd}, nobody ${tally.blamed.none})`,
  );
  console.log(
    `  false-alarm rate on autograd (disagree blaming autograd or nobody): ${(((tally.blamed.autograd + tally.blamed.none) / decided) * 100).toFixed(3)}% of ${decided} conclusive checks`,
  );

  // Planted faults, in the expressions that agreed without a fault.
  for (const delta of [1e-6, 1e-8, 1e-10]) {
    let planted_ = 0;
    let caught = 0;
    let blamedAutograd = 0;
    let gradcheckCaught = 0;
    let visible = 0;
    let caughtVisible = 0;
    const limit = Math.min(conclusive.length, delta === 1e-6 ? N : 2000);
    for (let i = 0; i < limit; i++) {
      const [e, at] = conclusive[i]!;
      // Only ops on a path from a variable: a rule applied to constants never runs.
      const live = new Set<Expr>();
      for (const n of postOrder(e))
        if (n.kind === "var" || (n.kind === "call" && n.args.some((a) => live.has(a)))) live.add(n);
      const ops = [...new Set([...live].flatMap((n) => (n.kind === "call" ? [n.op] : [])))].filter(
        (op) => (ENGINE_OPS[op] ?? [op]).every((k) => k in rules),
      );
      if (ops.length === 0) continue;
      const op = ops[i % ops.length]!;
      const clean = check(e, { at });
      const r = planted(op, delta, () => check(e, { at }));
      planted_++;
      // Did the fault change the autograd gradient by more than rounding (|Δ| > 1e-3·δ·|g|)?
      const moved = (["x", "y"] as const).some((v) => {
        const a = clean.gradients[v]!.autograd as number;
        const b = r.gradients[v]!.autograd as number;
        return Math.abs(a - b) > 1e-3 * delta * Math.abs(a);
      });
      if (moved) visible++;
      else if (process.env.SENSITIVITY_VERBOSE && delta === 1e-6)
        console.log(`  not moved: ${op} in ${r.expr} at ${JSON.stringify(at)}`);
      if (r.verdict !== "disagree" && moved && process.env.SENSITIVITY_VERBOSE)
        console.log(
          `  missed (${delta}): ${op} in ${r.expr} at ${JSON.stringify(at)}: ${r.verdict} ${r.reason ?? ""}`,
        );
      if (r.verdict === "disagree") {
        caught++;
        if (moved) caughtVisible++;
        if (r.blame === "autograd") blamedAutograd++;
      }
      // gradcheck's default test between autograd and the finite differences
      const gc = (["x", "y"] as const).some((v) => {
        const a = r.gradients[v]!.autograd as number;
        const n = r.gradients[v]!.numeric as number;
        return Math.abs(a - n) > 1e-5 + 1e-3 * Math.abs(n);
      });
      if (gc) gradcheckCaught++;
    }
    const pct = (k: number, n: number) => `${((k / Math.max(1, n)) * 100).toFixed(1)}%`;
    console.log(
      `planted faults, relative ${delta.toExponential(0)}: ${planted_} planted, ${visible} moved the gradient;` +
        ` caught ${pct(caught, planted_)} of all, ${pct(caughtVisible, visible)} of those that moved it` +
        ` (blame autograd ${pct(blamedAutograd, caught)} of catches); gradcheck defaults catch ${pct(gradcheckCaught, planted_)}`,
    );
  }
}
