/**
 * float32 against float64 in the same process: the seed's BCE graph on scalars, forward and
 * backward, and `mean(sin(x^2))` over 10^6 elements. float32 rounds every op's output with
 * Math.fround (one more pass over each result), so the ratio is its cost.
 * Then trust: `check --dtype float32` of random expressions of x, y ∈ [−20, 20] (review 11's
 * sweep: its generator, seed 51, 1500 expressions), where values leave float32's range: how many
 * exit 1 (autograd contradicted), and why; how many are inconclusive for float32's underflow.
 */
import { clamp, type DType, log, mean, sigmoid, sub, tensor } from "../src/autograd/index.ts";
import { check } from "../src/check/check.ts";
import { outcome } from "../src/check/outcome.ts";
import { ratio } from "./timing.ts";

function seedBceStep(dtype: DType): () => void {
  const x = tensor(6.7, { dtype });
  const y = tensor(0, { dtype });
  const w = tensor(1, { requiresGrad: true, dtype });
  const b = tensor(0, { requiresGrad: true, dtype });
  return () => {
    for (let i = 0; i < 2000; i++) {
      const p = clamp(sigmoid(w.mul(x).add(b)), 1e-8, 1 - 1e-8);
      y.mul(log(p))
        .add(sub(1, y).mul(log(sub(1, p))))
        .neg()
        .backward();
    }
  };
}

function meanSinSquare(dtype: DType): () => void {
  const data = new Float64Array(1_000_000);
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i) * 3;
  const x = tensor(data, { requiresGrad: true, dtype });
  return () => {
    x.grad = null;
    mean(x.pow(2).sin()).backward();
  };
}

/** Review 11's random expressions (rnd7.mjs): depth ≤ 4 over x, y, constants, 20 unary ops. */
function* sweep(seed: number, count: number): Generator<{ expr: string; x: number; y: number }> {
  let s = seed;
  const rnd = () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647;
  };
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
  const un =
    "sin cos tan exp log sqrt tanh sigmoid abs log1p softplus erf gelu atan sinh cosh expm1 asin acos relu".split(
      " ",
    );
  const gen = (d: number): string => {
    if (d === 0 || rnd() < 0.25)
      return rnd() < 0.7 ? pick(["x", "y"]) : String(Math.round((rnd() * 4 - 2) * 100) / 100);
    const r = rnd();
    if (r < 0.45) return `${pick(un)}(${gen(d - 1)})`;
    if (r < 0.9) {
      const op = pick(["+", "-", "*", "/", "^"]);
      return op === "^"
        ? `(${gen(d - 1)})^${pick(["2", "3", "0.5", "-1", "y"])}`
        : `(${gen(d - 1)} ${op} ${gen(d - 1)})`;
    }
    return `${pick(["maximum", "minimum", "pow"])}(${gen(d - 1)}, ${gen(d - 1)})`;
  };
  for (let i = 0; i < count; i++) {
    const expr = gen(4);
    const x = Math.round((rnd() * 40 - 20) * 1000) / 1000;
    const y = Math.round((rnd() * 40 - 20) * 1000) / 1000;
    yield { expr, x, y };
  }
}

function float32Trust(): void {
  let fails = 0;
  let nonFinite = 0;
  let underflow = 0;
  let checked = 0;
  for (const { expr, x, y } of sweep(51, 1500)) {
    let r: ReturnType<typeof check>;
    try {
      r = check(expr, { at: { x, y }, dtype: "float32" });
    } catch {
      continue; // a name the expression does not use, and the like (review: "threw")
    }
    checked++;
    if (r.rule === "float32 underflow") underflow++;
    if (outcome(r) !== "fail") continue;
    fails++;
    if (/autograd gives (NaN|-?Infinity)/.test(r.reason ?? "")) nonFinite++;
  }
  console.log(
    `float32 checks of random expressions, x, y in [-20, 20] (1500, seed 51; ${checked} ran): exit 1 ${fails} (of them autograd NaN/Infinity: ${nonFinite}); inconclusive "float32 underflow" ${underflow}`,
  );
}

export function run(): void {
  float32Trust();
  const bce = ratio(seedBceStep("float32"), seedBceStep("float64"), 9);
  console.log(
    `seed BCE graph on scalars, 2000 forward+backward: float32 ${bce.candidateMs.toFixed(1)} ms vs float64 ${bce.baselineMs.toFixed(1)} ms: ratio ${bce.ratio.toFixed(2)}x`,
  );
  const big = ratio(meanSinSquare("float32"), meanSinSquare("float64"), 7);
  console.log(
    `mean(sin(x^2)), x of 10^6, forward+backward: float32 ${big.candidateMs.toFixed(1)} ms vs float64 ${big.baselineMs.toFixed(1)} ms: ratio ${big.ratio.toFixed(2)}x`,
  );
}
