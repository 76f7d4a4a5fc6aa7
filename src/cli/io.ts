/**
 * The CLI's connection to the world, injectable so commands run in-process in tests.
 * Every command returns its exit code; nothing calls process.exit but bin/main.
 */
export interface CliIO {
  /** Writes a line (or lines) to standard output; a newline is appended. */
  out(text: string): void;
  /** Writes a line (or lines) to standard error; a newline is appended. */
  err(text: string): void;
  /** Standard output is a terminal: colours and progress bars on, else plain lines. */
  readonly isTTY: boolean;
  /** Working directory for relative paths (`@FILE`, `--ops FILE`, CONFIG). */
  readonly cwd: string;
}

/** Exit codes, as DESIGN.md fixes them. */
export const EXIT = {
  ok: 0, // agree / nothing found / all agree
  fail: 1, // disagree / counterexample found / a gate entry failed
  badInput: 2,
  inconclusive: 3,
} as const;

export function processIO(): CliIO {
  return {
    out: (t) => process.stdout.write(`${t}\n`),
    err: (t) => process.stderr.write(`${t}\n`),
    isTTY: process.stdout.isTTY === true,
    cwd: process.cwd(),
  };
}

/** Collects output in memory (tests). */
export function memoryIO(opts: { isTTY?: boolean; cwd?: string } = {}): CliIO & {
  stdout: string[];
  stderr: string[];
} {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    out: (t) => stdout.push(t),
    err: (t) => stderr.push(t),
    isTTY: opts.isTTY ?? false,
    cwd: opts.cwd ?? process.cwd(),
    stdout,
    stderr,
  };
}
