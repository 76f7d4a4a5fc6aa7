/** The two correct ops the scale benches fuzz (bench/workers.bench.ts, bench/alloc.bench.ts). */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { root } from "./built.ts";

/**
 * Two correct ops, one of one argument and one of two (a module in a temporary directory), made
 * with `gradtrio`: the sources' entry (by default) or the built one's, the same gradtrio the CLI
 * runs.
 */
export function opsModule(
  dir: string,
  name = "two-ops.ts",
  gradtrio = pathToFileURL(join(root, "src/autograd/index.ts")).href,
): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    `import { defineOp } from ${JSON.stringify(gradtrio)};
export const hypot2 = defineOp({
  name: "hypot2",
  arity: 2,
  forward: (a, b) => Math.sqrt(a * a + b * b),
  backward: ({ args: [a, b], out, grad }) => [(grad * a) / out, (grad * b) / out],
  formula: (a, b) => \`sqrt((\${a})^2+(\${b})^2)\`,
});
export const lecunTanh = defineOp({
  name: "lecunTanh",
  arity: 1,
  forward: (x) => 1.7159 * Math.tanh((2 * x) / 3),
  backward: ({ args: [x], grad }) => [grad * 1.7159 * (1 - Math.tanh((2 * x) / 3) ** 2) * (2 / 3)],
  formula: (x) => \`1.7159*tanh(2*(\${x})/3)\`,
});
`,
  );
  return file;
}
