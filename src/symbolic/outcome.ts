/**
 * The two ways the symbolic leg declines to give a number, thrown inside the leg and turned into
 * its result: `Unavailable` (the CAS gave up, answered outside the allowlist, or an op has no
 * formula) and `KinkFound` (a piecewise op sits exactly on a breakpoint at the point).
 */

/** The leg has no honest derivative; `message` is the reason shown to people. */
export class Unavailable extends Error {
  override readonly name = "Unavailable";
}

/** Where a piecewise op is not differentiable at the point. */
export interface Kink {
  /** The piecewise op: `abs`, `relu` or `clamp`. */
  readonly op: string;
  /** The op's text, e.g. `abs(x-1)`. */
  readonly text: string;
  /** Source position of the call, when the expression came from text. */
  readonly pos?: number;
  /** Row-major index of the element of the op's output that sits on the breakpoint. */
  readonly element: number;
  /** The argument's value there (the breakpoint). */
  readonly value: number;
}

export class KinkFound extends Error {
  override readonly name = "KinkFound";
  constructor(readonly kink: Kink) {
    super(
      `${kink.text} is at a kink: its argument is ${kink.value}` +
        (kink.element > 0 ? ` at element ${kink.element}` : "") +
        ", where the derivative jumps",
    );
  }
}

/** A leg's answer when it declines to give a number, and why. */
export interface Declined {
  readonly status: "unavailable" | "kink";
  readonly reason: string;
  /** For a kink: which op and where. */
  readonly kink?: Kink;
}

/** What a thrown `Unavailable` or `KinkFound` makes of a leg's result; any other error is rethrown. */
export function declined(e: unknown): Declined {
  if (e instanceof Unavailable) return { status: "unavailable", reason: e.message };
  if (e instanceof KinkFound) return { status: "kink", reason: e.message, kink: e.kink };
  throw e;
}
