/**
 * JSON written as it is produced: the same bytes as `JSON.stringify(value)` (one line), in pieces
 * of about 64 KB (a piece may exceed it by one block of array items; an array the worker formatted
 * is one piece of bytes, up to 26 a number), so a report of 10^6-element gradients (~100 MB) is
 * never one string in memory.
 */
import { Worker } from "node:worker_threads";

const PIECE = 1 << 16;
/** Array items serialised at once (by either thread). */
const BLOCK = 4096;

/** A piece of JSON: text, or ASCII bytes (formatted by a worker: ParallelJson, below). */
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
        yield buf;
        buf = "";
        yield* taken;
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

/*
 * Formatting numbers is most of the time of `check --json` on large inputs (~0.1 µs a number,
 * V8's own formatter: no faster way on one thread). So a `worker_threads` worker, a small inline
 * script, formats the large arrays of numbers of the report while this thread runs the legs and
 * the vote (it gets the point's arrays before the legs, the gradients before the vote) and writes
 * each one's JSON to shared memory; this thread writes it in its place. An array is formatted by
 * whichever thread claims it first (an atomic compare-and-swap); one the worker does not answer
 * in time, this thread formats itself: a broken worker costs time, never a wrong byte.
 */

/**
 * An array's state in shared memory: FREE, claimed by the WORKER (being formatted) or by this
 * thread (MAIN; the worker also hands it back when its JSON did not fit `out`), or formatted
 * by the worker: DONE + the length of its JSON.
 */
const FREE = 0;
const WORKER = 1;
const MAIN = 2;
const DONE = 3;

/**
 * The worker: for each `{ data: Float64Array, state: Int32Array, out: Uint8Array }` posted (the
 * last two shared) that it claims, writes the numbers as JSON to `out` from its second byte (no
 * brackets; its first byte is scratch). By blocks of BLOCK numbers, each `JSON.stringify`'d and
 * written where the last one's "]" was: one string of the whole array (~22 MB at 10^6, built
 * from an array of 10^6 made first) cost a third more time, most of it in page faults. It runs at
 * the lowest priority (Linux: its own thread's nice value), so it takes the cores the legs leave
 * idle. A constant script (no user text in it), terse: it ships as text.
 */
export const WORKER_SOURCE = `const E=new TextEncoder(),b=[]
try{require("node:os").setPriority(+require("node:fs").readlinkSync("/proc/thread-self").split("/").pop(),19)}catch{}
require("node:worker_threads").parentPort.on("message",({data,state,out})=>{if(Atomics.compareExchange(state,0,${FREE},${WORKER})!==${FREE})return
let p=0,ok=true
for(let i=0;ok&&i<data.length;i+=${BLOCK}){const m=Math.min(${BLOCK},data.length-i);b.length=m
for(let k=0;k<m;k++)b[k]=data[i+k]
const s=JSON.stringify(b),r=E.encodeInto(s,out.subarray(p));ok=r.read===s.length;if(p>0)out[p]=44;p+=r.written-1}
Atomics.store(state,0,ok?${DONE}+p-1:${MAIN})
Atomics.notify(state,0)})`;

/**
 * Formats large arrays of numbers on a worker, for `jsonPieces`.
 *
 * @example
 * ```ts
 * const json = new ParallelJson();
 * json.submit(point.x); // formatted by the worker meanwhile
 * io.outPieces(jsonPieces(report, json.items)); // the bytes of JSON.stringify(report)
 * json.close();
 * ```
 */
export class ParallelJson {
  readonly #jobs = new Map<unknown, { state: Int32Array; out: Uint8Array }>();
  #worker: Worker | undefined;
  /** The worker failed to start or to answer in time: this thread formats everything. */
  #alone = false;

  /**
   * @param workerSource the worker's script (tests: a broken worker)
   * @param timeoutMs how long this thread waits for an array the worker claimed before
   * formatting it itself (10^6 numbers take ~0.15 s)
   */
  constructor(
    private readonly workerSource = WORKER_SOURCE,
    private readonly timeoutMs = 3000,
  ) {}

  /**
   * Hands an array of at least MIN numbers to the worker (taken in order); anything else is
   * formatted by this thread. It must not change after.
   */
  submit(v: unknown): void {
    if (this.#alone || !Array.isArray(v) || v.length < MIN || v.length > MAX) return;
    const data = new Float64Array(v.length);
    for (let i = 0; i < v.length; i++) {
      if (typeof v[i] !== "number") return;
      data[i] = v[i];
    }
    try {
      if (this.#worker === undefined) {
        // Not the parent's --import hooks (tsx, profilers): a bare, fast start.
        this.#worker = new Worker(this.workerSource, { eval: true, execArgv: [] });
        this.#worker.unref();
        // A failing worker leaves its array unanswered: see items.
        this.#worker.on("error", () => {});
      }
      const job = {
        state: new Int32Array(new SharedArrayBuffer(4)),
        out: new Uint8Array(new SharedArrayBuffer(WIDTH * v.length + 2)),
      };
      this.#worker.postMessage({ ...job, data }, [data.buffer]);
      this.#jobs.set(v, job);
    } catch {
      this.#alone = true;
    }
  }

  /** The worker's JSON of a submitted array's items, or undefined: this thread formats it. */
  readonly items: ArrayItems = (a) => {
    const job = this.#jobs.get(a);
    if (
      this.#alone ||
      job === undefined ||
      Atomics.compareExchange(job.state, 0, FREE, MAIN) === FREE
    )
      return undefined;
    // Atomics.wait returns at once unless the worker is still at it.
    if (Atomics.wait(job.state, 0, WORKER, this.timeoutMs) === "timed-out") {
      this.#alone = true;
      return undefined;
    }
    // MAIN: this thread claimed it before (an array met twice), or the worker handed it back.
    const state = Atomics.load(job.state, 0);
    return state >= DONE ? [job.out.subarray(1, 1 + state - DONE)] : undefined;
  };

  /** Stops the worker (it never keeps the process alive). */
  close(): void {
    void this.#worker?.terminate();
  }
}

/** Arrays shorter are not worth a message to the worker. */
export const MIN = PIECE;
/**
 * Bytes of JSON a number takes at most: 25 (-0.0000012345678901234567: from 1e-6 to 1e-5, no
 * exponent) and a comma. The worker checks that its JSON fit all the same.
 */
const WIDTH = 26;
/** Arrays longer are formatted by this thread: a state counts the JSON's bytes in an Int32. */
const MAX = Math.floor((2 ** 31 - 1 - DONE) / WIDTH);
