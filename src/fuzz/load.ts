/**
 * Loading user modules (ops for `fuzz`, configs for `gate`) as modules: `.ts` through tsx's
 * `tsImport`, `.js`/`.mjs` natively. That is the contract; no text is ever evaluated.
 */
import { existsSync, statSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { tsImport } from "tsx/esm/api";
import { GradtrioError } from "../errors.ts";
import type { CustomOpDefinition } from "../expr/ops.ts";
import { definitionOf, resolveOp } from "./op-like.ts";

/**
 * The first line of an error's message: a module's failure is shown in one line. esbuild's
 * "Transform failed with N error(s):" gives way to its first `file:line:col: ERROR: …` line.
 * A GradtrioError, also one thrown by a module's own copy of gradtrio, shows no class name.
 */
export function firstLine(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  const lines = m
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  const error = /^(Transform|Build) failed with \d+ errors?:$/.test(lines[0] ?? "")
    ? lines.find((l) => l.includes(" ERROR: "))
    : undefined;
  if (error !== undefined) return error;
  const line = lines[0] ?? m.trim();
  const name =
    e instanceof Error && e.name !== "Error" && e.name !== "GradtrioError" ? `${e.name}: ` : "";
  return name + line;
}

/**
 * A `.ts` module of a project without `"type": "module"` is compiled to CommonJS: its namespace
 * is `{ default: exports }` with `exports.__esModule` set, so `export default x` arrives as
 * `default.default`. Such a module's exports are those of `exports`.
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
  if (!existsSync(path) || !statSync(path).isFile())
    throw new GradtrioError("IO", `cannot read ${what} '${file}': no such file`);
  const url = pathToFileURL(path).href;
  try {
    return unwrapCommonJs(
      /\.[cm]?tsx?$/.test(path)
        ? await tsImport(url, import.meta.url)
        : await import(/* @vite-ignore */ url),
    );
  } catch (e) {
    throw new GradtrioError("MODULE", `${what} '${file}' failed to load: ${firstLine(e)}`);
  }
}

/** An op a module exports: the export's name and its (registered) definition. */
export interface LoadedOp {
  readonly exportName: string;
  readonly definition: CustomOpDefinition;
}

/**
 * The ops among a module's exports (made with `defineOp`, or bare `CustomOpDefinition` objects,
 * also inside an exported array), each once, registered in gradtrio's registry.
 */
export function exportedOps(mod: Record<string, unknown>): LoadedOp[] {
  const out: LoadedOp[] = [];
  const seen = new Set<CustomOpDefinition>();
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
  return out.map((o) => ({ ...o, definition: resolveOp(o.definition) }));
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
