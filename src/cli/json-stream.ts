/**
 * JSON written as it is produced: the same bytes as `JSON.stringify(value)` (one line), in pieces
 * of about 64 KB (a piece may exceed it by one block of array items; a worker's chunk is one
 * piece), so a report of 10^6-element gradients (~100 MB) is never one string in memory.
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
 * The JSON of a report with 10^6-element arrays, its numbers formatted on two cores. Formatting
 * numbers is most of the time of `check --json` on large inputs (~0.1 µs a number, V8's own
 * formatter: no faster way on one thread), so a `worker_threads` worker (a small inline script,
 * not the library) formats chunks of the large number arrays while this thread formats the rest
 * and writes, every piece in order: the same bytes as `JSON.stringify(value)`.
 *
 * Each array handed over is cut into chunks of CHUNK numbers; a chunk is formatted by whichever
 * thread claims it first (an atomic compare-and-swap on its state in shared memory). The worker
 * gets the point's arrays before the legs run and the gradients before the vote, takes them in
 * order, each from its end; this thread claims forward as it writes. It has every number:
 * a chunk the worker gave up (an error, no answer in time) it formats itself, so a broken worker
 * costs time, never a wrong byte.
 */

/** Numbers in a chunk: ~1.4 MB of JSON, ~7 ms of formatting. */
export const CHUNK = 1 << 16;
/** Bytes of JSON a number takes at most: 24 (-1.2345678901234567e-308) and a comma. */
const WIDTH = 25;

/** A chunk's state in shared memory. */
const FREE = 0;
const WORKER = 1; // claimed by the worker, being formatted
const MAIN = 2; // claimed by this thread
const DONE = 3; // formatted by the worker: its bytes are in place

/**
 * The worker: takes the arrays posted to it (`{ data: Float64Array, state, length: Int32Array,
 * out: Uint8Array }`, the last three shared) in order, each from its end, and writes each chunk
 * it claims as JSON (ASCII, no brackets) to `out` at WIDTH bytes a number,
 * its length to `length`. On an error it frees its chunk and dies. A block of numbers goes
 * through a plain array A (JSON.stringify writes a typed array as an object). A constant script
 * (no user text in it), terse: it ships as text.
 */
export const WORKER_SOURCE = `const{parentPort}=require("node:worker_threads"),C=${CHUNK},B=${BLOCK},W=${WIDTH}
const E=new TextEncoder(),A=new Array(B).fill(.5)
parentPort.on("message",({data,state,length,out})=>{for(let c=state.length-1;c>=0;c--){const from=c*C,to=Math.min(data.length,from+C)
if(Atomics.compareExchange(state,c,${FREE},${WORKER})!==${FREE})continue
try{let at=from*W
for(let i=from;i<to;i+=B){A.length=Math.min(B,to-i)
for(let k=0;k<A.length;k++)A[k]=data[i+k]
if(i>from)out[at++]=44
at+=E.encodeInto(JSON.stringify(A).slice(1,-1),out.subarray(at)).written}
length[c]=at-from*W
Atomics.store(state,c,${DONE})}catch(e){Atomics.store(state,c,${FREE})
throw e}finally{Atomics.notify(state,c)}}})`;

interface Job {
  readonly state: Int32Array;
  readonly length: Int32Array;
  readonly out: Uint8Array;
}

/**
 * Writes the JSON of values whose large number arrays were handed to a worker (`submit`).
 *
 * @example
 * ```ts
 * const json = new ParallelJson();
 * json.submit(point.x); // formatted by the worker meanwhile
 * io.outPieces(json.pieces(report)); // the bytes of JSON.stringify(report)
 * json.close();
 * ```
 */
export class ParallelJson {
  readonly #jobs = new Map<unknown, Job>();
  #worker: Worker | undefined;
  /** The worker failed to start or to answer in time: this thread formats everything. */
  #alone = false;

  /**
   * @param workerSource the worker's script (tests: a broken worker)
   * @param timeoutMs how long this thread waits for a chunk the worker claimed before formatting
   * it itself
   */
  constructor(
    private readonly workerSource = WORKER_SOURCE,
    private readonly timeoutMs = 10_000,
  ) {}

  /**
   * Hands an array of numbers of at least CHUNK to the worker (taken in order); anything else
   * is written by `pieces` alone. It must not change after.
   */
  submit(v: unknown): void {
    if (this.#alone || !Array.isArray(v) || v.length < CHUNK || this.#jobs.has(v)) return;
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
        // A failing worker leaves its chunks free or unanswered: handled where they are read.
        this.#worker.on("error", () => {});
      }
      const n = Math.ceil(v.length / CHUNK);
      const job = {
        state: new Int32Array(new SharedArrayBuffer(4 * n)),
        length: new Int32Array(new SharedArrayBuffer(4 * n)),
        out: new Uint8Array(new SharedArrayBuffer(WIDTH * v.length)),
      };
      this.#worker.postMessage({ ...job, data }, [data.buffer]);
      this.#jobs.set(v, job);
    } catch {
      this.#alone = true;
    }
  }

  /** The pieces of `JSON.stringify(value)`, in order. */
  pieces(value: unknown): Generator<JsonPiece> {
    return jsonPieces(value, (a) => {
      const job = this.#jobs.get(a);
      return job && this.#items(a as readonly number[], job);
    });
  }

  /** Stops the worker (it never keeps the process alive). */
  close(): void {
    void this.#worker?.terminate();
  }

  *#items(a: readonly number[], job: Job): Generator<JsonPiece> {
    for (let c = 0; c < job.state.length; c++) {
      const from = c * CHUNK;
      if (c > 0) yield ",";
      yield this.#byWorker(job.state, c)
        ? job.out.subarray(from * WIDTH, from * WIDTH + job.length[c]!)
        : JSON.stringify(a.slice(from, from + CHUNK)).slice(1, -1);
    }
  }

  /** Whether the worker formatted chunk c (else this thread is to). */
  #byWorker(state: Int32Array, c: number): boolean {
    if (this.#alone || Atomics.compareExchange(state, c, FREE, MAIN) === FREE) return false;
    const deadline = performance.now() + this.timeoutMs;
    while (!this.#alone && Atomics.load(state, c) === WORKER)
      // A negative timeout is 0.
      if (Atomics.wait(state, c, WORKER, deadline - performance.now()) === "timed-out")
        this.#alone = true;
    // DONE, or freed by a failing worker (then ours).
    return !this.#alone && Atomics.compareExchange(state, c, FREE, MAIN) === DONE;
  }
}
