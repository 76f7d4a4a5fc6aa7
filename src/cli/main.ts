/**
 * The `gradtrio` command line: check, explain, gallery, fuzz, gate. Commander parses; every
 * command returns its exit code; errors are printed here, once, as one line
 * `gradtrio: error: …` (plus the expression and a caret for errors with a position), exit 2.
 * An exception that is not a GradtrioError is a bug: one line `gradtrio: internal error: …`,
 * exit 2 too (GRADTRIO_DEBUG=1 prints its stack).
 * A command's module is imported when that command runs: `--help` loads commander alone, and
 * the CAS comes with the commands that differentiate (start-up time: bench/startup.bench.ts).
 */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { GradtrioError, isIntegerIn } from "../errors.ts";
import { DECIMAL_INTEGER, MAX_DEPTH, MAX_RUNS, MAX_WORKERS, parseShard } from "../fuzz/limits.ts";
import { collectStrays, consoleToStderr, guardProcess, strayError } from "../fuzz/stray.ts";
import { legThread } from "../numeric/leg-thread.ts";
import { setNumericRunner } from "../numeric/offload.ts";
import { NUMERIC_METHODS } from "../numeric/types.ts";
import type { CheckFlags } from "./check-command.ts";
import { type CliIO, EXIT, processIO } from "./io.ts";
import { fileInputBytes } from "./point-args.ts";
import { afterReport, reportError } from "./report-error.ts";
import type { TeachFlags } from "./teach.ts";

const VERSION = "0.1.0";

function nonNegative(name: string) {
  return (text: string): number => {
    const v = Number(text);
    if (text.trim() === "" || !Number.isFinite(v) || v < 0)
      throw new InvalidArgumentError(`${name} must be a finite number ≥ 0`);
    return v;
  };
}

/** An integer from `min` to `max` (default: the largest JavaScript holds exactly, 2⁵³ − 1), in decimal digits. */
function integer(name: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return (text: string): number => {
    const v = Number(text);
    if (!DECIMAL_INTEGER.test(text) || !isIntegerIn(v, min, max))
      throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}`);
    return v;
  };
}

const WORKERS_HELP = `worker threads, 1 to ${MAX_WORKERS} (default: as many as pay off: one per 1.5 cores once each has 1500 cases (runs × ops), then more up to the cores for long jobs: on 2 cores the second from 15,000 cases); the results are the same for any N`;

const AT_HELP = `
The point:
  --at NAME=VALUE gives a variable its value; repeat it, or list several after one --at
  (--at w=1 b=0). Give the expression before --at. VALUE is
    a number          --at x=3   --at eps=1e-8
    a JSON array      --at x=[1,2,3]   --at A=[[1,2],[3,4]]
    @FILE             --at x=@x.json   (a JSON file holding a number or an array,
                                        relative to the working directory)
  Every variable of the expression needs a value; a value for a name the expression does
  not use is an error. Names are case-sensitive.

Named intermediates: 'z = w*x+b; p = sigmoid(z); bce(p, y)' — bindings NAME = EXPR
  separated by ';', the output last. A name is bound once, before it is used; a bound
  name is computed, so it takes no --at.
--wrt NAMES differentiates with respect to those inputs only (--wrt w,b); the others are
  constants (data), as in PyTorch where only parameters have requires_grad.`;

const EXIT_HELP = `
Exit codes: 0 autograd confirmed (the legs agree, or the two others outvote the CAS or the
finite differences: the report names the outvoted leg and why), 1 autograd contradicted, 2 bad
input, 3 inconclusive (kink, outside the domain, non-finite value, float64 cannot resolve the
derivative; the reason is printed). --strict: any disagreement exits 1.`;

/** Adds the point options shared by check and explain. */
function pointOptions(cmd: Command): Command {
  return cmd
    .argument("<EXPR>", "the function, e.g. 'sin(x^2)' (quote it for the shell)")
    .option(
      "--at <NAME=VALUE...>",
      "a variable's value: a number, a JSON array or @FILE (repeatable)",
    )
    .addOption(
      new Option(
        "--method <M>",
        "finite-difference method of the numeric leg (default: auto)",
      ).choices(NUMERIC_METHODS),
    )
    .option("--rtol <R>", "relative slack added to the error estimates", nonNegative("--rtol"))
    .option("--atol <A>", "absolute slack added to the error estimates", nonNegative("--atol"))
    .option("--seed <S>", "seed of the random direction in --method fast", integer("--seed", 0))
    .addOption(
      new Option(
        "--dtype <D>",
        "float32: autograd and the value in float32, as PyTorch's default (the point rounded to float32)",
      ).choices(["float64", "float32"]),
    )
    .option(
      "--wrt <NAMES>",
      "differentiate with respect to these inputs only, e.g. --wrt w,b (the others are data)",
    )
    .option(
      "--ops <FILE>",
      "load the custom ops (defineOp) a module (.ts .mts .cts .js .mjs .cjs) exports first (repeatable: every module, in order)",
      (file: string, previous: string[] = []) => [...previous, file],
    );
}

function flagsOf(opts: Record<string, unknown>): CheckFlags {
  return {
    // Commander concatenates a variadic option's repeats: `--at a b --at c` is [a, b, c].
    at: (opts.at as string[] | undefined) ?? [],
    json: opts.json === true,
    method: (opts.method ?? "auto") as NonNullable<CheckFlags["method"]>,
    ...(opts.rtol === undefined ? {} : { rtol: opts.rtol as number }),
    ...(opts.atol === undefined ? {} : { atol: opts.atol as number }),
    ...(opts.seed === undefined ? {} : { seed: opts.seed as number }),
    ...(opts.ops === undefined ? {} : { ops: opts.ops as string[] }),
    ...(opts.strict === true ? { strict: true } : {}),
    ...(opts.wrt === undefined ? {} : { wrt: opts.wrt as string }),
    ...(opts.dtype === undefined ? {} : { dtype: opts.dtype as NonNullable<CheckFlags["dtype"]> }),
    ...(opts.order === "2" ? { order: 2 as const } : {}),
  };
}

function build(io: CliIO, setCode: (code: number) => void): Command {
  const program = new Command("gradtrio");
  const strip = (s: string) => (s.endsWith("\n") ? s.slice(0, -1) : s);
  program
    .description(
      "Differentiate a function three independent ways — symbolic (CAS), numeric (finite differences) and autograd (reverse mode) — and tell whether they agree.",
    )
    .version(VERSION, "-V, --version", "print the version")
    .helpOption("-h, --help", "show help (also: gradtrio COMMAND --help)")
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (s) => io.out(strip(s)),
      writeErr: (s) => io.err(strip(s)),
      outputError: () => {}, // printed once, as one line, by main()
    })
    .exitOverride()
    .addHelpText(
      "after",
      `
Examples:
  gradtrio check 'sin(x^2)' --at x=3
  gradtrio check 'mean(x^2)' --at x=[1,2,3] --json
  gradtrio explain 'bce(clamp(sigmoid(w*x+b), 1e-8, 1-1e-8), y)' --at w=1 b=0 x=6.7 y=0
  gradtrio gallery
  gradtrio teach 'sin(x^2)' --at x=3 --out sin.html
  gradtrio fuzz --ops ./my-ops.ts --runs 500
  gradtrio gate gradtrio.config.ts --junit gradients.xml

Errors: bad input prints one line 'gradtrio: error: …' (with the expression and a caret
under the position for errors in the expression) and exits 2. An unexpected failure is a
bug in gradtrio: one line 'gradtrio: internal error: …', exit 2.
Colours are on in a terminal unless NO_COLOR is set.`,
    );

  const check = pointOptions(
    program
      .command("check")
      .description("check the gradient of EXPR at a point three ways")
      .option("--json", "print the report as one JSON object (the documented contract)")
      .option("--strict", "exit 1 on any disagreement, an outvoted CAS or finite difference too")
      .addOption(
        new Option("--order <N>", "2: check the Hessian too (a scalar output)").choices(["1", "2"]),
      ),
  );
  check
    .addHelpText(
      "after",
      `${AT_HELP}

Options in use:
  gradtrio check 'x^x' --at x=1.7 --rtol 1e-10 --atol 1e-14
  gradtrio check 'mean(bce(sigmoid(w*x+b), y))' --at w=0.5 b=-0.2 x=@x.json y=@y.json --method fast --seed 7
  gradtrio check 'sin(x^2)' --at x=3 --json
  gradtrio check 'sqrt(y^2)' --at y=-2 --strict
  gradtrio check 'z = w*x+b; p = sigmoid(z); bce(p, y)' --at w=1 b=0 x=6.7 y=0 --wrt w,b
  gradtrio check 'bce(clamp(sigmoid(w*x+b), 1e-8, 1-1e-8), y)' --at w=1 b=0 x=17 y=0 --dtype float32
  gradtrio check 'x^3*y' --at x=2 y=3 --order 2        (the Hessian too)
  gradtrio check 'sigmoid(w*x+b)' --at w=2 b=0 x=[1,2,3]   (a vector output: its Jacobian)
  gradtrio check 'mish(x)*x' --at x=0.3 --ops ./my-ops.ts      (your ops: defineOp)
Methods: auto (default: complex step where every op is analytic, else Richardson; fast
above 1000 input elements), richardson, central, complex, fast (one random directional
derivative, and each element of the scalar inputs and of inputs small enough).
${EXIT_HELP}`,
    )
    .action(async (expr: string, opts: Record<string, unknown>) => {
      const { checkCommand } = await import("./check-command.ts");
      setCode(await checkCommand(expr, flagsOf(opts), io));
    });

  const explain = pointOptions(
    program
      .command("explain")
      .description(
        "teaching view: the computation graph, the chain rule by hand, the three legs side by side",
      ),
  )
    .option(
      "--steps",
      "also the step-size lesson: forward, central and complex-step error for h = 1e-1 … 1e-15",
    )
    .option("--dot", "print the graph as Graphviz DOT (node: name, grad_fn, value, gradient)");
  explain
    .addHelpText(
      "after",
      `${AT_HELP}

Examples:
  gradtrio explain 'sin(x^2)' --at x=4
  gradtrio explain 'bce(clamp(sigmoid(w*x+b), 1e-8, 1-1e-8), y)' --at w=1 b=0 x=6.7 y=0
  gradtrio explain 'mean(x^2)' --at x=[1,2,3]
  gradtrio explain 'z = w*x+b; p = sigmoid(z); bce(p, y)' --at w=1 b=0 x=6.7 y=0 --wrt w,b
  gradtrio explain 'sin(x^2)' --at x=3 --steps
  gradtrio explain 'sin(x^2)' --at x=3 --dot | dot -Tsvg > graph.svg
  gradtrio explain 'x^x' --at x=1.7 --method richardson --rtol 1e-10 --atol 1e-14
  gradtrio explain 'mean(x^2)' --at x=[1,2,3] --method fast --seed 7
  gradtrio explain 'sin(x^2)' --at x=3 --dtype float32
  gradtrio explain 'mish(x)*x' --at x=0.3 --ops ./my-ops.ts
Exit codes: 0, or 2 for bad input.`,
    )
    .action(async (expr: string, opts: Record<string, unknown>) => {
      const { explainCommand } = await import("./explain.ts");
      setCode(
        await explainCommand(
          expr,
          {
            ...flagsOf(opts),
            steps: opts.steps === true,
            dot: opts.dot === true,
          },
          io,
        ),
      );
    });

  program
    .command("teach")
    .description(
      "write an interactive page: the graph, the three legs, the chain rule, the step size h",
    )
    .argument("[EXPR]", "the function (default: the seed notebooks' BCE)")
    .option(
      "--at <NAME=VALUE...>",
      "a variable's value: a number, a JSON array or @FILE (repeatable; the page gets the file's values)",
    )
    .option(
      "--wrt <NAMES>",
      "differentiate with respect to these inputs only, e.g. --wrt w,b (the others are data)",
    )
    .addOption(
      new Option(
        "--dtype <D>",
        "the page's starting dtype: float32 computes the chain rule and autograd as PyTorch's default",
      ).choices(["float64", "float32"]),
    )
    .requiredOption("--out <FILE>", "the HTML file to write (one self-contained page)")
    .addHelpText(
      "after",
      `
Examples:
  gradtrio teach --out bce.html
  gradtrio teach 'sin(x^2)' --at x=3 --out sin.html
  gradtrio teach 'bce(sigmoid(w*x+b), y)' --at w=1 b=0 x=6.7 y=0 --wrt w,b --out bce.html
  gradtrio teach 'mean(x^2)' --at x=@x.json --out mean.html   (@FILE: a JSON file, its values put in the page)
  gradtrio teach --dtype float32 --out bce32.html
The page loads nothing from the network: open the file in any browser.
Exit codes: 0, or 2 for bad input.`,
    )
    .action(async (expr: string | undefined, opts: Record<string, unknown>) => {
      const { teachCommand } = await import("./teach.ts");
      setCode(
        await teachCommand(
          expr,
          {
            at: (opts.at as string[] | undefined) ?? [],
            out: opts.out as string,
            ...(opts.wrt === undefined ? {} : { wrt: opts.wrt as string }),
            ...(opts.dtype === undefined
              ? {}
              : { dtype: opts.dtype as NonNullable<TeachFlags["dtype"]> }),
          },
          io,
        ),
      );
    });

  program
    .command("gallery")
    .description(
      "the seed notebooks' examples (x², sin(x²), mean(x²), BCE), each checked three ways",
    )
    .addHelpText(
      "after",
      `
Example:
  gradtrio gallery        (also: npm start)
Exit codes: 0 when every case agrees, 1 otherwise.`,
    )
    .action(async () => {
      const { galleryCommand } = await import("./gallery.ts");
      setCode(await galleryCommand(io));
    });

  program
    .command("fuzz")
    .description(
      "random expressions over the ops a module exports, three-way checked; shrinks a counterexample",
    )
    .requiredOption(
      "--ops <FILE>",
      "a module (.ts .mts .cts .js .mjs .cjs) exporting custom ops (defineOp)",
    )
    .option(
      "--runs <N>",
      `how many random expressions (at most ${MAX_RUNS})`,
      integer("--runs", 1, MAX_RUNS),
    )
    .option(
      "--seed <S>",
      "random seed (a failure prints the seed that replays it)",
      integer("--seed", 0),
    )
    .option(
      "--max-depth <D>",
      `deepest expression tree (1 to ${MAX_DEPTH})`,
      integer("--max-depth", 1, MAX_DEPTH),
    )
    .option("--path <P>", "replay one case of --seed (a counterexample prints its seed and path)")
    .option("--workers <N>", WORKERS_HELP, integer("--workers", 1, MAX_WORKERS))
    .option("--json", "print the result as one JSON object")
    .addHelpText(
      "after",
      `
Examples:
  gradtrio fuzz --ops ./my-ops.ts
  gradtrio fuzz --ops ./my-ops.ts --runs 2000 --seed 42 --max-depth 6 --workers 4 --json
  gradtrio fuzz --ops ./my-ops.ts --seed 42 --path 17:3:0     (replay a counterexample)
Off a terminal a progress line goes to stderr every 10 s (GRADTRIO_PROGRESS_MS sets the interval);
Ctrl-C prints the summary so far and the replay of the case in flight, and exits 130.
Exit codes: 0 no counterexample found, 1 found (or an op failed its sanity check: reported,
not fuzzed; the others are), 2 bad input, 130 interrupted.`,
    )
    .action(async (opts: Record<string, unknown>) => {
      const { fuzzCommand } = await import("./fuzz.ts");
      setCode(
        await fuzzCommand(
          {
            ops: opts.ops as string,
            ...(opts.runs === undefined ? {} : { runs: opts.runs as number }),
            ...(opts.seed === undefined ? {} : { seed: opts.seed as number }),
            ...(opts.maxDepth === undefined ? {} : { maxDepth: opts.maxDepth as number }),
            ...(opts.path === undefined ? {} : { path: opts.path as string }),
            ...(opts.workers === undefined ? {} : { workers: opts.workers as number }),
            json: opts.json === true,
          },
          io,
        ),
      );
    });

  program
    .command("gate")
    .description("run a project's gradient suite (CI): every entry must agree")
    .argument(
      "[CONFIG]",
      "the config module, .ts .mts .cts .js .mjs or .cjs (default: gradtrio.config.{ts,mts,js,mjs,cjs})",
    )
    .option("--junit <FILE>", "also write a JUnit XML report to FILE (always written)")
    .option(
      "--shard <I/N>",
      "run only the I-th of N disjoint parts of the entries (CI matrices)",
      // Checked with the other arguments: a malformed one is the command line's error.
      (text: string) => {
        parseShard(text);
        return text;
      },
    )
    .option("--workers <N>", WORKERS_HELP, integer("--workers", 1, MAX_WORKERS))
    .addHelpText(
      "after",
      `
Examples:
  gradtrio gate
  gradtrio gate ci/gradients.config.ts --junit reports/gradients.xml
  gradtrio gate --shard 2/4 --junit reports/gradients-2.xml     (one job of a CI matrix)
  gradtrio gate --workers 2
Ctrl-C prints the entries done so far and the replay of the case in flight, and exits 130.
Exit codes: 0 all pass, 1 otherwise, 2 bad input, 130 interrupted.`,
    )
    .action(async (config: string | undefined, opts: Record<string, unknown>) => {
      const { gateCommand } = await import("./gate.ts");
      setCode(
        await gateCommand(
          {
            ...(config === undefined ? {} : { config }),
            ...(opts.junit === undefined ? {} : { junit: opts.junit as string }),
            ...(opts.shard === undefined ? {} : { shard: opts.shard as string }),
            ...(opts.workers === undefined ? {} : { workers: opts.workers as number }),
          },
          io,
        ),
      );
    });

  // Subcommands inherit the output and error handling.
  for (const cmd of program.commands) {
    cmd.configureOutput(program.configureOutput()).exitOverride().showSuggestionAfterError(true);
    for (const option of cmd.options) givenOnce(cmd.name(), option);
  }
  return program;
}

/** Options that may be given more than once: --at's values add up, check's and explain's --ops load every module. */
const REPEATABLE = new Set(["--at", "check --ops", "explain --ops"]);

/**
 * A single-valued option given a second time is an error, not silently the last one: commander
 * hands the parser the value so far (options have no defaults, so that is undefined the first time).
 */
function givenOnce(command: string, option: Option): void {
  const flag = option.long;
  if (flag === undefined || !(option.required || option.optional)) return;
  if (REPEATABLE.has(flag) || REPEATABLE.has(`${command} ${flag}`)) return;
  const parse = option.parseArg;
  option.argParser((value: string, previous: unknown) => {
    if (previous !== undefined)
      throw new GradtrioError(
        "INVALID_ARGUMENT",
        command === "fuzz" && flag === "--ops"
          ? "--ops is given twice: fuzz takes one ops module (export every op from one module, or run fuzz once per module)"
          : `${flag} is given twice`,
      );
    return parse === undefined ? value : parse(value, undefined);
  });
}

/** An item after `--at` that is no NAME=VALUE (an expression written after the point). */
function expressionAfterAt(argv: readonly string[]): string | undefined {
  const at = argv.indexOf("--at");
  if (at < 0) return undefined;
  for (const item of argv.slice(at + 1)) {
    if (item.startsWith("--")) break;
    if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(item)) return item;
  }
  return undefined;
}

/** Commander's message as one line: no `error: ` prefix, the suggestion joined in. */
function commanderMessage(e: CommanderError): string {
  return e.message
    .replace(/^error: /, "")
    .replace(/\n\((Did you mean[^)]*)\)/, (_, s: string) => ` (${s.toLowerCase()})`)
    .replace(/\s*\n\s*/g, " ");
}

/** A gate command line that does not parse still writes its `--junit FILE` (docs/DESIGN.md). */
async function gateArgumentsJUnit(argv: readonly string[], io: CliIO, message: string) {
  if (argv[0] !== "gate") return;
  const { writeArgumentsJUnit } = await import("./gate.ts");
  writeArgumentsJUnit(argv, io.cwd, message);
}

/** The commands whose first argument is an expression. */
const EXPRESSION_COMMANDS = new Set(["check", "explain", "teach"]);

/**
 * `argv` with an expression that begins with '-' (`gradtrio check '-x^2' --at x=1`) moved after
 * `--`, where commander reads it as the expression, not as an option (docs/DESIGN.md, the command
 * line). Only right after the command; `-h` alone stays the help (`check -h --at h=1` is the
 * expression `-h`, as `-V --at V=1` is `-V`).
 */
function leadingMinus(argv: readonly string[]): readonly string[] {
  const [command, first, ...rest] = argv;
  if (
    command === undefined ||
    first === undefined ||
    !EXPRESSION_COMMANDS.has(command) ||
    !/^-[^-]/.test(first) ||
    (first === "-h" && rest.length === 0) ||
    rest.includes("--")
  )
    return argv;
  return [command, ...rest, "--", first];
}

/**
 * Runs the CLI on `argv` (the arguments after the program name) and returns the exit code.
 *
 * @example
 * const io = memoryIO();
 * await main(["check", "x^2", "--at", "x=3", "--json"], io); // 0
 */
export async function main(argv: readonly string[], io: CliIO): Promise<number> {
  let code: number = EXIT.ok;
  if (argv.length === 0) {
    io.err(
      "gradtrio: error: missing command (check, explain, teach, gallery, fuzz or gate); see gradtrio --help",
    );
    return EXIT.badInput;
  }
  // What user code leaves behind (a promise it rejected, a timer's throw) fails the command.
  const strays = collectStrays();
  afterReport(undefined); // a report of an earlier command (in this process) is not this one's
  try {
    const program = build(io, (c) => {
      code = c;
    });
    await program.parseAsync([...leadingMinus(argv)], { from: "user" });
    const [stray] = await strays.end();
    return stray === undefined ? code : reportError(strayError(stray), io);
  } catch (e) {
    if (e instanceof CommanderError) {
      if (
        e.code === "commander.helpDisplayed" ||
        e.code === "commander.version" ||
        e.code === "commander.help"
      )
        return EXIT.ok;
      const misplaced =
        e.code === "commander.missingArgument" ? expressionAfterAt(argv) : undefined;
      const message =
        misplaced === undefined
          ? commanderMessage(e)
          : `missing the expression: '${misplaced}' after --at was read as a NAME=VALUE; give the expression first, e.g. gradtrio ${argv[0]} '${misplaced}' --at …`;
      await gateArgumentsJUnit(argv, io, message);
      io.err(`gradtrio: error: ${message}`);
      return EXIT.badInput;
    }
    if (e instanceof GradtrioError) await gateArgumentsJUnit(argv, io, e.message);
    return reportError(e, io);
  } finally {
    await strays.end();
  }
}

/** @FILE inputs of this many bytes or more start fast mode's numeric leg thread ahead. */
const PRESTART_BYTES = 1 << 20;

/** The entry point of bin/gradtrio.js: process arguments and streams, sets process.exitCode. */
export async function runCli(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  // The command's process: fast mode's numeric leg may run on a second thread (numeric/offload.ts).
  setNumericRunner(legThread);
  // Inputs large enough for that (OFFLOAD_MIN elements, ~20 bytes of JSON each): its thread starts
  // now and loads while this one reads them. Not where the leg stays here: another method, the
  // Hessian's, custom ops (a worker thread has the built-ins only).
  if (
    argv[0] === "check" &&
    !argv.some((a) => /^--(method|order|ops)\b/.test(a)) &&
    fileInputBytes(argv, process.cwd()) >= PRESTART_BYTES
  )
    legThread.prestart();
  const io = processIO();
  // User code's uncaught errors and process.exit calls: one line, exit 2 (src/fuzz/stray.ts).
  guardProcess((stray, exit) => exit(reportError(strayError(stray), io)));
  // --json: stdout is the report alone; user code's console output goes to stderr.
  const json = argv.indexOf("--json");
  if (json >= 0 && !argv.slice(0, json).includes("--")) consoleToStderr();
  process.exitCode = await main(argv, io);
}

function isDirectRun(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

// `tsx src/cli/main.ts gallery` (npm start) runs the module itself.
if (isDirectRun()) await runCli();
