// After the build: declaration files without comments where editors do not need them — every
// CommonJS copy (.d.cts; editors read the documentation from the ESM .d.ts), and the legs'
// internals (dist/numeric, dist/symbolic: no public API is declared there). The public API's
// .d.ts keep their TSDoc. Keeps the tarball under its 400 kB budget.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import ts from "typescript";

const root = process.argv[2] ?? "dist";
const INTERNAL = ["numeric", "symbolic"];
const printer = ts.createPrinter({ removeComments: true });
function strip(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const internal = INTERNAL.includes(relative(root, path).split(sep)[0] ?? "");
    if (entry.isDirectory()) strip(path);
    else if (entry.name.endsWith(".d.cts") || (internal && entry.name.endsWith(".d.ts"))) {
      const source = ts.createSourceFile(path, readFileSync(path, "utf8"), ts.ScriptTarget.Latest);
      writeFileSync(path, printer.printFile(source));
    }
  }
}
strip(root);
