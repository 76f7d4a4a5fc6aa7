/** Paths as a user types them in a shell. */
import { relative, resolve, sep } from "node:path";

/**
 * `path` as the user would type it in `cwd`: relative inside it, absolute outside.
 *
 * @example
 * ```ts
 * shownPath("/p/g1/ops/a.ts", "/p"); // "g1/ops/a.ts"
 * shownPath("/q/a.ts", "/p"); // "/q/a.ts"
 * ```
 */
export function shownPath(path: string, cwd: string): string {
  const rel = relative(cwd, resolve(cwd, path));
  return rel === "" || rel === ".." || rel.startsWith(`..${sep}`) ? resolve(cwd, path) : rel;
}
