/**
 * JSON written as it is produced: the same bytes as `JSON.stringify(value)` (one line), in pieces
 * of about 64 KB (a piece may exceed it by one block of array items), so a report of 10^6-element gradients (~100 MB) is never one string in memory.
 */

const PIECE = 1 << 16;
/** Array items serialised at once. */
const BLOCK = 4096;

/** A piece of JSON: text, or ASCII bytes (formatted by a worker, json-parallel.ts). */
export type JsonPiece = string | Uint8Array;

/**
 * The items of an array as pieces (without the brackets) when `items` takes it, else undefined.
 */
export type ArrayItems = (a: readonly unknown[]) => Iterable<JsonPiece> | undefined;

/**
 * The pieces of `JSON.stringify(value)`, for plain data (objects, arrays, strings, numbers,
 * booleans, null; undefined properties left out, undefined array items null). An array that
 * `items` takes is written from its pieces.
 *
 * @example
 * ```ts
 * [...jsonPieces({ a: [1, 2] })].join(""); // '{"a":[1,2]}'
 * ```
 */
export function jsonPieces(value: unknown): Generator<string>;
export function jsonPieces(value: unknown, items: ArrayItems): Generator<JsonPiece>;
export function* jsonPieces(value: unknown, items?: ArrayItems): Generator<JsonPiece> {
  let buf = "";
  function* emit(v: unknown): Generator<JsonPiece> {
    if (buf.length >= PIECE) {
      yield buf;
      buf = "";
    }
    if (v === null || v === undefined) buf += "null";
    else if (typeof v === "number" || typeof v === "string" || typeof v === "boolean")
      buf += JSON.stringify(v);
    else if (Array.isArray(v)) {
      buf += "[";
      const taken = items?.(v);
      if (taken !== undefined) {
        for (const p of taken)
          if (typeof p === "string") {
            buf += p;
            if (buf.length >= PIECE) {
              yield buf;
              buf = "";
            }
          } else {
            if (buf !== "") yield buf;
            buf = "";
            yield p;
          }
        buf += "]";
        return;
      }
      for (let i = 0; i < v.length; i += BLOCK) {
        if (i > 0) buf += ",";
        const block = v.slice(i, i + BLOCK);
        // A block of numbers goes through JSON.stringify itself: 3× faster than String(x) each.
        if (block.every((x) => typeof x === "number")) buf += JSON.stringify(block).slice(1, -1);
        else
          for (let k = 0; k < block.length; k++) {
            if (k > 0) buf += ",";
            yield* emit(block[k]);
          }
        if (buf.length >= PIECE) {
          yield buf;
          buf = "";
        }
      }
      buf += "]";
    } else if (typeof v === "object") {
      buf += "{";
      let first = true;
      for (const [k, item] of Object.entries(v)) {
        if (item === undefined || typeof item === "function") continue;
        buf += `${first ? "" : ","}${JSON.stringify(k)}:`;
        first = false;
        yield* emit(item);
      }
      buf += "}";
    } else buf += "null";
  }
  yield* emit(value);
  if (buf !== "") yield buf;
}
