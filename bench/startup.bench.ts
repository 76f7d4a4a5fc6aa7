/**
 * Start-up time and weight of the package as a user installs it (issue 10's goals): `npm pack`,
 * the tarball installed into a fresh project, then
 * (a) `gradtrio --help`, `gradtrio check 'sin(x^2)' --at x=3` and `gradtrio teach 'sin(x^2)'
 *     --at x=3 --out FILE` (the page written, its size printed) against a bare `node -e 0`,
 *     medians of 5 interleaved runs in this one process (targets ≤ 3× and ≤ 5×);
 * (b) the tarball (target ≤ 400 kB, no tests) and the consumer install (target ≤ 15 MB, no
 *     install-script warning), with each runtime dependency's installed size;
 * (c) the loaders for users' .ts modules: jiti (what gradtrio uses) against tsx, installed size
 *     and the time to load a small .ts module.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  consumerProject,
  installedVersion,
  npmInstall,
  pack,
  ROOT,
  treeSize,
} from "../test/package/consumer.ts";
import { median } from "./timing.ts";

const MB = 1e6;

function wallMs(args: readonly string[], cwd: string): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { cwd, encoding: "utf8" });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`node ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  return ms;
}

/** Medians of `reps` interleaved runs of each command, and each median's ratio to the first. */
function startup(commands: Record<string, readonly string[]>, cwd: string, reps = 5): void {
  const times = Object.fromEntries(Object.keys(commands).map((k) => [k, [] as number[]]));
  for (let i = 0; i < reps; i++)
    for (const [name, args] of Object.entries(commands)) times[name]!.push(wallMs(args, cwd));
  const [baseline] = Object.keys(commands);
  const base = median(times[baseline!]!);
  for (const [name, ts] of Object.entries(times))
    console.log(
      `  ${name.padEnd(58)} median ${median(ts).toFixed(0).padStart(5)} ms  ${(median(ts) / base).toFixed(2)}×  (${ts.map((t) => t.toFixed(0)).join(", ")})`,
    );
}

interface LsNode {
  readonly dependencies?: Record<string, LsNode>;
}

/** Each direct dependency of gradtrio with the installed size of its whole subtree. */
function dependencySizes(consumer: string): void {
  const tree = JSON.parse(
    execFileSync("npm", ["ls", "--all", "--json"], { cwd: consumer, encoding: "utf8" }),
  ) as LsNode;
  const direct = tree.dependencies?.gradtrio?.dependencies ?? {};
  const names = (n: LsNode): string[] =>
    Object.entries(n.dependencies ?? {}).flatMap(([k, v]) => [k, ...names(v)]);
  const size = (name: string) => treeSize(join(consumer, "node_modules", name));
  console.log(`  gradtrio itself: ${(size("gradtrio") / MB).toFixed(2)} MB`);
  const installed = (name: string) => existsSync(join(consumer, "node_modules", name));
  for (const [name, node] of Object.entries(direct).filter(([n]) => installed(n))) {
    const sub = [...new Set(names(node))];
    const total = [name, ...sub].reduce((s, n) => s + size(n), 0);
    console.log(
      `  ${name.padEnd(16)} ${(total / MB).toFixed(2)} MB${sub.length === 0 ? "" : ` (with ${sub.join(", ")})`}`,
    );
  }
}

/** jiti and tsx, each in its own fresh project: size, warning, time to load a .ts module. */
function loaders(): void {
  const ts = `export const n: number = 6;\nexport default function f(x: number): number { return x * n; }\n`;
  const cases = [
    {
      name: "jiti",
      load: `import("jiti").then(({ createJiti }) => createJiti(import.meta.url).import("./m.ts"))`,
    },
    {
      name: "tsx",
      load: `import("tsx/esm/api").then(({ tsImport }) => tsImport("./m.ts", import.meta.url))`,
    },
  ];
  const dirs: string[] = [];
  try {
    const commands: Record<string, string[]> = { "node -e 0": ["-e", "0"] };
    const lines: string[] = [];
    for (const c of cases) {
      const dir = mkdtempSync(join(tmpdir(), `gradtrio-loader-${c.name}-`));
      dirs.push(dir);
      writeFileSync(join(dir, "package.json"), '{ "private": true, "type": "module" }\n');
      writeFileSync(join(dir, "m.ts"), ts);
      writeFileSync(join(dir, "load.mjs"), `await ${c.load};\n`);
      const out = npmInstall(dir, [`${c.name}@${installedVersion(c.name)}`]);
      const warns = /install.?script/i.test(out);
      const count = (out.match(/added (\d+) packages?/) ?? [])[1];
      lines.push(
        `  ${c.name.padEnd(5)} ${(treeSize(join(dir, "node_modules")) / MB).toFixed(1)} MB installed, ${count} package(s), install-script warning: ${warns ? "yes" : "no"}`,
      );
      commands[`load a .ts module with ${c.name}`] = [join(dir, "load.mjs")];
    }
    for (const l of lines) console.log(l);
    startup(commands, tmpdir());
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

export function run(): void {
  const t0 = performance.now();
  const packed = pack();
  const packMs = performance.now() - t0;
  const { dir, installOutput } = consumerProject(packed.tarball);
  try {
    const bin = join(dir, "node_modules/gradtrio/bin/gradtrio.js");
    console.log("(a) start-up, the installed bin vs a bare node (medians of 5, one process):");
    startup(
      {
        "node -e 0": ["-e", "0"],
        "gradtrio --help": [bin, "--help"],
        "gradtrio check 'sin(x^2)' --at x=3": [bin, "check", "sin(x^2)", "--at", "x=3"],
        "gradtrio teach 'sin(x^2)' --at x=3 --out page.html": [
          bin,
          "teach",
          "sin(x^2)",
          "--at",
          "x=3",
          "--out",
          "page.html",
        ],
        "(before: the sources through tsx) gradtrio --help": [
          join(ROOT, "bin/gradtrio.js"),
          "--help",
        ],
      },
      dir,
    );
    console.log("    targets: --help ≤ 3×, check ≤ 5×");
    console.log(`    the page teach wrote: ${statSync(join(dir, "page.html")).size} bytes`);

    const tests = packed.files.filter((f) => /\.test\.|\.bench\.|fixtures|^src\//.test(f));
    console.log(
      `(b) tarball ${packed.size} bytes (target ≤ 400 kB), ${packed.files.length} files, ${(packed.unpackedSize / 1000).toFixed(0)} kB unpacked, ${tests.length} test/bench/source files; npm pack with the build: ${(packMs / 1000).toFixed(1)} s`,
    );
    const count = (installOutput.match(/added (\d+) packages?/) ?? [])[1];
    console.log(
      `    consumer install: ${(treeSize(join(dir, "node_modules")) / MB).toFixed(1)} MB (target ≤ 15 MB), ${count} packages, install-script warning: ${/install.?script/i.test(installOutput) ? "YES" : "none"}`,
    );
    dependencySizes(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log("(c) loaders for users' .ts modules (each in a fresh project):");
  loaders();
}
