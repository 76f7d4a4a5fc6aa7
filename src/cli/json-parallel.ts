/**
 * The JSON of a report with 10^6-element arrays, its numbers formatted on two cores. Formatting
 * numbers is most of the time of `check --json` on large inputs (~0.1 µs a number, V8's own
 * formatter: no faster way on one thread), so a `worker_threads` worker (a small inline script,
 * not the library) formats chunks of the large number arrays while this thread formats the rest
 * and writes, every piece in order: the same bytes as `JSON.stringify(value)`.
 *
 * Each large array is cut into chunks of CHUNK numbers; a chunk is formatted by whichever thread
 * claims it first (an atomic compare-and-swap on its state in shared memory). This thread claims
 * forward as it writes; the worker claims the input arrays as soon as they are known (while the
 * legs run), then the report's other arrays from their end. This thread has every number: a
 * chunk the worker gave up (an error, no reply within TIMEOUT) it formats itself, so a broken
 * worker costs time, never a wrong byte.
 */
import {
  MessageChannel,
  type MessagePort,
  receiveMessageOnPort,
  Worker,
} from "node:worker_threads";
import { type JsonPiece, jsonPieces } from "./json-stream.ts";

/** Numbers in a chunk: ~1.4 MB of JSON, ~7 ms of formatting. */
export const CHUNK = 1 << 16;

/** A chunk's state in shared memory. */
const FREE = 0;
const WORKER = 1; // claimed by the worker, being formatted
const MAIN = 2; // claimed by this thread
const DONE = 3; // formatted by the worker, its bytes posted

/**
 * The worker: takes the arrays posted to it (`{ id, data: Float64Array, state: Int32Array,
 * fromEnd }`), newest first, and for each chunk it claims posts `{ id, chunk, bytes }` (the
 * chunk's numbers as JSON, without brackets; ASCII). On an error it frees its chunk and stops.
 * A constant script: no user text in it.
 */
const WORKER_SOURCE = `
const { workerData, receiveMessageOnPort } = require("node:worker_threads");
const port = workerData.port;
const CHUNK = workerData.chunk;
const BLOCK = workerData.block;
const encoder = new TextEncoder();
// One block of numbers as a plain array (JSON.stringify formats it natively; a typed array it
// would write as an object), and the chunk's bytes (at most 25 a number: 24 and a comma).
const block = new Array(BLOCK).fill(0.5);
const out = new Uint8Array(25 * CHUNK);
function format(data, from, to) {
  let at = 0;
  for (let i = from; i < to; i += BLOCK) {
    const n = Math.min(BLOCK, to - i);
    block.length = n;
    for (let k = 0; k < n; k++) block[k] = data[i + k];
    if (i > from) out[at++] = 44;
    at += encoder.encodeInto(JSON.stringify(block).slice(1, -1), out.subarray(at)).written;
  }
  return out.slice(0, at);
}
const jobs = [];
let stopped = false;
function drain() {
  for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) jobs.push(m.message);
}
function work() {
  for (drain(); jobs.length > 0 && !stopped; drain()) {
    const job = jobs[jobs.length - 1];
    const n = job.state.length;
    if (job.next === undefined) job.next = 0;
    if (job.next >= n) { jobs.pop(); continue; }
    const c = job.fromEnd ? n - 1 - job.next : job.next;
    job.next++;
    if (Atomics.compareExchange(job.state, c, ${FREE}, ${WORKER}) !== ${FREE}) continue;
    try {
      const bytes = format(job.data, c * CHUNK, Math.min(job.data.length, (c + 1) * CHUNK));
      port.postMessage({ id: job.id, chunk: c, bytes }, [bytes.buffer]);
      Atomics.store(job.state, c, ${DONE});
    } catch (e) {
      stopped = true;
      Atomics.store(job.state, c, ${FREE});
    }
    Atomics.notify(job.state, c);
  }
}
port.on("message", (job) => { jobs.push(job); work(); });
`;

interface Job {
  readonly id: number;
  readonly state: Int32Array;
}

export interface ParallelJsonOptions {
  /** The worker's script (tests: a broken worker). */
  readonly workerSource?: string;
  /** How long this thread waits for a chunk the worker claimed before formatting it itself. */
  readonly timeoutMs?: number;
}

/**
 * Formats the JSON of values whose large number arrays are shared with a worker.
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
  readonly #jobs = new Map<unknown[], Job>();
  readonly #received = new Map<string, Uint8Array>();
  readonly #workerSource: string;
  readonly #timeoutMs: number;
  #port: MessagePort | undefined;
  #worker: Worker | undefined;
  /** The worker failed to start or to answer in time: this thread formats everything. */
  #alone = false;

  constructor(opts: ParallelJsonOptions = {}) {
    this.#workerSource = opts.workerSource ?? WORKER_SOURCE;
    this.#timeoutMs = opts.timeoutMs ?? 10_000;
  }

  /**
   * Hands a large array of numbers to the worker now (the point, before the legs run); other
   * values are left for `pieces`. The array must not change until `pieces` has written it.
   */
  submit(v: unknown, fromEnd = false): void {
    if (this.#alone || !Array.isArray(v) || v.length < CHUNK || this.#jobs.has(v)) return;
    const data = new Float64Array(v.length);
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i];
      if (typeof x !== "number") return;
      data[i] = x;
    }
    const port = this.#start();
    if (port === undefined) return;
    const job = {
      id: this.#jobs.size,
      state: new Int32Array(new SharedArrayBuffer(4 * Math.ceil(v.length / CHUNK))),
    };
    this.#jobs.set(v, job);
    port.postMessage({ ...job, data, fromEnd }, [data.buffer]);
  }

  /** The pieces of `JSON.stringify(value)`, in order. */
  pieces(value: unknown): Generator<JsonPiece> {
    // The worker takes the last array first, from its end: this thread starts from the front.
    for (const a of numberArrays(value)) this.submit(a, true);
    return jsonPieces(value, (a) => this.#arrayItems(a));
  }

  /** Stops the worker (it never keeps the process alive). */
  close(): void {
    void this.#worker?.terminate();
    this.#port?.close();
    this.#worker = undefined;
    this.#port = undefined;
  }

  #start(): MessagePort | undefined {
    if (this.#port !== undefined || this.#alone) return this.#port;
    try {
      const { port1, port2 } = new MessageChannel();
      const worker = new Worker(this.#workerSource, {
        eval: true,
        // Not the parent's --import hooks (tsx, profilers): a bare, fast start.
        execArgv: [],
        workerData: { port: port2, chunk: CHUNK, block: BLOCK },
        transferList: [port2],
        stdout: true,
        stderr: true,
      });
      worker.unref();
      // An error in the worker leaves its chunks free or unanswered: handled where they are read.
      worker.on("error", () => {});
      this.#worker = worker;
      this.#port = port1;
    } catch {
      this.#alone = true;
    }
    return this.#port;
  }

  /** The items of a submitted array as pieces (no brackets), or undefined for any other array. */
  #arrayItems(a: readonly unknown[]): Generator<JsonPiece> | undefined {
    const job = this.#jobs.get(a as unknown[]);
    if (job === undefined) return undefined;
    return this.#items(a as readonly number[], job);
  }

  *#items(a: readonly number[], job: Job): Generator<JsonPiece> {
    for (let c = 0; c < job.state.length; c++) {
      if (c > 0) yield ",";
      const bytes = this.#alone ? undefined : this.#fromWorker(job, c);
      if (bytes !== undefined) yield bytes;
      else yield* numberPieces(a, c * CHUNK, Math.min(a.length, (c + 1) * CHUNK));
    }
  }

  /** The worker's bytes for chunk c, or undefined when this thread is to format it. */
  #fromWorker(job: Job, c: number): Uint8Array | undefined {
    const { state } = job;
    if (Atomics.compareExchange(state, c, FREE, MAIN) === FREE) return undefined;
    const deadline = performance.now() + this.#timeoutMs;

    while (Atomics.load(state, c) === WORKER) {
      const left = deadline - performance.now();
      if (left <= 0 || Atomics.wait(state, c, WORKER, left) === "timed-out") {
        this.#alone = true;
        return undefined;
      }
    }
    // Freed by a failing worker: ours.
    if (Atomics.compareExchange(state, c, FREE, MAIN) === FREE) return undefined;
    const key = `${job.id}:${c}`;
    for (;;) {
      const bytes = this.#received.get(key);
      if (bytes !== undefined) {
        this.#received.delete(key);
        return bytes;
      }
      const m = this.#port === undefined ? undefined : receiveMessageOnPort(this.#port);
      if (m === undefined) {
        // DONE is stored after the post: the message is queued; not there is a broken worker.
        this.#alone = true;
        return undefined;
      }
      const { id, chunk, bytes: b } = m.message as { id: number; chunk: number; bytes: Uint8Array };
      this.#received.set(`${id}:${chunk}`, b);
    }
  }
}

/** Items a to b of an array of numbers as JSON pieces (no brackets). */
function* numberPieces(a: readonly number[], from: number, to: number): Generator<string> {
  for (let i = from; i < to; i += BLOCK) {
    const s = JSON.stringify(a.slice(i, Math.min(to, i + BLOCK)));
    yield i > from ? `,${s.slice(1, -1)}` : s.slice(1, -1);
  }
}

/** Numbers serialised at once by this thread. */
const BLOCK = 4096;

/** The large arrays in a value (objects and arrays walked), in the order JSON writes them. */
function* numberArrays(v: unknown): Generator<unknown[]> {
  if (Array.isArray(v)) {
    if (v.length >= CHUNK && typeof v[0] === "number") yield v;
    else for (const x of v) if (typeof x === "object" && x !== null) yield* numberArrays(x);
  } else if (typeof v === "object" && v !== null)
    for (const x of Object.values(v)) yield* numberArrays(x);
}
