/** The one place where an error becomes what the user sees: one line, exit 2. */
import { GradtrioError } from "../errors.ts";
import { type CliIO, EXIT } from "./io.ts";

/**
 * Control characters (a binary @FILE's bytes quoted in a message) as `\u0000` escapes, so the
 * error stays one readable line that does nothing to the terminal; a tab stays.
 */
function visible(text: string): string {
  return text.replace(
    /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** What a report already written must say when an error is reported after it (`afterReport`). */
let amend: ((e: unknown) => void) | undefined;

/**
 * Registers how to amend the report the command has written (the gate's JUnit file) should an
 * error be reported after it (user code's stray once the command has returned, src/fuzz/stray.ts):
 * a report written before an error must not stay green. One at a time; `main` clears it as a
 * command starts.
 */
export function afterReport(fn: ((e: unknown) => void) | undefined): void {
  amend = fn;
}

/** Prints an error as the CLI contract wants it and returns the exit code. */
export function reportError(e: unknown, io: CliIO): number {
  const amendReport = amend;
  amend = undefined;
  amendReport?.(e);
  if (e instanceof GradtrioError) {
    const oneLine = visible(e.message.replace(/\s*\n\s*/g, " "));
    const caret = e.format().slice(e.message.length);
    io.err(`gradtrio: error: ${oneLine}${caret}`);
    return EXIT.badInput;
  }
  const msg = e instanceof Error ? e.message : String(e);
  io.err(
    `gradtrio: internal error: ${visible(msg.replace(/\s*\n\s*/g, " "))} (a bug in gradtrio; GRADTRIO_DEBUG=1 shows where)`,
  );
  if (process.env.GRADTRIO_DEBUG && e instanceof Error && e.stack) io.err(e.stack);
  return EXIT.badInput;
}
