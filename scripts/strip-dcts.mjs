// After the build: declaration files without comments where editors do not need them — every
// CommonJS copy (.d.cts; editors read the documentation from the ESM .d.ts), and internals: the
// legs (dist/numeric, dist/symbolic: no public API is declared there) and the worker threads'
// modules. The public API's .d.ts keep their TSDoc. Declarations that no entry point of
// package.json's "exports" reaches (by their imports) are removed: no one can import them.
// Keeps the tarball under its 400 kB budget.
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import ts from "typescript";

const root = process.argv[2] ?? "dist";
const INTERNAL = ["numeric", "symbolic", "fuzz/parallel.d.ts", "fuzz/worker.d.ts"];
const printer = ts.createPrinter({ removeComments: true });
const isDeclaration = (name) => name.endsWith(".d.ts") || name.endsWith(".d.cts");

function declarations(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return declarations(path);
    return isDeclaration(entry.name) ? [resolve(path)] : [];
  });
}

/** The declaration files the "exports" types reach through their imports. */
function reachable() {
  const pkg = JSON.parse(readFileSync(join(root, "..", "package.json"), "utf8"));
  const types = [];
  const collect = (v) => {
    if (typeof v !== "object" || v === null) return;
    for (const [k, x] of Object.entries(v))
      if (k === "types" && typeof x === "string") types.push(resolve(root, "..", x));
      else collect(x);
  };
  collect(pkg.exports);
  const seen = new Set();
  const stack = types;
  while (stack.length > 0) {
    const file = stack.pop();
    if (seen.has(file) || !existsSync(file)) continue;
    seen.add(file);
    for (const { fileName } of ts.preProcessFile(readFileSync(file, "utf8"), true, true)
      .importedFiles) {
      if (!fileName.startsWith(".")) continue;
      const base = resolve(dirname(file), fileName);
      const stem = base.replace(/\.(js|cjs|mjs|ts|cts|mts)$/, "");
      const cjs = file.endsWith(".d.cts");
      for (const candidate of [
        `${stem}${cjs ? ".d.cts" : ".d.ts"}`,
        join(stem, cjs ? "index.d.cts" : "index.d.ts"),
      ])
        if (existsSync(candidate)) stack.push(candidate);
    }
  }
  return seen;
}

const used = reachable();
for (const path of declarations(root)) {
  if (!used.has(path)) {
    rmSync(path);
    continue;
  }
  const rel = relative(root, path).split(sep);
  const internal = INTERNAL.includes(rel[0] ?? "") || INTERNAL.includes(rel.join("/"));
  if (path.endsWith(".d.cts") || internal) {
    const source = ts.createSourceFile(path, readFileSync(path, "utf8"), ts.ScriptTarget.Latest);
    writeFileSync(path, printer.printFile(source));
  }
}
