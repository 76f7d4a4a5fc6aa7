/**
 * Packing gradtrio and installing the tarball into a fresh project, as a user would: shared by
 * test/package.test.ts (the package test) and bench/startup.bench.ts (start-up and sizes).
 * Installing needs the npm registry for the tarball's dependencies (the npm cache serves them
 * when it holds them: --prefer-offline).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, lstatSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const ROOT = resolve(import.meta.dirname, "../..");
const FIXTURE = resolve(ROOT, "test/fixtures/consumer");

export interface Packed {
  /** Absolute path of the .tgz. */
  readonly tarball: string;
  /** Bytes of the .tgz. */
  readonly size: number;
  readonly unpackedSize: number;
  /** Paths inside the package, `dist/index.js`. */
  readonly files: readonly string[];
}

/** `npm pack` of the checkout (its prepack builds dist/) into a new temporary directory. */
export function pack(): Packed {
  const dest = mkdtempSync(join(tmpdir(), "gradtrio-pack-"));
  const out = execFileSync("npm", ["pack", "--json", "--pack-destination", dest], {
    cwd: ROOT,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  // The build's own lines come first on stdout; npm's JSON array is the rest.
  const [info] = JSON.parse(out.slice(out.search(/^\[/m))) as {
    filename: string;
    size: number;
    unpackedSize: number;
    files: { path: string }[];
  }[];
  if (info === undefined) throw new Error(`npm pack printed no package: ${out}`);
  return {
    tarball: join(dest, info.filename),
    size: info.size,
    unpackedSize: info.unpackedSize,
    files: info.files.map((f) => f.path),
  };
}

/** `npm install` in `dir`; returns everything it printed (stdout and stderr). Throws on failure. */
export function npmInstall(dir: string, specs: readonly string[], save = true): string {
  const r = spawnSync(
    "npm",
    [
      "install",
      "--no-audit",
      "--no-fund",
      "--prefer-offline",
      ...(save ? [] : ["--no-save"]),
      ...specs,
    ],
    { cwd: dir, encoding: "utf8" },
  );
  const output = `${r.stdout}${r.stderr}`;
  if (r.status !== 0) throw new Error(`npm install ${specs.join(" ")} failed:\n${output}`);
  return output;
}

/**
 * A new project under the OS temp dir with the consumer fixtures (test/fixtures/consumer: a
 * CommonJS project with an ESM folder `esm/`) and the tarball installed; returns its path and
 * what the install printed.
 */
export function consumerProject(tarball: string): { dir: string; installOutput: string } {
  const dir = mkdtempSync(join(tmpdir(), "gradtrio-consumer-"));
  cpSync(FIXTURE, dir, { recursive: true });
  writeFileSync(join(dir, "esm/readme.ts"), readmeLibraryExample());
  writeFileSync(
    join(dir, "package.json"),
    `${JSON.stringify({ name: "gradtrio-consumer", private: true }, null, 2)}\n`,
  );
  return { dir, installOutput: npmInstall(dir, [tarball]) };
}

/**
 * The README's library example (the first ```ts block under "## The library"), which its text
 * says type-checks under the strict settings the consumer's tsconfig has.
 */
export function readmeLibraryExample(): string {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const block = /```ts\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf("\n## The library")));
  if (block === null) throw new Error("README: no ts block under '## The library'");
  return block[1]!;
}

/** Bytes of every file under `path` (symbolic links not followed). */
export function treeSize(path: string): number {
  const st = lstatSync(path);
  if (!st.isDirectory()) return st.size;
  let total = 0;
  for (const name of readdirSync(path)) total += treeSize(join(path, name));
  return total;
}

/** The version of a package installed in this checkout (the npm cache holds it). */
export function installedVersion(name: string): string {
  const pkg = JSON.parse(readFileSync(join(ROOT, "node_modules", name, "package.json"), "utf8"));
  return (pkg as { version: string }).version;
}
