/**
 * The teach page's script assembled from the built package (dist/, ES modules file for file):
 * the modules the page's entry reaches by its import statements, each as a `data:` URL in an
 * import map. A module fetched from a `data:` URL has no base to resolve `./x.js` against, so
 * each module's relative specifiers are renamed to bare names the import map knows
 * (`../../errors.js` from `teach/page/app.js` → `gradtrio/errors.js`). Only our own build output
 * is read and rewritten: the build (tsdown, minified) puts every static import at the head of a
 * module, `import{a as b}from"./x.js";`, which is all this reads.
 */
import { readFileSync } from "node:fs";
import { join, posix } from "node:path";

/** The prefix of the bare names the page's import map gives our modules. */
const NAME = "gradtrio/";

/** One static import at a module's head: where its specifier's text is, and the text. */
interface Specifier {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

/** `import…from"x";` or `import"x";` at `lastIndex` (leading whitespace skipped). */
const HEAD_IMPORT = /\s*import\s*(?:[\w$\s{},*]+?from\s*)?(["'])([^"'\\\n]*)\1\s*;?/dy;
/**
 * An import past the head, which the head scan would miss: `import(`, `import.meta`, or a
 * statement (after `;` or `}`) that imports or re-exports.
 */
const LATE_IMPORT =
  /(?<![.\w$"'`])import\s*(?:\(|\.\s*meta\b)|(?:^|[;}\n])\s*(?:import\s*[\w$*{"']|export\s*(?:\*|\{[^}]*\})\s*from\s*["'])/;

/** The static imports at the head of a built module, in order. */
export function headImports(text: string, name: string): Specifier[] {
  const found: Specifier[] = [];
  HEAD_IMPORT.lastIndex = 0;
  let at = 0;
  for (let m = HEAD_IMPORT.exec(text); m !== null; m = HEAD_IMPORT.exec(text)) {
    const [start, end] = m.indices![2]!;
    found.push({ start, end, text: m[2]! });
    at = HEAD_IMPORT.lastIndex;
  }
  if (LATE_IMPORT.test(text.slice(at)))
    throw new Error(`${name}: an import past the module's head (not the build's output?)`);
  return found;
}

/**
 * The modules reachable from `entry` (a path under `root`, `teach/page/app.js`), by bare name
 * (`gradtrio/teach/page/app.js`), each one's text with its relative specifiers renamed; the
 * entry first. A package specifier must be one of `packages` (left as it is, for the import map
 * to map): anything else (`node:fs`) cannot run in a browser and is an error.
 */
export function pageModules(
  root: string,
  entry: string,
  packages: ReadonlySet<string>,
): Map<string, string> {
  const modules = new Map<string, string>();
  const pending = [entry];
  for (let path = pending.pop(); path !== undefined; path = pending.pop()) {
    if (modules.has(NAME + path)) continue;
    const text = readFileSync(join(root, path), "utf8");
    let out = "";
    let copied = 0;
    for (const s of headImports(text, path)) {
      if (!/^\.\.?\//.test(s.text)) {
        if (!packages.has(s.text))
          throw new Error(`${path} imports ${s.text}, which the teach page cannot load`);
        continue;
      }
      const target = posix.join(posix.dirname(path), s.text);
      if (target.startsWith("../")) throw new Error(`${path} imports ${s.text}, outside the build`);
      out += text.slice(copied, s.start) + NAME + target;
      copied = s.end;
      pending.push(target);
    }
    modules.set(NAME + path, out + text.slice(copied));
  }
  return modules;
}

/**
 * A module's text as a `data:` URL, percent-encoding only what the URL parser would change:
 * `%` (an escape), `#` and `?` (fragment, query), tabs, newlines and other controls (removed or
 * encoded), and a trailing space (stripped). The rest stays as it is (smaller than base64).
 */
export function moduleUrl(text: string): string {
  const encode = (c: string) => `%${c.charCodeAt(0).toString(16).padStart(2, "0").toUpperCase()}`;
  return `data:text/javascript,${text.replace(/[\0-\x1f%#?\x7f]| $/g, encode)}`;
}

/** The entry's bare name in the import map (what the page's one module script imports). */
export const entryName = (entry: string) => NAME + entry;

/**
 * The page's import map (its JSON, safe inside a `<script>` element): every module from
 * `entry` as a `data:` URL, and each package as a shim module exporting the global its own
 * browser build (inlined before, as a classic script) defines.
 */
export function importMap(
  root: string,
  entry: string,
  globals: Readonly<Record<string, string>>,
): string {
  const imports: Record<string, string> = {};
  for (const [name, text] of pageModules(root, entry, new Set(Object.keys(globals))))
    imports[name] = moduleUrl(text);
  for (const [pkg, global] of Object.entries(globals))
    imports[pkg] = moduleUrl(`export default globalThis.${global};`);
  return JSON.stringify({ imports }).replace(/</g, "\\u003c");
}
