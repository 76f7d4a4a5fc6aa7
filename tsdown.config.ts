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
  // The JavaScript without JSDoc (the .d.ts files keep it for editors): a smaller tarball.
  outputOptions: { comments: { jsdoc: false, legal: true, annotation: true } },
};

export default defineConfig([
  {
    ...common,
    entry: sources,
    format: "esm",
    clean: true,
    // Every other file beside the sources (src/fuzz/worker-entry.mjs), copied as it is.
    copy: [{ from: ["src/**/*", "!src/**/*.ts"], to: "dist", flatten: false }],
  },
  // The CLI (top-level await) is ESM only.
  { ...common, entry: [...sources, "!src/cli/**"], format: "cjs", clean: false },
]);
