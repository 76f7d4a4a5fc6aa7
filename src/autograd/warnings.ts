/**
 * The one place the autograd engine warns through, so tests and examples can capture warnings.
 */

/** Receives a warning's text (without the `UserWarning: ` prefix). */
export type WarningHandler = (message: string) => void;

const defaultHandler: WarningHandler = (message) => console.warn("UserWarning: " + message);
let handler: WarningHandler = defaultHandler;

/**
 * Emits a warning through the current handler.
 *
 * @example
 * warn("something looks off"); // prints "UserWarning: something looks off" by default
 */
export function warn(message: string): void {
  handler(message);
}

/**
 * Replaces the warning handler and returns the previous one (pass it back to restore).
 *
 * @example
 * const seen: string[] = [];
 * const previous = setWarningHandler((m) => seen.push(m));
 * // … code that warns …
 * setWarningHandler(previous);
 */
export function setWarningHandler(next: WarningHandler): WarningHandler {
  const previous = handler;
  handler = next;
  return previous;
}
