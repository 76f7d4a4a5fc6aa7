// The real bin (bin/gradtrio.js) as a subprocess, for tests of what a user sees: exit code,
// standard output and standard error.
import { spawn } from "node:child_process";
import { join, resolve } from "node:path";
import { expect } from "vitest";

export const root = resolve(import.meta.dirname, "..");
export const bin = join(root, "bin/gradtrio.js");

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `gradtrio argv…` in `cwd` (default: the checkout) with `env` over this process's;
 * `timeout` (ms): killed after it (code null), for a run that might hang.
 */
export function runBin(
  argv: readonly string[],
  opts: { cwd?: string; env?: Record<string, string>; timeout?: number } = {},
): Promise<Run> {
  return new Promise((done) => {
    const child = spawn("node", [bin, ...argv], {
      cwd: opts.cwd ?? root,
      env: { ...process.env, ...opts.env },
      stdio: ["ignore", "pipe", "pipe"],
      ...(opts.timeout === undefined ? {} : { timeout: opts.timeout }),
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.on("close", (code) => done({ code, stdout, stderr }));
  });
}

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
