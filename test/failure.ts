/** Test helper: the GradtrioError that `f` throws (any other exception, or none, fails the test). */
import { GradtrioError } from "../src/errors.ts";

export function failure(f: () => unknown): GradtrioError {
  try {
    f();
  } catch (e) {
    if (e instanceof GradtrioError) return e;
    throw e;
  }
  throw new Error("did not fail");
}

/** The GradtrioError that `f` throws, as `CODE: message`. */
export function errorText(f: () => unknown): string {
  const e = failure(f);
  return `${e.code}: ${e.message}`;
}
