/**
 * float32 against float64 in the same process: the seed's BCE graph on scalars, forward and
 * backward, and `mean(sin(x^2))` over 10^6 elements. float32 rounds every op's output with
 * Math.fround (one more pass over each result), so the ratio is its cost.
 */
import { clamp, type DType, log, mean, sigmoid, sub, tensor } from "../src/autograd/index.ts";
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

export function run(): void {
  const bce = ratio(seedBceStep("float32"), seedBceStep("float64"), 9);
  console.log(
    `seed BCE graph on scalars, 2000 forward+backward: float32 ${bce.candidateMs.toFixed(1)} ms vs float64 ${bce.baselineMs.toFixed(1)} ms: ratio ${bce.ratio.toFixed(2)}x`,
  );
  const big = ratio(meanSinSquare("float32"), meanSinSquare("float64"), 7);
  console.log(
    `mean(sin(x^2)), x of 10^6, forward+backward: float32 ${big.candidateMs.toFixed(1)} ms vs float64 ${big.baselineMs.toFixed(1)} ms: ratio ${big.ratio.toFixed(2)}x`,
  );
}
