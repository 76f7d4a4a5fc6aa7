/**
 * Speed of the three-way check (issue 5), figures not pass/fail:
 * (a) checks per second on the seed cases at random points, once formulas are compiled (the
 *     caches of check() keep parsed expressions, CAS formulas and compiled programs);
 * (b) random expressions per second through the full check, fresh CAS differentiation included
 *     (distinct expressions, derivative cache emptied, expressions parsed from text);
 * (c) `gradtrio check 'mean(bce(sigmoid(w*x+b), y))'` with x and y of 10^6 elements from @FILE,
 *     as a real subprocess: wall time, verdict, which legs ran, and the size of the --json output.
 */

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { builtinSignatures, exprArbitrary } from "../properties/arbitraries.ts";
import { check } from "../src/check/check.ts";
import type { Point } from "../src/expr/point.ts";
import { print } from "../src/expr/print.ts";
import { mulberry32 } from "../src/random.ts";
import { clearCasCache } from "../src/symbolic/cas.ts";
import { writeLogisticPoint } from "../test/fixtures/logistic.ts";
import { median } from "./timing.ts";

const rng = mulberry32;

const SEEDS: readonly { expr: string; point: (r: () => number) => Point }[] = [
  { expr: "x^2", point: (r) => ({ x: 10 * r() - 5 }) },
  { expr: "sin(x^2)", point: (r) => ({ x: 8 * r() - 4 }) },
  { expr: "mean(x^2)", point: (r) => ({ x: [4 * r() - 2, 4 * r() - 2, 4 * r() - 2] }) },
  {
    expr: "bce(clamp(sigmoid(w*x+b), 1e-8, 1-1e-8), y)",
    point: (r) => ({ w: 2 * r() - 1, b: 2 * r() - 1, x: 8 * r() - 4, y: r() < 0.5 ? 0 : 1 }),
  },
];

function seedThroughput(): void {
  const r = rng(7);
  for (const s of SEEDS) for (let i = 0; i < 200; i++) check(s.expr, { at: s.point(r) });
  const per = 1000;
  const rates: number[] = [];
  const perCase = new Map<string, number[]>();
  let other = 0;
  for (let rep = 0; rep < 5; rep++) {
    const t0 = performance.now();
    for (const s of SEEDS) {
      const points = Array.from({ length: per }, () => s.point(r));
      const c0 = performance.now();
      for (const at of points) if (check(s.expr, { at }).verdict !== "agree") other++;
      const list = perCase.get(s.expr) ?? [];
      list.push((per / (performance.now() - c0)) * 1000);
      perCase.set(s.expr, list);
    }
    rates.push(((SEEDS.length * per) / (performance.now() - t0)) * 1000);
  }
  console.log(
    `(a) seed cases at random points: median ${Math.round(median(rates))} checks/s over 5 rounds of ${SEEDS.length * per} (target ≥ 10,000/s; min ${Math.round(Math.min(...rates))}, max ${Math.round(Math.max(...rates))}); ${other} not agree`,
  );
  for (const [expr, list] of perCase) console.log(`    ${expr}: ${Math.round(median(list))}/s`);
}

function randomExpressions(): void {
  const ops = builtinSignatures.filter((o) => o.name !== "matmul");
  const expr = exprArbitrary({
    variables: ["x", "y"],
    ops,
    numbers: fc.constantFrom(0.5, 1, 2, 3, 0.25, 1.5),
    maxDepth: 3,
  });
  const point = fc.record({
    x: fc.double({ min: -2, max: 2, noNaN: true }),
    y: fc.double({ min: -2, max: 2, noNaN: true }),
  });
  // Keep distinct expressions at points where all three legs run and the point is no kink or
  // singularity (selected on Expr objects, so the timed run below parses and derives afresh).
  const seen = new Set<string>();
  const cases: { text: string; at: Point }[] = [];
  for (const [e, at] of fc.sample(fc.tuple(expr, point), { numRuns: 3000, seed: 11 })) {
    const text = print(e);
    if (seen.has(text)) continue;
    seen.add(text);
    const rep = check(e, { at });
    const legsOk = Object.values(rep.legs).every((l) => l.status === "ok");
    if (legsOk && rep.verdict !== "inconclusive") cases.push({ text, at });
  }
  clearCasCache();
  const verdicts = { agree: 0, disagree: 0, inconclusive: 0 };
  const t0 = performance.now();
  for (const { text, at } of cases) verdicts[check(text, { at }).verdict]++;
  const ms = performance.now() - t0;
  console.log(
    `(b) random expressions (depth ≤ 3, x and y), fresh CAS: ${Math.round((cases.length / ms) * 1000)} expressions/s over ${cases.length} distinct (target ≥ 200/s); ${verdicts.agree} agree, ${verdicts.disagree} disagree, ${verdicts.inconclusive} inconclusive`,
  );
}

function bigCheck(): void {
  const n = 1_000_000;
  const dir = mkdtempSync(join(tmpdir(), "gradtrio-check-bench-"));
  writeLogisticPoint(dir, n, rng(1));
  const bin = fileURLToPath(new URL("../bin/gradtrio.js", import.meta.url));
  const args = [bin, "check", "mean(bce(sigmoid(w*x+b), y))", "--at", "w=0.5", "b=-0.2"];
  try {
    for (const json of [false, true]) {
      const times: number[] = [];
      let last = "";
      for (let rep = 0; rep < 3; rep++) {
        const t0 = performance.now();
        const res = spawnSync(
          "node",
          [...args, "x=@x.json", "y=@y.json", ...(json ? ["--json"] : [])],
          {
            cwd: dir,
            encoding: "utf8",
            maxBuffer: 1 << 30,
          },
        );
        times.push(performance.now() - t0);
        if (json && res.status !== 2) {
          const j = JSON.parse(res.stdout) as {
            verdict: string;
            gradients: Record<string, { symbolic: unknown; autograd: unknown }>;
          };
          const legs = Object.values(j.gradients).every(
            (g) => g.symbolic !== null && g.autograd !== null,
          );
          const mb = Buffer.byteLength(res.stdout, "utf8") / 1e6;
          last = `exit ${res.status}, verdict ${j.verdict}, symbolic and autograd gradients ${legs ? "present" : "MISSING"}, JSON output ${mb.toFixed(0)} MB`;
        } else {
          const lines = res.stdout.trim().split("\n");
          last = `exit ${res.status}, ${lines.filter((l) => /numeric method|fast mode|agree|disagree|inconclusive/.test(l)).join(" | ")}${res.stderr.trim()}`;
        }
      }
      console.log(
        `(c) gradtrio check 'mean(bce(sigmoid(w*x+b), y))' x, y of 10^6 from @FILE${json ? " --json" : ""}, subprocess: median ${(median(times) / 1000).toFixed(2)} s wall of 3 (${times.map((t) => (t / 1000).toFixed(2)).join(", ")}; target < 3 s); ${last}`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function run(): void {
  seedThroughput();
  randomExpressions();
  bigCheck();
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].split("/").pop()!))
  run();
