// After the build: the CommonJS declaration files (.d.cts) without comments. Editors read the
// documentation from the ESM .d.ts files; the .d.cts copies only need the types. Keeps the
// tarball under its 400 kB budget.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";

const printer = ts.createPrinter({ removeComments: true });
function strip(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) strip(path);
    else if (entry.name.endsWith(".d.cts")) {
      const source = ts.createSourceFile(path, readFileSync(path, "utf8"), ts.ScriptTarget.Latest);
      writeFileSync(path, printer.printFile(source));
    }
  }
}
strip(process.argv[2] ?? "dist");
