/**
 * The page of `gradtrio teach`: one self-contained HTML file, its script, CSS and starting
 * expression inline: the page needs no network. The script, installed: the CAS's and the graph
 * layout's own browser builds (nerdamer-prime's and @dagrejs/dagre's, as classic scripts) and the
 * package's own ES modules the page's code (dist/teach/page/app.js) reaches, in an import map
 * (src/teach/page/modules.ts), not a second copy of the library in the tarball. In a checkout,
 * where src/ has no build, esbuild (a devDependency) bundles src/teach/page/app.ts with everything
 * it imports into one script when the command runs.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { escapeHtml } from "../mathml.ts";
import type { PageSeed } from "./app.ts";
import { entryName, importMap } from "./modules.ts";
import { PAGE_CSS } from "./style.ts";

/** The packages the page's code imports, and the global each one's browser build defines. */
export const BROWSER_GLOBALS = { "nerdamer-prime/all": "nerdamer", "@dagrejs/dagre": "dagre" };
/** The page's entry, relative to the build's root (dist/). */
const ENTRY = "teach/page/app.js";

/** The page's script elements. */
export async function pageScripts(): Promise<string> {
  const root = fileURLToPath(new URL("../../", import.meta.url));
  if (existsSync(join(root, ENTRY))) {
    const require = createRequire(import.meta.url);
    const cas = join(dirname(require.resolve("nerdamer-prime/all")), "all.min.js");
    const layout = join(dirname(require.resolve("@dagrejs/dagre")), "dagre.min.js");
    return [
      `<script>${scriptText(readFileSync(cas, "utf8"))}</script>`,
      `<script>${scriptText(readFileSync(layout, "utf8"))}</script>`,
      `<script type="importmap">${importMap(root, ENTRY, BROWSER_GLOBALS)}</script>`,
      `<script type="module">import "${entryName(ENTRY)}";</script>`,
    ].join("\n");
  }
  const { build } = await import("esbuild"); // loaded by this command only: start-up stays fast
  const out = await build({
    entryPoints: [fileURLToPath(new URL("./app.ts", import.meta.url))],
    bundle: true,
    write: false,
    format: "iife",
    platform: "browser",
    target: "es2022",
    minify: true,
    legalComments: "none",
    logLevel: "silent",
  });
  return `<script>${scriptText(out.outputFiles[0]!.text)}</script>`;
}

/** Text safe inside a <script> element. */
const scriptText = (s: string) => s.replace(/<\/(script)/gi, "<\\/$1").replace(/<!--/g, "<\\!--");

/** The whole page for a starting expression and point. */
export async function teachPage(seed: PageSeed): Promise<string> {
  const scripts = await pageScripts();
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>gradtrio teach — ${escapeHtml(seed.expr)}</title>
<style>${PAGE_CSS}</style>
</head>
<body>
<header>
  <h1>gradtrio <span>teach</span></h1>
  <p>One function, differentiated three ways — the chain rule by hand, finite differences, autograd — recomputed as you type.</p>
</header>
<section class="inputs">
  <label>f = <input id="expr" spellcheck="false" size="48"></label>
  <label>at <input id="at" spellcheck="false" size="28"></label>
  <label>with respect to <input id="wrt" spellcheck="false" size="8" placeholder="all"></label>
  <label>dtype <select id="dtype"><option>float64</option><option>float32</option></select></label>
  <span id="timing"></span>
  <p id="error" role="alert"></p>
</section>
<section><h2>The graph autograd records</h2>
  <p class="note">Blue: leaves that require grad (grad_fn None); dashed: data. Each node: what it computes, its grad_fn, its value and its gradient ∂f/∂node; each edge: the local derivative.</p>
  <div id="graph" class="scroll"></div></section>
<section><h2>Three legs, side by side</h2><div id="legs"></div></section>
<section><h2>The chain rule, node by node (reverse mode)</h2><div id="chain"></div></section>
<section><h2>The step size h</h2>
  <label class="slider">log₁₀ h <input id="h" type="range" min="-15" max="-1" step="0.1" value="-5"> <span id="h-value"></span></label>
  <div class="plots"><div id="function"></div><div id="errors"></div></div>
  <p id="h-errors" class="note"></p>
  <p class="note">Red: the secant over [x, x+h] (forward difference); green: the tangent (the exact gradient). On the right: forward and central differences trace a V — truncation falls as h shrinks until rounding (ε/h) takes over near h ≈ √ε and ∛ε; the complex step has no rounding arm.</p>
</section>
<script type="application/json" id="seed">${JSON.stringify(seed).replace(/</g, "\\u003c")}</script>
${scripts}
</body>
</html>
`;
}
