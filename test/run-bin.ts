// The real bin (bin/gradtrio.js) as a subprocess, for tests of what a user sees: exit code,
// standard output and standard error.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, expect } from "vitest";

export const root = resolve(import.meta.dirname, "..");
export const bin = join(root, "bin/gradtrio.js");

export interface Run {
  code: number | null;
  /** The signal that ended the bin, or null. */
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * How `runBin` runs: `cwd`, `env` over this process's (undefined: the variable removed),
 * `timeout` (ms), `signalWhen`: `signal` (SIGTERM) sent to the bin once its stderr matches `when`.
 */
export interface RunOptions {
  readonly cwd?: string;
  readonly env?: Record<string, string | undefined>;
  readonly timeout?: number;
  readonly signalWhen?: { readonly when: RegExp; readonly signal?: NodeJS.Signals };
}

/**
 * Runs `gradtrio argv…` in `cwd` (default: the checkout) with `env` over this process's;
 * `timeout` (ms): killed after it (code null), for a run that might hang.
 */
export function runBin(argv: readonly string[], opts: RunOptions = {}): Promise<Run> {
  return new Promise((done) => {
    const env = { ...process.env, ...opts.env };
    for (const [k, v] of Object.entries(opts.env ?? {})) if (v === undefined) delete env[k];
    const child = spawn("node", [bin, ...argv], {
      cwd: opts.cwd ?? root,
      env,
      stdio: ["ignore", "pipe", "pipe"],
      ...(opts.timeout === undefined ? {} : { timeout: opts.timeout }),
    });
    let stdout = "";
    let stderr = "";
    let signalled = false;
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
      if (!signalled && opts.signalWhen?.when.test(stderr)) {
        signalled = true;
        child.kill(opts.signalWhen.signal ?? "SIGTERM");
      }
    });
    child.on("close", (code, signal) => done({ code, signal, stdout, stderr }));
  });
}

/**
 * All of stderr with GRADTRIO_DEBUG=1 when fast mode's numeric leg ran on its worker thread
 * (src/numeric/leg-thread.ts): the leg's time there and the wait for it, nothing else.
 */
export const WORKER_RAN =
  /^gradtrio: debug: fast mode's numeric leg on a worker thread: the leg took \d+ ms there; this thread waited \d+ ms for it\n$/;

/** GRADTRIO_WORKERS as unset (empty): the tests' own environment must not choose the threads. */
export const UNSET_WORKERS = { GRADTRIO_WORKERS: "" };

/** Exit 2 and exactly `line` on stderr (a RegExp: one line matching it), nothing on stdout. */
export function oneError(r: Run, line: string | RegExp): void {
  expect(r.code).toBe(2);
  expect(r.stdout).toBe("");
  if (typeof line === "string") expect(r.stderr).toBe(`gradtrio: error: ${line}\n`);
  else {
    expect(r.stderr.split("\n")).toHaveLength(2); // one line and its newline
    expect(r.stderr).toMatch(line);
  }
}

/** One run of `runsTogether`: its command line, or that with its own options. */
export type NamedRun = readonly string[] | ({ readonly argv: readonly string[] } & RunOptions);

/**
 * Runs of the bin that start together in a `beforeAll` of the calling file (each bin start is a
 * second of tsx), by name; the tests read their results from the record returned, filled once
 * every run has ended. `defaults`: the options of each run (its own `env` is laid over theirs).
 */
export function runsTogether<K extends string>(
  named: Record<K, NamedRun>,
  defaults: RunOptions = {},
  hookTimeout = 120_000,
): Record<K, Run> {
  const runs = {} as Record<K, Run>;
  beforeAll(async () => {
    const keys = Object.keys(named) as K[];
    const done = await Promise.all(
      keys.map((k) => {
        const n: NamedRun = named[k];
        if (!("argv" in n)) return runBin(n, defaults);
        const { argv, ...own } = n;
        return runBin(argv, { ...defaults, ...own, env: { ...defaults.env, ...own.env } });
      }),
    );
    keys.forEach((k, i) => {
      runs[k] = done[i]!;
    });
  }, hookTimeout);
  return runs;
}

/** A new temporary directory, removed after the calling file's tests. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
