// The build (`npm run build`, run by `prepack`): src/ → dist/ by tsdown, file for file
// (src/fuzz/gate.ts → dist/fuzz/gate.js), so that every source file is built with no list to
// keep, and files found by a relative URL at run time (the worker threads' entry) sit where the
// code looks for them. ESM (.js, .d.ts) for the library and the CLI; CommonJS (.cjs, .d.cts) for
// the library. package.json's "exports" names the entry points among these files.
import { defineConfig, type UserConfig } from "tsdown";

const sources = ["src/**/*.ts", "!src/**/*.test.ts"];

const common: UserConfig = {
  unbundle: true,
  platform: "node",
  target: "node20",
  outDir: "dist",
  fixedExtension: false,
  dts: true,
  report: false,
  logLevel: "warn",
  checks: { pluginTimings: false },
  // No package is bundled in: dependencies are installed beside gradtrio, and a devDependency
  // (esbuild, for a checkout's `gradtrio teach`) must not ship.
  deps: { neverBundle: [/^[^./]/] },
  // The JavaScript without JSDoc (the .d.ts files keep it for editors): a smaller tarball.
  outputOptions: { comments: { jsdoc: false, legal: true, annotation: true } },
  // Minified (exported names stay): the tarball stays small. Classes keep their names
  // (`tensor(1).constructor.name` is "Tensor", an uncaught error prints as GradtrioError).
  minify: {
    compress: { keepNames: { function: false, class: true } },
    mangle: { keepNames: { function: false, class: true } },
    codegen: { removeWhitespace: true },
  },
};

export default defineConfig([
  // Every source file once, ESM: the library, the CLI and what only it uses (src/teach, whose page
  // code src/teach/page/app.ts `gradtrio teach` puts into the page as these ES modules, those the
  // page reaches: src/teach/page/modules.ts; no second, bundled copy ships). One build, so that each
  // file is written once: a second ESM build of the CLI alone re-emitted the library modules it
  // imports, tree-shaken to what the CLI uses, into the same files (whichever build wrote last won).
  // The CLI's and the page's declarations are removed after the build (scripts/strip-dcts.mjs
  // keeps only those package.json's "exports" reach): they are no API.
  {
    ...common,
    entry: sources,
    format: "esm",
    clean: true,
    // Every other file beside the sources (src/fuzz/worker-entry.mjs), copied as it is.
    copy: [{ from: ["src/**/*", "!src/**/*.ts"], to: "dist", flatten: false }],
  },
  // The CLI (top-level await) and what only it uses (src/teach) are ESM only.
  // The worker threads' module has named exports and a default one (tinypool's task): named, as in
  // the ESM build, with no warning about it.
  {
    ...common,
    entry: [...sources, "!src/cli/**", "!src/teach/**"],
    format: "cjs",
    clean: false,
    outputOptions: { ...common.outputOptions, exports: "named" },
  },
]);
