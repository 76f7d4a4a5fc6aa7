/**
 * What user code does outside any call gradtrio makes: a promise it rejects that nobody handles, a
 * throw from a timer it set, `process.exit(…)`. Node's default for the first two is a stack trace
 * and exit 1, for the last a silent exit with the user's code (0: a false green). The CLI installs
 * `guardProcess`: `process.exit` throws `ExitCalled` where it is called (a module that calls it at
 * import fails to load; a backward that calls it throws), and an uncaught exception or unhandled
 * rejection is a `Stray`, handed to the open collector that ran the code which made it (`run`: a
 * gate entry), else to the innermost open one that runs no code of its own (the command's: never
 * another entry's), or, with none open, printed as one line, exit 2. A stray is attributed to the
 * user module named in its stack. Without `guardProcess` (the library in someone else's process)
 * nothing changes.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { Console } from "node:console";
import { isAbsolute, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { firstLine, GradtrioError } from "../errors.ts";
import { shownPath } from "./shown-path.ts";

/** An error of user code that nothing caught. */
export interface Stray {
  readonly kind: "uncaught exception" | "unhandled promise rejection";
  readonly error: unknown;
}

/** Thrown by `process.exit` while `guardProcess` is on: user code must not end gradtrio's process. */
export class ExitCalled extends Error {
  constructor(readonly exitCode: unknown) {
    super(
      `called process.exit(${exitCode === undefined ? "" : String(exitCode)}): a module must not end gradtrio's process`,
    );
  }
}

interface Collector {
  readonly strays: Stray[];
  readonly onStray: ((s: Stray) => void) | undefined;
  /** It has run code of its own (`run`): it takes that code's strays, no others. */
  runs: boolean;
}

const collectors: Collector[] = [];
/** The collector whose `run` started the code now running (timers and promises keep it). */
const scope = new AsyncLocalStorage<Collector>();
/** A user module was imported (`importModule`): a stray without a stack may be its. */
let userCodeLoaded = false;
let guarded = false;
/** gradtrio's own code: src/ and dist/ of its package (this file is in src/fuzz or dist/fuzz). */
const root = fileURLToPath(new URL("../..", import.meta.url));
const own = [resolve(root, "src"), resolve(root, "dist")];

/** Notes that user code is loaded (an ops module, a config). */
export function userModuleLoaded(): void {
  userCodeLoaded = true;
}

/** The file of a stack frame line (`    at f (/p/x.ts:3:9)`, `    at file:///p/x.ts:3:9`). */
function frameFile(line: string): string | undefined {
  const m = /^\s*at (?:.*\()?(.+?):\d+:\d+\)?$/.exec(line);
  if (m === null) return undefined;
  const f = m[1]!;
  if (f.startsWith("file://")) return fileURLToPath(f);
  return isAbsolute(f) ? f : undefined;
}

/** The nearest frame of a stray error's stack outside gradtrio and its dependencies: user code. */
function moduleOf(error: unknown): string | undefined {
  const stack = error instanceof Error ? error.stack : undefined;
  for (const line of stack?.split("\n") ?? []) {
    const file = frameFile(line);
    if (
      file !== undefined &&
      !file.split(sep).includes("node_modules") &&
      !own.some((dir) => file.startsWith(dir + sep))
    )
      return shownPath(file, process.cwd());
  }
  return undefined;
}

/** What happened, in one line: `unhandled promise rejection: …`, `called process.exit(0): …`. */
export function strayText(s: Stray): string {
  return s.error instanceof ExitCalled ? s.error.message : `${s.kind}: ${firstLine(s.error)}`;
}

/** The one-line description of a stray: the module its stack names (else "user code"), what happened. */
export function strayMessage(s: Stray): string {
  const module = moduleOf(s.error);
  return `${module === undefined ? "user code" : `module '${module}'`}: ${strayText(s)}`;
}

/**
 * A stray as the error the command reports: a GradtrioError (MODULE: bad input, exit 2) when user
 * code may have made it (its stack names a user module, or one is loaded); else the error itself,
 * which the CLI reports as its own bug.
 */
export function strayError(s: Stray): unknown {
  if (moduleOf(s.error) === undefined && !userCodeLoaded) return s.error;
  return new GradtrioError("MODULE", strayMessage(s));
}

/**
 * Where a stray of code run by `own` (undefined: by no collector) goes: `own` while it is open;
 * else the innermost open collector that runs no code of its own. A stray of an entry's code that
 * surfaces after the entry's collector closed thus goes to the command's, not to another entry
 * running then.
 */
function collectorFor(own: Collector | undefined): Collector | undefined {
  if (own !== undefined && collectors.includes(own)) return own;
  for (let i = collectors.length - 1; i >= 0; i--) if (!collectors[i]!.runs) return collectors[i];
  return undefined;
}

/**
 * Installs the process-wide guard (the CLI's process only, once): `process.exit` throws
 * `ExitCalled`; uncaught exceptions and unhandled rejections go to a collector (`collectorFor`),
 * or to `fatal` (it prints one line and exits 2 with the `exit` it is given) when none takes them.
 */
export function guardProcess(fatal: (s: Stray, exit: (code: number) => never) => never): void {
  if (guarded) return;
  guarded = true;
  const exit = process.exit.bind(process) as (code: number) => never;
  process.exit = ((code?: unknown) => {
    throw new ExitCalled(code);
  }) as typeof process.exit;
  const take = (kind: Stray["kind"]) => (error: unknown) => {
    const s: Stray = { kind, error };
    const c = collectorFor(scope.getStore());
    if (c === undefined) fatal(s, exit);
    c.strays.push(s);
    c.onStray?.(s);
  };
  process.on("uncaughtException", take("uncaught exception"));
  process.on("unhandledRejection", take("unhandled promise rejection"));
}

/** An unhandled rejection is reported once the microtasks have run: after a macrotask. */
async function surfaced(): Promise<void> {
  if (guarded) await new Promise((r) => setImmediate(r));
}

/** An open collector: `end()` lets pending rejections surface, closes it and returns its strays. */
export interface StrayCollector {
  end(): Promise<readonly Stray[]>;
  /** `end()`, then throws the first stray as `strayError` gives it (none: returns). */
  endOrThrow(): Promise<void>;
  /**
   * After pending rejections surface, throws the first stray so far as `strayError` gives it
   * (none: returns); the collector stays open.
   */
  throwFirst(): Promise<void>;
  /**
   * Runs `fn` as this collector's: what it leaves behind (a rejected promise, a timer) comes
   * here, while the collector is open, even while other collectors open after it (gate entries
   * side by side); from then on this collector takes no stray of other code.
   */
  run<T>(fn: () => T): T;
}

/**
 * Opens a collector: the strays that surface until `end()` are its (`onStray` hears each at
 * once, e.g. to stop a long run). Without `guardProcess` it collects nothing.
 */
export function collectStrays(onStray?: (s: Stray) => void): StrayCollector {
  const c: Collector = { strays: [], onStray, runs: false };
  collectors.push(c);
  let ended: Promise<readonly Stray[]> | undefined;
  const end = () => {
    ended ??= (async () => {
      await surfaced();
      collectors.splice(collectors.indexOf(c), 1);
      return c.strays;
    })();
    return ended;
  };
  const throwFirst = (strays: readonly Stray[]) => {
    if (strays[0] !== undefined) throw strayError(strays[0]);
  };
  return {
    run: (fn) => {
      c.runs = true;
      return scope.run(c, fn);
    },
    end,
    endOrThrow: async () => throwFirst(await end()),
    throwFirst: async () => {
      await surfaced();
      throwFirst(c.strays);
    },
  };
}

/** Set by `consoleToStderr` for the worker threads the process starts (they inherit it). */
const CONSOLE_ENV = "GRADTRIO_CONSOLE_TO_STDERR";

/**
 * With `--json`, stdout holds the report alone: what user code prints with `console` (a
 * `console.log` at an ops module's import or in a backward, the usual first look at a wrong rule)
 * goes to stderr instead, in this thread and in the worker threads started after this call
 * (`followConsoleRoute`). gradtrio's own output writes to process.stdout, not through `console`.
 */
export function consoleToStderr(): void {
  process.env[CONSOLE_ENV] = "1";
  followConsoleRoute();
}

/** In a worker thread: `console` to stderr when the process that started it asked for that. */
export function followConsoleRoute(): void {
  if (process.env[CONSOLE_ENV] !== "1") return;
  globalThis.console = new Console({ stdout: process.stderr, stderr: process.stderr });
}
