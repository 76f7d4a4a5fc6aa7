/**
 * Loading user modules (ops for `fuzz`, configs for `gate`) as modules, through jiti: `.ts`,
 * `.mts`, `.cts`, `.js`, `.mjs` and `.cjs`, ESM or CommonJS syntax whatever the project's
 * `"type"`, and `require("gradtrio")` inside them. jiti (1.8 MB, no dependencies) is loaded on
 * the first user module, so commands without one never pay for it. No text is ever evaluated.
 */
import { existsSync, statSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import type { Jiti } from "jiti";
import { firstLine, GradtrioError } from "../errors.ts";
import { formulaDefect } from "../expr/op-formula.ts";
import type { OpDefinition } from "../expr/ops.ts";
import { definitionOf, resolveOp } from "./op-like.ts";
import { collectStrays, strayText, userModuleLoaded } from "./stray.ts";

/**
 * A CommonJS module compiled from ESM (`exports.__esModule` set) may arrive as
 * `{ default: exports }`, so that `export default x` is `default.default`. Such a module's
 * exports are those of `exports`.
 */
function unwrapCommonJs(mod: Record<string, unknown>): Record<string, unknown> {
  const d = mod.default;
  if (
    (typeof d === "object" || typeof d === "function") &&
    d !== null &&
    (d as { __esModule?: unknown }).__esModule === true
  )
    return { ...(d as Record<string, unknown>) };
  return mod;
}

let loader: Promise<Jiti> | undefined;
/** Modules that loaded but left a stray error behind (by absolute path): their failure. */
const failedToLoad = new Map<string, GradtrioError>();

/**
 * One jiti for the process. `interopDefault: false`: a module's namespace is its exports as
 * written, so a config without `export default` is seen to have none.
 */
function userModuleLoader(): Promise<Jiti> {
  loader ??= import("jiti").then(({ createJiti }) =>
    createJiti(import.meta.url, { interopDefault: false }),
  );
  return loader;
}

/**
 * Imports a user module by path (relative to `cwd`). Throws a GradtrioError: IO when the file
 * is missing, MODULE (with the module's own error in one line) when loading it throws.
 */
export async function importModule(
  file: string,
  cwd: string,
  what: string,
): Promise<Record<string, unknown>> {
  const path = isAbsolute(file) ? file : resolve(cwd, file);
  if (!existsSync(path))
    throw new GradtrioError("IO", `cannot read ${what} '${file}': no such file`);
  if (!statSync(path).isFile())
    throw new GradtrioError(
      "IO",
      `cannot read ${what} '${file}': ${statSync(path).isDirectory() ? "it is a directory" : "not a regular file"}`,
    );
  const known = failedToLoad.get(path);
  if (known !== undefined) throw known;
  const jiti = await userModuleLoader();
  userModuleLoaded();
  // A promise the module rejects or a timer that throws at once is its failure to load too.
  const strays = collectStrays();
  let mod: Record<string, unknown>;
  try {
    mod = unwrapCommonJs(await jiti.import(path));
  } catch (e) {
    await strays.end();
    throw new GradtrioError(
      "MODULE",
      `${what} '${file}' failed to load: ${firstLine(e)}${notInstalledHint(e)}`,
    );
  }
  const [stray] = await strays.end();
  if (stray !== undefined) {
    const e = new GradtrioError("MODULE", `${what} '${file}' failed to load: ${strayText(stray)}`);
    // jiti keeps the module: imported again, it would seem fine.
    failedToLoad.set(path, e);
    throw e;
  }
  // Node gives a .cjs file's module.exports as its default export; jiti gives a .cts file's
  // as the namespace itself: the same default for both (a config of `module.exports = …`).
  return path.endsWith(".cts") && !("default" in mod) ? { ...mod, default: mod } : mod;
}

/**
 * A module that imports gradtrio where Node finds none (a shared ops file outside the project
 * that runs gradtrio): where Node looks, and the two ways out.
 */
function notInstalledHint(e: unknown): string {
  const m = /Cannot find (?:module|package) '(gradtrio)(?:\/[^']*)?'/.exec(firstLine(e));
  return m === null
    ? ""
    : " (Node looks for 'gradtrio' in node_modules beside the module and above it: install it in the module's project, npm i -D gradtrio, or put the module inside the project that runs gradtrio)";
}

/** An op a module exports: the export's name and its (registered) definition. */
export interface LoadedOp {
  readonly exportName: string;
  readonly definition: OpDefinition;
}

/**
 * The ops among a module's exports (made with `defineOp`, or bare `OpDefinition` objects,
 * also inside an exported array), each once, registered in gradtrio's registry.
 */
export function exportedOps(mod: Record<string, unknown>): LoadedOp[] {
  const out: LoadedOp[] = [];
  const seen = new Set<OpDefinition>();
  const take = (exportName: string, v: unknown) => {
    const def = definitionOf(v);
    if (def === undefined || seen.has(def)) return;
    seen.add(def);
    out.push({ exportName, definition: def });
  };
  for (const [name, v] of Object.entries(mod)) {
    if (!Array.isArray(v)) take(name, v);
    else for (let i = 0; i < v.length; i++) take(`${name}[${i}]`, v[i]);
  }
  const ops = out.map((o) => ({ ...o, definition: resolveOp(o.definition) }));
  // The module is loaded: a formula calling an op it did not define is malformed (defineOp let
  // such a call pass, the op might have come further down).
  for (const { definition: def } of ops) {
    const defect = formulaDefect(def, false);
    if (defect !== null)
      throw new GradtrioError("DEFINE_OP", `defineOp(${JSON.stringify(def.name)}): ${defect}`);
  }
  return ops;
}

/**
 * Loads every op a module exports (see `exportedOps`) and registers each in gradtrio's registry.
 * Throws a GradtrioError when the file is missing, fails to load, or exports no op.
 *
 * @example
 * ```ts
 * const ops = await loadOps("ops/my-ops.ts", process.cwd());
 * ops.map((o) => o.definition.name); // ["softclip", "hypot2"]
 * ```
 */
export async function loadOps(file: string, cwd: string): Promise<LoadedOp[]> {
  const mod = await importModule(file, cwd, "ops module");
  const out = exportedOps(mod);
  if (out.length === 0) {
    const names = Object.keys(mod);
    throw new GradtrioError(
      "MODULE",
      `ops module '${file}' exports no ops made with defineOp (its exports: ${names.length === 0 ? "none" : names.join(", ")})`,
    );
  }
  return out;
}
