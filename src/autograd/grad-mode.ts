/**
 * Gradient mode: whether ops record a graph. `noGrad` for inference and parameter updates,
 * `enableGrad` to record inside a `noGrad` block (both restore the previous mode, even on throw).
 */

let enabled = true;

/**
 * Whether ops currently record the autograd graph.
 *
 * @example
 * isGradEnabled(); // true
 * noGrad(() => isGradEnabled()); // false
 */
export function isGradEnabled(): boolean {
  return enabled;
}

/** Sets the mode and returns the previous one (for the engine and the two wrappers below). */
export function setGradEnabled(on: boolean): boolean {
  const previous = enabled;
  enabled = on;
  return previous;
}

/**
 * Runs `fn` without recording a graph (PyTorch's `torch.no_grad()`); returns what `fn` returns.
 * Synchronous: the mode is restored when `fn` returns, not when a promise it returns settles.
 *
 * @example
 * const x = tensor(3, { requiresGrad: true });
 * const y = noGrad(() => x.pow(2));
 * y.requiresGrad; // false
 */
export function noGrad<T>(fn: () => T): T {
  const previous = setGradEnabled(false);
  try {
    return fn();
  } finally {
    enabled = previous;
  }
}

/**
 * Runs `fn` with graph recording on, even inside `noGrad` (PyTorch's `torch.enable_grad()`).
 *
 * @example
 * noGrad(() => enableGrad(() => x.pow(2))).requiresGrad; // true when x requires grad
 */
export function enableGrad<T>(fn: () => T): T {
  const previous = setGradEnabled(true);
  try {
    return fn();
  } finally {
    enabled = previous;
  }
}

let tracing = false;

/** Whether ops record their `origin` (only while `recordOrigins` runs, i.e. while tracing). */
export function isRecordingOrigins(): boolean {
  return tracing;
}

/** Sets origin recording and returns the previous setting (for the engine). */
export function setRecordingOrigins(on: boolean): boolean {
  const previous = tracing;
  tracing = on;
  return previous;
}

/**
 * Runs `fn` with every op recording how it made its result (`Tensor.origin`), for tracing a
 * function into an expression. Off otherwise, so a long `noGrad` loop keeps no history alive.
 *
 * @example
 * const y = recordOrigins(() => x.pow(2));
 * y.origin; // { op: "pow", args: [x, 2] }
 */
export function recordOrigins<T>(fn: () => T): T {
  const previous = tracing;
  tracing = true;
  try {
    return fn();
  } finally {
    tracing = previous;
  }
}
