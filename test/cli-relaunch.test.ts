// bin/gradtrio.js runs itself again with glibc's malloc asking for transparent huge pages
// (GLIBC_TUNABLES=glibc.malloc.hugetlb=1) when the @FILE inputs are large and the kernel gives huge
// pages on request only ("madvise"). Seen from outside: the command's own process (here an --ops
// module that prints its GLIBC_TUNABLES at import) has the setting, and the exit, the output and a
// signal sent to the bin's process are the command's.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runBin } from "./run-bin.ts";

const THP = "/sys/kernel/mm/transparent_hugepage/enabled";
const madvise =
  process.platform === "linux" &&
  existsSync(THP) &&
  readFileSync(THP, "utf8").includes("[madvise]");

const dir = mkdtempSync(join(tmpdir(), "gradtrio-relaunch-"));
// The op module says which GLIBC_TUNABLES the command's process has (on stderr).
const probe = join(dir, "probe.mjs");
writeFileSync(
  probe,
  `process.stderr.write("tunables=" + (process.env.GLIBC_TUNABLES ?? "unset") + "\\n");
export const twice = { name: "twice", arity: 1, forward: (x) => 2 * x, backward: ({ grad }) => [2 * grad] };\n`,
);
// 9 MiB of JSON holding three numbers (padding: the size decides, parsing stays instant).
const big = join(dir, "big.json");
writeFileSync(big, `[1, 2,${" ".repeat(9 << 20)} 3]`);
const small = join(dir, "small.json");
writeFileSync(small, "[1, 2, 3]");

/** The bin in the test's directory, `env` over this process's (undefined: removed). */
const run = (argv: string[], env: Record<string, string | undefined> = {}, killAfter?: RegExp) =>
  runBin(argv, {
    cwd: dir,
    env,
    ...(killAfter === undefined ? {} : { signalWhen: { when: killAfter } }),
  });

const noTunables = { GLIBC_TUNABLES: undefined };

describe.skipIf(!madvise)(
  "bin: large @FILE inputs run with huge pages (Linux, THP madvise)",
  () => {
    it("the command's process has glibc.malloc.hugetlb=1, and its report is the usual one", async () => {
      const r = await run(
        ["check", "sum(twice(x))", "--at", "x=@big.json", "--ops", probe, "--json"],
        noTunables,
      );
      expect(r.stderr).toContain("tunables=glibc.malloc.hugetlb=1");
      expect(r.code).toBe(0);
      const report = JSON.parse(r.stdout);
      expect(report.gradients.x.autograd).toEqual([2, 2, 2]);
    }, 60_000);

    it("small inputs, and a GLIBC_TUNABLES the user set, run as they are", async () => {
      const s = await run(
        ["check", "sum(twice(x))", "--at", "x=@small.json", "--ops", probe],
        noTunables,
      );
      expect(s.stderr).toContain("tunables=unset");
      expect(s.code).toBe(0);
      const own = await run(["check", "sum(twice(x))", "--at", "x=@big.json", "--ops", probe], {
        GLIBC_TUNABLES: "glibc.malloc.arena_max=2",
      });
      expect(own.stderr).toContain("tunables=glibc.malloc.arena_max=2");
      expect(own.stderr).not.toContain("hugetlb");
    }, 60_000);

    it("bad input exits 2 with its one line, as without the relaunch", async () => {
      const r = await run(
        ["check", "sum(twice(y))", "--at", "x=@big.json", "--ops", probe],
        noTunables,
      );
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("tunables=glibc.malloc.hugetlb=1");
      expect(r.stderr).toMatch(/^gradtrio: error: missing --at for 'y'/m);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }, 60_000);

    it("a SIGTERM sent to the bin's process ends the command, and the bin ends by it", async () => {
      // The op's forward spins once the command is under way: only the signal ends it.
      const slow = join(dir, "slow.mjs");
      writeFileSync(
        slow,
        `export const spin = { name: "spin", arity: 1, forward: (x) => { process.stderr.write("spinning\\n"); for (;;); }, backward: ({ grad }) => [grad] };\n`,
      );
      const t0 = Date.now();
      const r = await run(
        ["check", "sum(spin(x))", "--at", "x=@big.json", "--ops", slow],
        noTunables,
        /spinning/,
      );
      expect(r.signal).toBe("SIGTERM");
      expect(Date.now() - t0).toBeLessThan(30_000);
    }, 60_000);
  },
);
