/**
 * What one fuzz thread allocates (issue 14: V8's garbage collector runs on the cores a second
 * thread would use). In this process, a fuzz of two correct ops (bench/two-ops.ts), warmed up by
 * a fuzz of another seed first, then under V8's sampling heap profiler (every 16 KB on average):
 * the bytes allocated per case, collected objects included, by function; the bytes of objects that
 * survived a young-generation collection (what V8 copies, and promotes into its old generation
 * when they survive two); the young collections and their pauses (`PerformanceObserver`, `gc`).
 * `npm run bench alloc`; ALLOC_RUNS=1000 (runs per op).
 */

import { mkdtempSync, rmSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { constants, PerformanceObserver } from "node:perf_hooks";
import { opsModule } from "./two-ops.ts";

interface ProfileNode {
  readonly callFrame: { readonly functionName: string; readonly url: string };
  readonly selfSize: number;
  readonly children: readonly ProfileNode[];
}

/** Bytes per function (name and file) of a sampling heap profile, and the total. */
function bySite(head: ProfileNode): { total: number; sites: Map<string, number> } {
  const sites = new Map<string, number>();
  let total = 0;
  const walk = (n: ProfileNode): void => {
    const file = n.callFrame.url.split("/").slice(-2).join("/");
    const k = `${n.callFrame.functionName || "(anonymous)"} ${file}`;
    sites.set(k, (sites.get(k) ?? 0) + n.selfSize);
    total += n.selfSize;
    for (const c of n.children) walk(c);
  };
  walk(head);
  return { total, sites };
}

export async function run(): Promise<void> {
  const runs = Number(process.env.ALLOC_RUNS ?? 1000);
  const { loadOps } = await import("../src/fuzz/load.ts");
  const { FuzzRun } = await import("../src/fuzz/parallel.ts");
  const dir = mkdtempSync(join(tmpdir(), "gradtrio-alloc-bench-"));
  try {
    const file = opsModule(dir);
    const ops = (await loadOps(file, "/")).map((o) => o.definition);
    const fuzz = (seed: number) => new FuzzRun({ ops, runs, seed, opsFile: file }, file).run(null);
    await fuzz(2);
    const cases = 2 * runs;
    console.log(
      `fuzz of hypot2 and lecunTanh, ${runs} runs each (${cases} cases, sweeps included), after a warm-up fuzz; load average ${loadavg()[0]!.toFixed(1)}`,
    );
    const session = new Session();
    session.connect();
    await session.post("HeapProfiler.enable");
    const profile = async (young: boolean) => {
      await session.post("HeapProfiler.startSampling", {
        samplingInterval: 16384,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: young,
      });
      await fuzz(1);
      const { profile } = await session.post("HeapProfiler.stopSampling");
      return bySite(profile.head as unknown as ProfileNode);
    };
    const kb = (bytes: number) => `${(bytes / 1024 / cases).toFixed(1)} KB`;
    const all = await profile(true);
    console.log(`allocated per case: ${kb(all.total)} (${(all.total / 2 ** 20).toFixed(0)} MB)`);
    for (const [site, bytes] of [...all.sites].sort((a, b) => b[1] - a[1]).slice(0, 8))
      console.log(`  ${kb(bytes).padStart(9)}  ${site}`);
    const survived = await profile(false);
    console.log(
      `survived a young-generation collection (promoted, or still young): ${kb(survived.total)} per case`,
    );
    for (const [site, bytes] of [...survived.sites].sort((a, b) => b[1] - a[1]).slice(0, 5))
      console.log(`  ${kb(bytes).padStart(9)}  ${site}`);
    await session.post("HeapProfiler.disable");
    session.disconnect();

    let young = 0;
    let youngMs = 0;
    let full = 0;
    const observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const kind = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
        if (kind === constants.NODE_PERFORMANCE_GC_MINOR) {
          young++;
          youngMs += e.duration;
        } else if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) full++;
      }
    });
    observer.observe({ entryTypes: ["gc"] });
    const t0 = performance.now();
    await fuzz(1);
    const ms = performance.now() - t0;
    await new Promise((r) => setImmediate(r));
    observer.disconnect();
    console.log(
      `without the profiler: ${young} young collections, ${(youngMs / young).toFixed(2)} ms each (${((100 * youngMs) / ms).toFixed(1)}% of the fuzz's ${(ms / 1000).toFixed(2)} s on this thread), ${full} full`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
