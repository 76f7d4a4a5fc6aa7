/**
 * JSON written as it is produced: the same bytes as `JSON.stringify(value)` (one line), in pieces
 * of about 64 KB (a piece may exceed it by one block of array items; a large array's pieces are
 * its blocks, text or bytes the worker formatted, up to 26 a number), so a report of
 * 10^6-element gradients (~100 MB) is never one string in memory.
 */
import { Worker } from "node:worker_threads";

const PIECE = 1 << 16;
/** Array items serialised at once (by either thread). */
const BLOCK = 4096;
/**
 * Bytes of JSON a number takes at most: 25 (-0.0000012345678901234567: from 1e-6 to 1e-5, no
 * exponent) and a comma. The worker checks that its JSON fit all the same.
 */
const WIDTH = 26;

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
 * Formatting numbers is most of the time of `check --json` on large inputs (~0.15 µs a number,
 * V8's own formatter: no faster way on one thread). So a `worker_threads` worker, a small inline
 * script, formats the large arrays of numbers of the report while this thread runs the legs and
 * the vote (it gets the point's arrays before the legs, each leg's gradients as the leg
 * finishes), by blocks of BLOCK numbers into shared memory. A block goes to whichever thread
 * claims it first (an atomic counter per array): when this thread comes to write an array, it
 * claims the blocks the worker has not reached and formats them itself, and waits only for the
 * block the worker is at (well under a millisecond; one not done in `timeoutMs` it formats
 * itself, and from then on it waits for none; one the worker gave up as it exited, at once). The worker runs at the lowest priority (on Linux,
 * its own thread's nice value), so it takes the cores the legs leave idle; on a machine loaded by
 * other programs this thread does the formatting. A broken worker costs time, never a wrong byte.
 */

/** Bytes of shared memory per block: its JSON with brackets, WIDTH a number at most. */
const REGION = WIDTH * BLOCK + 2;

/**
 * A block's state in shared memory: formatted by the worker (the length of its JSON, brackets
 * included, + 1), being formatted by it (0), claimed by this thread (MINE), or given up by the
 * worker (FAILED: its JSON did not fit).
 */
const MINE = -2;
const FAILED = -1;

/**
 * The worker: for each `{ data: Float64Array, state: Int32Array, out: Uint8Array }` posted (the
 * last two shared), claims blocks (state[0]: the next unclaimed) and writes each one's
 * `JSON.stringify` to its REGION of `out`, its length in state[1 + block]. Should it exit while at
 * a block (an uncaught error, process.exit), its exit hook gives that block up (FAILED), so this
 * thread formats it at once rather than after `timeoutMs`. A constant script (no user text in
 * it), terse: it ships as text.
 */
export const WORKER_SOURCE = `const E=new TextEncoder(),b=[];let S=null,K=0
process.on("exit",()=>{if(S!==null)Atomics.store(S,1+K,${FAILED}),Atomics.notify(S,1+K)})
try{require("node:os").setPriority(+require("node:fs").readlinkSync("/proc/thread-self").split("/").pop(),19)}catch{}
require("node:worker_threads").parentPort.on("message",({data,state,out})=>{const n=Math.ceil(data.length/${BLOCK});let k
while((k=Atomics.add(state,0,1))<n){S=state;K=k;const i=k*${BLOCK},m=Math.min(${BLOCK},data.length-i);b.length=m
for(let j=0;j<m;j++)b[j]=data[i+j]
const s=JSON.stringify(b),r=E.encodeInto(s,out.subarray(k*${REGION},(k+1)*${REGION}))
S=null;Atomics.store(state,1+k,r.read===s.length?r.written+1:${FAILED});Atomics.notify(state,1+k)}})`;

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
  /** The worker failed to start or to finish a block in time: this thread waits for it no more. */
  #alone = false;

  /**
   * @param workerSource the worker's script (tests: a broken worker)
   * @param timeoutMs how long this thread waits for a block the worker is at before formatting
   * it itself (a block takes well under a millisecond)
   */
  constructor(
    private readonly workerSource = WORKER_SOURCE,
    private readonly timeoutMs = 100,
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
        // A failing worker leaves its blocks unanswered: see items.
        this.#worker.on("error", () => {});
      }
      const blocks = Math.ceil(v.length / BLOCK);
      const job = {
        state: new Int32Array(new SharedArrayBuffer(4 * (1 + blocks))),
        out: new Uint8Array(new SharedArrayBuffer(REGION * blocks)),
      };
      this.#worker.postMessage({ ...job, data }, [data.buffer]);
      this.#jobs.set(v, job);
    } catch {
      this.#alone = true;
    }
  }

  /** A submitted array's items, block by block, the worker's where it did them; else undefined. */
  readonly items: ArrayItems = (a) => {
    const job = this.#jobs.get(a);
    return job === undefined ? undefined : this.#pieces(a as readonly number[], job);
  };

  *#pieces(a: readonly number[], { state, out }: { state: Int32Array; out: Uint8Array }) {
    const n = Math.ceil(a.length / BLOCK);
    // The blocks the worker has not reached are this thread's.
    for (let k = Atomics.add(state, 0, 1); k < n; k = Atomics.add(state, 0, 1))
      Atomics.store(state, 1 + k, MINE);
    for (let k = 0; k < n; k++) {
      // Atomics.wait returns at once unless the worker is still at the block.
      if (!this.#alone && Atomics.wait(state, 1 + k, 0, this.timeoutMs) === "timed-out")
        this.#alone = true;
      const len = Atomics.load(state, 1 + k);
      if (len > 0) {
        // Its "[" becomes the comma before it; its "]" is left out.
        const at = k * REGION;
        if (k > 0) out[at] = 0x2c;
        yield out.subarray(k === 0 ? at + 1 : at, at + len - 2);
      } else {
        const json = JSON.stringify(a.slice(k * BLOCK, (k + 1) * BLOCK)).slice(1, -1);
        yield k === 0 ? json : `,${json}`;
      }
    }
  }

  /** Stops the worker (it never keeps the process alive). */
  close(): void {
    void this.#worker?.terminate();
  }
}

/** Arrays shorter are not worth a message to the worker. */
export const MIN = PIECE;
/** Arrays longer are formatted by this thread (their shared memory would pass 2 GB). */
const MAX = Math.floor((2 ** 31 - 1) / WIDTH);
