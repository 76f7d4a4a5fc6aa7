/**
 * The CLI's connection to the world, injectable so commands run in-process in tests.
 * Every command returns its exit code; runCli (src/cli/main.ts) sets process.exitCode from it
 * and nothing calls process.exit.
 */
export interface CliIO {
  /** Writes a line (or lines) to standard output; a newline is appended. */
  out(text: string): void;
  /**
   * Writes one line to standard output from pieces, as they come (large JSON; bytes are ASCII);
   * then a newline.
   */
  outPieces(pieces: Iterable<string | Uint8Array>): void;
  /** Writes a line (or lines) to standard error; a newline is appended. */
  err(text: string): void;
  /** Standard output is a terminal: colours and progress bars on, else plain lines. */
  readonly isTTY: boolean;
  /** Working directory for relative paths (`@FILE`, `--ops FILE`, CONFIG). */
  readonly cwd: string;
}

/** Exit codes, as docs/DESIGN.md fixes them. */
export const EXIT = {
  ok: 0, // agree / nothing found / all agree
  fail: 1, // disagree / counterexample found / a gate entry failed
  badInput: 2,
  inconclusive: 3,
  interrupted: 130, // Ctrl-C (128 + SIGINT), as shells report it
} as const;

/** Streams whose reader has gone (EPIPE): further output to them is dropped. */
const closed = new WeakSet<NodeJS.WriteStream>();
const guarded = new WeakSet<NodeJS.WriteStream>();

/**
 * A reader that closes early (`gradtrio explain … | head -1`) makes writes fail with EPIPE, an
 * 'error' event that would otherwise crash the process with a stack trace. The rest of the
 * output is dropped quietly; the command runs on and exits with its own code. Any other write
 * error is rethrown as before.
 */
function guard(stream: NodeJS.WriteStream): void {
  if (guarded.has(stream)) return;
  guarded.add(stream);
  stream.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE" || e.code === "ERR_STREAM_DESTROYED") closed.add(stream);
    else throw e;
  });
}

function writer(stream: NodeJS.WriteStream): (text: string) => void {
  guard(stream);
  return (t) => {
    if (!closed.has(stream)) stream.write(`${t}\n`);
  };
}

function piecesWriter(stream: NodeJS.WriteStream): (pieces: Iterable<string | Uint8Array>) => void {
  guard(stream);
  return (pieces) => {
    for (const p of pieces) {
      if (closed.has(stream)) return;
      stream.write(p);
    }
    if (!closed.has(stream)) stream.write("\n");
  };
}

export function processIO(): CliIO {
  return {
    out: writer(process.stdout),
    outPieces: piecesWriter(process.stdout),
    err: writer(process.stderr),
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
    outPieces: (pieces) =>
      stdout.push(
        [...pieces]
          .map((p) => (typeof p === "string" ? p : Buffer.from(p).toString("latin1")))
          .join(""),
      ),
    err: (t) => stderr.push(t),
    isTTY: opts.isTTY ?? false,
    cwd: opts.cwd ?? process.cwd(),
    stdout,
    stderr,
  };
}
