// After the build: declaration files without comments where editors do not need them — every
// CommonJS copy (.d.cts; editors read the documentation from the ESM .d.ts), and internals: the
// legs (dist/numeric, dist/symbolic: no public API is declared there) and the worker threads'
// modules. The public API's .d.ts keep their TSDoc. Keeps the tarball under its 400 kB budget.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import ts from "typescript";

const root = process.argv[2] ?? "dist";
const INTERNAL = ["numeric", "symbolic", "fuzz/parallel.d.ts", "fuzz/worker.d.ts"];
const printer = ts.createPrinter({ removeComments: true });
function strip(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const rel = relative(root, path).split(sep);
    const internal = INTERNAL.includes(rel[0] ?? "") || INTERNAL.includes(rel.join("/"));
    if (entry.isDirectory()) strip(path);
    else if (entry.name.endsWith(".d.cts") || (internal && entry.name.endsWith(".d.ts"))) {
      const source = ts.createSourceFile(path, readFileSync(path, "utf8"), ts.ScriptTarget.Latest);
      writeFileSync(path, printer.printFile(source));
    }
  }
}
strip(root);
