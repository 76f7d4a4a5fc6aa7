// The package as a user gets it: `npm pack` (its prepack builds dist/), the tarball installed into
// a fresh project outside this checkout, then plain Node ESM and CommonJS consumers, the CLI with
// .ts/.mts/.cjs ops modules and an ESM .js config in a CommonJS project, a strict TypeScript
// consumer, vitest with the matcher — and the Node consumers again on Node 22, installed from the
// registry's node-<platform>-<arch> package. Consumer sources: test/fixtures/consumer.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, sep } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BROWSER_GLOBALS } from "../src/teach/page/bundle.ts";
import { pageModules } from "../src/teach/page/modules.ts";
import { logisticPartials } from "./fixtures/logistic.ts";
import {
  consumerProject,
  installedVersion,
  npmInstall,
  type Packed,
  pack,
  ROOT,
  treeSize,
} from "./package/consumer.ts";
import { WORKER_RAN } from "./run-bin.ts";
import { describePage } from "./teach-page/suite.ts";

const MINUTE = 60_000;
// d/dx sin(x²) = 2x·cos(x²), at x = 3.
const EXPECTED = 2 * 3 * Math.cos(9);

let packed: Packed;
let consumer: string;
let installOutput: string;
/** Temporary directories to remove at the end (the Node 22 install alone is ~185 MB). */
const scratch: string[] = [];

beforeAll(() => {
  packed = pack();
  scratch.push(dirname(packed.tarball));
  ({ dir: consumer, installOutput } = consumerProject(packed.tarball));
  scratch.push(consumer);
}, 5 * MINUTE);

afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
}, 2 * MINUTE);

/** The environment without the outer vitest's variables (a nested vitest must not see them), no colours. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = Object.entries(process.env).filter(([k]) => !/^(VITEST|FORCE_COLOR)/.test(k));
  return { ...Object.fromEntries(env), NO_COLOR: "1" };
}

function run(bin: string, args: readonly string[], cwd = consumer, env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(bin, args, {
    cwd,
    encoding: "utf8",
    env: { ...cleanEnv(), ...env },
    maxBuffer: 1 << 28,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe("the tarball", () => {
  it("holds dist/, bin/, README, LICENSE and package.json only, and weighs ≤ 400 kB", () => {
    const outside = packed.files.filter(
      (f) => !/^(dist\/|bin\/gradtrio\.js$|README\.md$|LICENSE$|package\.json$)/.test(f),
    );
    expect(outside).toEqual([]);
    expect(packed.files.filter((f) => /\.test\.|\.bench\.|fixtures|^src\//.test(f))).toEqual([]);
    expect(packed.files).toContain("LICENSE");
    expect(packed.size).toBeLessThanOrEqual(400_000);
  });

  it("holds every file that package.json's exports, main, types and bin name", () => {
    const pkg = JSON.parse(
      readFileSync(join(consumer, "node_modules/gradtrio/package.json"), "utf8"),
    ) as Record<string, unknown>;
    const targets: string[] = [];
    const collect = (v: unknown): void => {
      if (typeof v === "string") targets.push(v.replace(/^\.\//, ""));
      else if (typeof v === "object" && v !== null) Object.values(v).forEach(collect);
    };
    collect([pkg.exports, pkg.main, pkg.types, pkg.bin]);
    expect(targets.length).toBeGreaterThan(12);
    for (const t of targets) expect(packed.files, t).toContain(t);
  });
});

describe("a consumer install", () => {
  it("is ≤ 15 MB, prints no install-script warning, and leaves the optional vitest out", () => {
    expect(installOutput).not.toMatch(/install.?script/i);
    expect(treeSize(join(consumer, "node_modules"))).toBeLessThanOrEqual(15_000_000);
    expect(existsSync(join(consumer, "node_modules/vitest"))).toBe(false);
  });
});

describe("the installed dist/", () => {
  // Every library module as its source declares it: the same exported names in its ESM and its
  // CommonJS file. (A second ESM build of the CLI once re-emitted the library modules it imports,
  // tree-shaken to what the CLI uses, over the library's own files.)
  it("exports from each library module (ESM and CommonJS) what its source exports", async () => {
    const src = join(ROOT, "src");
    const modules = readdirSync(src, { recursive: true, encoding: "utf8" })
      .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))
      // The CLI's modules are no API; the matcher's needs vitest, which this consumer leaves out.
      .filter((f) => !/^(cli|teach|vitest)\//.test(f.split(sep).join("/")))
      // A worker thread's body: it runs as it is imported, on its workerData.
      .filter((f) => f !== join("numeric", "leg-worker.ts"));
    expect(modules.length).toBeGreaterThan(50);
    const dist = join(consumer, "node_modules/gradtrio/dist");
    const require = createRequire(join(consumer, "package.json"));
    for (const f of modules) {
      const names = Object.keys(await import(join(src, f))).sort();
      const stem = join(dist, f.replace(/\.ts$/, ""));
      expect(Object.keys(await import(`${stem}.js`)).sort(), `${f} (ESM)`).toEqual(names);
      expect(
        Object.keys(require(`${stem}.cjs`) as object)
          .filter((k) => k !== "__esModule")
          .sort(),
        `${f} (CommonJS)`,
      ).toEqual(names);
    }
  });
  it("keeps class names through minification (a Tensor's constructor, an error's class)", async () => {
    const dist = join(consumer, "node_modules/gradtrio/dist");
    const names = (m: { tensor: (v: number) => object; GradtrioError: { name: string } }) => [
      m.tensor(1).constructor.name,
      m.GradtrioError.name,
    ];
    const require = createRequire(join(consumer, "package.json"));
    expect(names(await import(join(dist, "index.js")))).toEqual(["Tensor", "GradtrioError"]);
    expect(names(require(join(dist, "index.cjs")))).toEqual(["Tensor", "GradtrioError"]);
  });
});

/** What the ESM and CommonJS consumers print: check's gradient and the Tensor's. */
function expectConsumerOutput(out: string): void {
  const r = JSON.parse(out) as {
    verdict: string;
    gradient: { symbolic: number; numeric: number; autograd: number; formula: string };
    grad: string;
    fuzz: string;
    exprArbitrary: string;
  };
  expect(r.verdict).toBe("agree");
  for (const leg of ["symbolic", "numeric", "autograd"] as const)
    expect(Math.abs(r.gradient[leg] - EXPECTED)).toBeLessThan(1e-12);
  expect(r.gradient.formula).toBe("2*x*cos(x^2)");
  expect(r.grad).toBe("tensor(-5.4668)"); // PyTorch prints 6·cos(9) so
  expect([r.fuzz, r.exprArbitrary]).toEqual(["function", "function"]);
}

/** The consumers that need only Node, on the given Node binary. */
function nodeConsumers(nodeBin: () => string): void {
  const cli = (args: readonly string[], env: NodeJS.ProcessEnv = {}) =>
    run(
      nodeBin(),
      [join(consumer, "node_modules/gradtrio/bin/gradtrio.js"), ...args],
      consumer,
      env,
    );

  it("plain Node ESM: import from gradtrio and gradtrio/fuzz", () => {
    const r = run(nodeBin(), ["esm/main.js"]);
    expect(r.err).toBe("");
    expectConsumerOutput(r.out);
  });

  it("plain Node CommonJS: require gradtrio and gradtrio/fuzz", () => {
    const r = run(nodeBin(), ["main.cjs"]);
    expect(r.err).toBe("");
    expectConsumerOutput(r.out);
  });

  it("the installed CLI: --help, and check --json", () => {
    const help = cli(["--help"]);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/^Usage: gradtrio /);
    const r = cli(["check", "sin(x^2)", "--at", "x=3", "--json"]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out) as { gradients: { x: { autograd: number } } };
    expect(Math.abs(json.gradients.x.autograd - EXPECTED)).toBeLessThan(1e-12);
  });

  it("the installed CLI in fast mode: the numeric leg on its worker thread (the built entry)", () => {
    // Above OFFLOAD_MIN (2^16) elements: fast mode's numeric leg runs on a worker thread.
    const n = 70_000;
    const x = Array.from({ length: n }, (_, k) => Math.sin(k));
    const y = Array.from({ length: n }, (_, k) => k % 2);
    writeFileSync(join(consumer, "x.json"), JSON.stringify(x));
    writeFileSync(join(consumer, "y.json"), JSON.stringify(y));
    const expr = "mean(bce(sigmoid(w*x+b), y))";
    // GRADTRIO_DEBUG=1: the worker says it ran the leg (one that fails, its built entry not
    // found, says why instead).
    const r = cli(["check", expr, "--at", "w=0.5", "b=-0.2", "x=@x.json", "y=@y.json", "--json"], {
      GRADTRIO_DEBUG: "1",
    });
    expect(r.err).toMatch(WORKER_RAN);
    expect(r.code).toBe(0);
    // ∂/∂b = mean(σ(w x + b) − y), by the numeric leg within its error.
    const { db } = logisticPartials(x, y, 0.5, -0.2);
    const b = (JSON.parse(r.out) as { gradients: { b: { numeric: number; numericError: number } } })
      .gradients.b;
    expect(Math.abs(b.numeric - db)).toBeLessThanOrEqual(b.numericError + 1e-12 * Math.abs(db));
  });

  it.each([
    ["ops.ts", "cube(x)", 3 * 0.7 ** 2],
    ["ops.mts", "twice(x)", 2],
    ["ops.cjs", "square(x)", 2 * 0.7],
    ["ops.mjs", "half(x)", 0.5],
  ] as const)(
    "the CLI loads the ops of %s (which imports or requires gradtrio)",
    (ops, expr, d) => {
      const r = cli(["check", expr, "--at", "x=0.7", "--json", "--ops", ops]);
      expect(r.err).toBe("");
      expect(r.code).toBe(0);
      const json = JSON.parse(r.out) as { gradients: { x: { autograd: number } } };
      expect(Math.abs(json.gradients.x.autograd - d)).toBeLessThan(1e-12);
    },
  );

  it("gate finds the ESM gradtrio.config.js of a CommonJS project and runs its ops modules on 2 worker threads", () => {
    const r = cli(["gate", "--workers", "2"]);
    expect(r.err).toBe("");
    expect(r.out).toContain("gradtrio gate: gradtrio.config.js (seed 5)");
    expect(r.out).toContain("5 passed, 0 failed (5 entries)");
    expect(r.code).toBe(0);
  });

  it("teach writes one self-contained page from the installed package (its own modules in an import map)", () => {
    const out = join(consumer, `page-${process.pid}-${Math.random().toString(36).slice(2)}.html`);
    const r = cli(["teach", "sin(x^2)", "--at", "x=3", "--out", out]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const page = readFileSync(out, "utf8");
    expect(page).toContain("<title>gradtrio teach — sin(x^2)");
    // No external resource: nothing loaded by URL (a URL in a bundled library's comment is no load).
    expect(page).not.toMatch(/(src|href)\s*=\s*["']?https?:/);
    expect(page).not.toMatch(/url\(\s*["']?https?:|@import/);
    expect(page).not.toMatch(/<script[^>]*\ssrc=/);
    // The CAS and the graph layout come inlined from their installed browser builds.
    expect(page).toContain("var dagre=");
    expect(page).toContain("nerdamer");
    expect(page).toContain('<script type="importmap">{"imports":{"gradtrio/teach/page/app.js":');
  });

  it("fuzz finds the planted bug of a CommonJS ops module", () => {
    const r = cli(["fuzz", "--ops", "wrong.cjs", "--seed", "1", "--runs", "20"]);
    expect(r.out).toContain("counterexample for op 'badcos'");
    expect(r.out).toContain("blame: autograd");
    expect(r.code).toBe(1);
  });
}

describe("on Node 20 (this machine's)", () => {
  nodeConsumers(() => process.execPath);
});

describe("the teach page's modules, installed", () => {
  const dist = () => join(consumer, "node_modules/gradtrio/dist");

  it("are what esbuild's bundle of the page's entry reads (no file missed, none extra), none of node:", async () => {
    const { build } = await import("esbuild");
    const { metafile } = await build({
      entryPoints: [join(dist(), "teach/page/app.js")],
      bundle: true,
      write: false,
      platform: "browser",
      format: "esm",
      external: Object.keys(BROWSER_GLOBALS),
      metafile: true,
      absWorkingDir: dist(),
      logLevel: "silent",
    });
    const read = Object.keys(metafile.inputs);
    expect(read.length).toBeGreaterThan(50);
    const walked = pageModules(dist(), "teach/page/app.js", new Set(Object.keys(BROWSER_GLOBALS)));
    expect([...walked.keys()].sort()).toEqual(read.map((f) => `gradtrio/${f}`).sort());
    expect(packed.files.filter((f) => /iife/.test(f))).toEqual([]);
  });
});

describePage("the installed package: its ES modules in an import map", (file) => {
  const bin = join(consumer, "node_modules/gradtrio/bin/gradtrio.js");
  const r = run(process.execPath, [bin, "teach", "--out", file]);
  expect(r.err).toBe("");
  expect(r.code).toBe(0);
});

describe("a strict TypeScript consumer and vitest with the matcher", () => {
  beforeAll(() => {
    npmInstall(
      consumer,
      ["typescript", "vitest", "@types/node"].map((p) => `${p}@${installedVersion(p)}`),
      false,
    );
  }, 5 * MINUTE);

  it("type-checks with 0 errors (NodeNext, strict, noUncheckedIndexedAccess, exactOptionalPropertyTypes, skipLibCheck false)", () => {
    const tsconfig = JSON.parse(readFileSync(join(consumer, "tsconfig.json"), "utf8")) as {
      compilerOptions: Record<string, unknown>;
    };
    expect(tsconfig.compilerOptions).toMatchObject({
      module: "NodeNext",
      strict: true,
      noUncheckedIndexedAccess: true,
      exactOptionalPropertyTypes: true,
      skipLibCheck: false,
    });
    const r = run(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "."]);
    expect(r.out + r.err).toBe("");
    expect(r.code).toBe(0);
  });

  it("runs toHaveAgreeingGradients from gradtrio/vitest", () => {
    const r = run(process.execPath, ["node_modules/vitest/vitest.mjs", "run", "--root", "esm"]);
    expect(r.out).toMatch(/Tests\s+\S*2 passed/);
    expect(r.code).toBe(0);
  });
});

describe("on Node 22 (the registry's node binary package)", () => {
  let node22 = "";
  beforeAll(() => {
    const dir = mkdtempSync(join(tmpdir(), "gradtrio-node22-"));
    scratch.push(dir);
    const name = `node-${process.platform}-${process.arch}`;
    npmInstall(dir, [`${name}@22`]);
    node22 = join(dir, "node_modules", name, "bin", "node");
    expect(run(node22, ["--version"]).out).toMatch(/^v22\./);
  }, 5 * MINUTE);

  nodeConsumers(() => node22);
});
