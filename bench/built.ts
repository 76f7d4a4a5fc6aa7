/**
 * The built package (dist/), as an installed gradtrio runs it: benches that time whole commands
 * measure it beside the checkout's bin (which runs the sources through tsx).
 */
import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** The newest modification time under `dir` (ms). */
function newest(dir: string): number {
  let t = 0;
  for (const f of readdirSync(dir, { recursive: true, withFileTypes: true }))
    if (f.isFile()) t = Math.max(t, statSync(join(f.parentPath, f.name)).mtimeMs);
  return t;
}

/** dist/cli/main.js, built first when missing or older than src/. */
export function built(): string {
  const main = join(root, "dist/cli/main.js");
  if (!existsSync(main) || statSync(main).mtimeMs < newest(join(root, "src"))) {
    const r = spawnSync("npm", ["run", "build"], { cwd: root, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`npm run build failed: ${r.stderr}`);
  }
  return main;
}

/** A script in `dir` that runs the built CLI (as the installed bin does): its path. */
export function builtRunner(dir: string): string {
  const runner = join(dir, "gradtrio-dist.mjs");
  writeFileSync(
    runner,
    `const { runCli } = await import(${JSON.stringify(pathToFileURL(built()).href)});\nawait runCli();\n`,
  );
  return runner;
}

/**
 * The package as installed, in `dir`: its bin/gradtrio.js (a copy, which runs dist/ where no src/
 * is beside it), dist/ and node_modules/ (links to the checkout's) and package.json. The bin's
 * path: whole commands through it run as an installed gradtrio does (bin/gradtrio.js's huge pages).
 */
export function builtBin(dir: string): string {
  const pkg = join(dir, "package");
  mkdirSync(join(pkg, "bin"), { recursive: true });
  built();
  copyFileSync(join(root, "bin/gradtrio.js"), join(pkg, "bin/gradtrio.js"));
  copyFileSync(join(root, "package.json"), join(pkg, "package.json"));
  symlinkSync(join(root, "dist"), join(pkg, "dist"));
  symlinkSync(join(root, "node_modules"), join(pkg, "node_modules"));
  return join(pkg, "bin/gradtrio.js");
}
