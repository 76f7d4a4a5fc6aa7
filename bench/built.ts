/**
 * The built package (dist/), as an installed gradtrio runs it: benches that time whole commands
 * measure it beside the checkout's bin (which runs the sources through tsx).
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync, writeFileSync } from "node:fs";
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
