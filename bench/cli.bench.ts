/**
 * CLI figures: (1) `gradtrio check 'mean(bce(sigmoid(w*x+b), y))'` with x and y of 10^6 elements
 * from @FILE, as a real subprocess (target < 3 s, verdict agree with all three legs); (2) checks
 * per second through `check()` on the seed cases at random points (target ≥ 10,000/s).
 */

import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { check } from "../src/check/check.ts";
import type { Point } from "../src/expr/point.ts";
import { mulberry32 } from "../src/random.ts";

const rng = mulberry32;

function bigCheck(): void {
  const n = 1_000_000;
  const r = rng(1);
  const dir = mkdtempSync(join(tmpdir(), "gradtrio-bench-"));
  const x = Array.from({ length: n }, () => 4 * r() - 2);
  const y = Array.from({ length: n }, () => (r() < 0.5 ? 0 : 1));
  writeFileSync(join(dir, "x.json"), JSON.stringify(x));
  writeFileSync(join(dir, "y.json"), JSON.stringify(y));
  const bin = fileURLToPath(new URL("../bin/gradtrio.js", import.meta.url));
  const args = [bin, "check", "mean(bce(sigmoid(w*x+b), y))", "--at", "w=0.5", "b=-0.2"];
  const t0 = performance.now();
  const res = spawnSync("node", [...args, "x=@x.json", "y=@y.json", "--json"], {
    cwd: dir,
    encoding: "utf8",
    maxBuffer: 1 << 30,
  });
  const ms = performance.now() - t0;
  let verdict = `exit ${res.status}: ${res.stderr.trim()}`;
  if (res.status !== 2 && res.stdout !== "") {
    const j = JSON.parse(res.stdout) as { verdict: string; reason: string | null };
    verdict = `${j.verdict}${j.reason === null ? "" : ` (${j.reason.slice(0, 200)})`}`;
  }
  console.log(
    `check mean(bce(sigmoid(w*x+b), y)), x and y of 10^6 from @FILE, --json, subprocess: ${(ms / 1000).toFixed(2)} s wall (target < 3 s); exit ${res.status}; verdict ${verdict}`,
  );
}

interface Seed {
  readonly expr: string;
  readonly point: (r: () => number) => Point;
}

const SEEDS: readonly Seed[] = [
  { expr: "x^2", point: (r) => ({ x: 10 * r() - 5 }) },
  { expr: "sin(x^2)", point: (r) => ({ x: 8 * r() - 4 }) },
  { expr: "mean(x^2)", point: (r) => ({ x: [4 * r() - 2, 4 * r() - 2, 4 * r() - 2] }) },
  {
    expr: "bce(clamp(sigmoid(w*x+b), 1e-8, 1-1e-8), y)",
    point: (r) => ({ w: 2 * r() - 1, b: 2 * r() - 1, x: 8 * r() - 4, y: r() < 0.5 ? 0 : 1 }),
  },
];

function checksPerSecond(): void {
  const r = rng(7);
  // Warm up (JIT, CAS cache) on each case.
  for (const s of SEEDS) for (let i = 0; i < 20; i++) check(s.expr, { at: s.point(r) });
  const total = 2000;
  const counts = { agree: 0, other: 0 };
  const perCase: string[] = [];
  const t0 = performance.now();
  for (const s of SEEDS) {
    const c0 = performance.now();
    for (let i = 0; i < total / SEEDS.length; i++) {
      const rep = check(s.expr, { at: s.point(r) });
      if (rep.verdict === "agree") counts.agree++;
      else counts.other++;
    }
    const ms = performance.now() - c0;
    perCase.push(`${s.expr}: ${Math.round((total / SEEDS.length / ms) * 1000)}/s`);
  }
  const ms = performance.now() - t0;
  console.log(
    `check() on the seed cases at random points: ${Math.round((total / ms) * 1000)} checks/s (target ≥ 10,000/s); ${counts.agree} agree, ${counts.other} other`,
  );
  for (const p of perCase) console.log(`  ${p}`);
}

export function run(): void {
  checksPerSecond();
  bigCheck();
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].split("/").pop()!))
  run();
