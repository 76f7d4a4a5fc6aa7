/**
 * What a worker thread runs (`--workers N`): its part of a round of fuzz tasks, claimed one by one
 * from the round's shared counter (`claims.ts`), or one check entry of a gate config.
 * A worker loads the user's modules itself (ops modules, the config and its ops modules, `.ts`
 * through jiti) once, as it starts (`preload`, from the pool's `workerData`), and keeps them, the
 * CAS cache and the case streams for its next tasks. A task's result depends on the task alone,
 * so it is the same whichever thread runs it.
 */
import { resolve } from "node:path";
import { Claims, claimAll } from "./claims.ts";
import { validateConfig } from "./config.ts";
import { type FuzzContext, type FuzzTask, type FuzzTaskResult, prepareFuzz } from "./fuzz.ts";
import { type GateEntryResult, loadConfig, runCheckEntry } from "./gate.ts";
import { loadOps } from "./load.ts";
import type { Preload } from "./parallel.ts";
import { followConsoleRoute } from "./stray.ts";

/** A fuzz context without its ops: what a worker needs to rebuild it. */
export type FuzzSettings = Omit<FuzzContext, "defs">;

export type WorkerTask =
  | {
      readonly kind: "check";
      /** The config module, absolute; the entry is `checks[index]`. */
      readonly config: string;
      readonly index: number;
      /** Its replay's ops modules (`runCheckEntry`'s `opsFiles`). */
      readonly ops: readonly string[];
    }
  | {
      /** Claims tasks of a round until none is left (`claims.ts`); answers [task index, result]s. */
      readonly kind: "claims";
      readonly file: string;
      readonly settings: FuzzSettings;
      readonly tasks: readonly FuzzTask[];
      /** The round's shared cells and the fuzz's number of ops. */
      readonly buffer: SharedArrayBuffer;
      readonly ops: number;
      /** This thread's slot in the cells (its task in flight). */
      readonly slot: number;
    }
  /** Answers once the thread has loaded what it preloads. */
  | { readonly kind: "ready" };

const contexts = new Map<string, Promise<FuzzContext>>();
/**
 * Each ops module is loaded once per thread: the same definitions for every fuzz of it, so what
 * is cached per definition (the CAS's per-op derivatives) serves them all.
 */
const modules = new Map<string, ReturnType<typeof loadOps>>();

function opsOf(file: string): ReturnType<typeof loadOps> {
  let ops = modules.get(file);
  if (ops === undefined) modules.set(file, (ops = loadOps(file, "/")));
  return ops;
}
const configs = new Map<string, ReturnType<typeof loadGateConfig>>();

function configOf(file: string): ReturnType<typeof loadGateConfig> {
  let config = configs.get(file);
  if (config === undefined) configs.set(file, (config = loadGateConfig(file)));
  return config;
}

/** The fuzz context of an ops module and settings, made once per thread. */
function contextOf(file: string, settings: FuzzSettings): Promise<FuzzContext> {
  const key = `${file}\u0000${JSON.stringify(settings)}`;
  let ctx = contexts.get(key);
  if (ctx === undefined) contexts.set(key, (ctx = loadContext(file, settings)));
  return ctx;
}

async function loadContext(file: string, settings: FuzzSettings): Promise<FuzzContext> {
  const ops = await opsOf(file);
  const { ctx } = prepareFuzz({
    ops: ops.map((o) => o.definition),
    runs: settings.runs,
    seed: settings.seed,
    maxDepth: settings.maxDepth,
    sweepPoints: settings.sweepPoints,
    opsFile: settings.opsFile,
    onSanityFailure: "report",
    ...(settings.path === undefined ? {} : { path: settings.path }),
    ...(settings.rtol === undefined ? {} : { rtol: settings.rtol }),
    ...(settings.atol === undefined ? {} : { atol: settings.atol }),
  });
  return ctx;
}

/** A config with the ops of its fuzz entries registered: its checks may call them. */
async function loadGateConfig(file: string) {
  const { config, dir } = await loadConfig(file, "/");
  const c = validateConfig(config);
  for (const f of c.fuzz ?? []) await opsOf(resolve(dir, f.ops));
  return c;
}

let preloaded: Promise<unknown> = Promise.resolve();

/**
 * Starts loading the modules a thread's tasks will need. A module that fails to load is reported
 * by the first task that needs it, as without a preload.
 */
export function preload(what: Preload | undefined): Promise<unknown> {
  followConsoleRoute();
  const loads = [
    ...(what?.ops ?? []).map(opsOf),
    ...(what?.config === undefined ? [] : [configOf(what.config)]),
  ];
  preloaded = Promise.allSettled(loads);
  return preloaded;
}

/** Runs one task (the worker's entry point; also usable in-process). */
export default async function runWorkerTask(
  t: WorkerTask,
): Promise<[number, FuzzTaskResult][] | GateEntryResult | null> {
  if (t.kind === "ready") {
    await preloaded;
    return null;
  }
  if (t.kind === "claims")
    return claimAll(
      await contextOf(t.file, t.settings),
      t.tasks,
      new Claims(t.buffer, t.ops),
      t.slot,
    );
  const c = await configOf(t.config);
  return runCheckEntry(c.checks![t.index]!, `checks[${t.index}]`, c.seed!, t.ops);
}
