#!/usr/bin/env node
// Installed, gradtrio runs its compiled JavaScript (dist/). In a checkout, where src/ is present
// (and dist/ may be absent or stale), it runs the sources through tsx, a devDependency: no build.
import { spawn } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { constants } from "node:os";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Large inputs (`--at x=@FILE` of 8 MiB or more) on Linux, glibc 2.35+, transparent huge pages on
 * request ("madvise"): the command runs in a child with GLIBC_TUNABLES=glibc.malloc.hugetlb=1
 * (fresh 4 KB pages cost most of a 10^6-element check's system time; docs/DESIGN.md). Never when
 * GLIBC_TUNABLES is set (the user's choice, or this relaunch).
 */
const HUGE_INPUT = 8 << 20;
const TUNABLES = "glibc.malloc.hugetlb=1";

function wantsHugePages(argv) {
  if (process.platform !== "linux" || process.env.GLIBC_TUNABLES !== undefined) return false;
  // A debugger's port is this process's (the child would not get it).
  if (process.execArgv.some((a) => /^--(inspect|debug)/.test(a))) return false;
  let bytes = 0;
  for (const arg of argv) {
    const at = arg.indexOf("=@");
    if (at < 0) continue;
    try {
      bytes += statSync(resolve(arg.slice(at + 2))).size;
    } catch {
      // Not a file (the command reports it): no size.
    }
  }
  if (bytes < HUGE_INPUT) return false;
  try {
    if (!readFileSync("/sys/kernel/mm/transparent_hugepage/enabled", "utf8").includes("[madvise]"))
      return false;
  } catch {
    return false;
  }
  // glibc 2.35 or later (musl and older glibc ignore the tunable: the child would be for nothing).
  const glibc = process.report?.getReport().header.glibcVersionRuntime;
  if (typeof glibc !== "string") return false;
  const [major, minor] = glibc.split(".").map(Number);
  return major > 2 || (major === 2 && minor >= 35);
}

/**
 * The same command in a child with huge pages; its exit (status or signal) is this process's.
 * False when the child could not be started (the command then runs here).
 */
function relaunch() {
  let child;
  try {
    child = spawn(
      process.execPath,
      [...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)],
      { stdio: "inherit", env: { ...process.env, GLIBC_TUNABLES: TUNABLES } },
    );
  } catch {
    return Promise.resolve(false);
  }
  // A signal sent to this process alone (a CI runner's SIGTERM) reaches the command too.
  const forward = (signal) => child.kill(signal);
  const signals = ["SIGINT", "SIGTERM", "SIGHUP"];
  for (const s of signals) process.on(s, forward);
  const stopForwarding = () => {
    for (const s of signals) process.off(s, forward);
  };
  return new Promise((done) => {
    // A child that did not start (no pid): the command runs here. (An error from `kill` on a
    // running child is no reason to run the command twice.)
    child.on("error", () => {
      if (child.pid !== undefined) return;
      stopForwarding();
      done(false);
    });
    child.on("exit", (code, signal) => {
      stopForwarding();
      if (signal !== null) {
        // As a shell reports it, should the signal to this process be ignored (as PID 1).
        process.exitCode = 128 + (constants.signals[signal] ?? 0);
        process.kill(process.pid, signal);
      } else process.exitCode = code ?? 1;
      done(true);
    });
  });
}

if (!(wantsHugePages(process.argv.slice(2)) && (await relaunch()))) {
  const checkout = existsSync(new URL("../src/cli/main.ts", import.meta.url));
  if (checkout) (await import("tsx/esm/api")).register();
  const { runCli } = await import(checkout ? "../src/cli/main.ts" : "../dist/cli/main.js");
  await runCli();
}
