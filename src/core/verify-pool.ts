/**
 * Ed25519 verification on worker threads (Node only), so that bulk ingest
 * uses every core: the caller decodes on its own thread
 * (`decodeOperationUnverified`), the pool checks the signatures. Each
 * worker costs about 9 MB of RSS: they stop once the pool has been idle for
 * `idleMs` (a node that synced once would keep them for its whole life), and
 * start again on the next batch. With `inlineWhileStarting`, batches that
 * come while the workers boot (tens of milliseconds on an idle machine, a
 * second or more on a busy one) are checked on the calling thread instead
 * of waiting: the first batch of a sync is what a user waits to see.
 */
import { isStrictPublicKey, isStrictSignature } from './ed25519-strict.ts';
import { WalkawayError } from './errors.ts';
import { signatureValid } from './operation.ts';
import type { Operation } from './operation.ts';

interface PendingBatch {
  resolve: (results: Uint8Array) => void;
  reject: (err: Error) => void;
}

interface WorkerLike {
  postMessage(value: unknown, transfer?: ArrayBuffer[]): void;
  // biome-ignore lint/suspicious/noExplicitAny: the listener type of Node's EventEmitter, which a Worker must satisfy
  on(event: string, listener: (...args: any[]) => void): void;
  terminate(): Promise<number>;
  ref(): void;
  unref(): void;
}

/** How long an idle pool keeps its workers by default. */
const IDLE_MS = 30_000;

export class VerifyPool {
  readonly threads: number;
  readonly #spawn: () => WorkerLike;
  readonly #idleMs: number;
  readonly #inlineWhileStarting: boolean;
  #workers: WorkerLike[] = [];
  #online = 0;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  #pending = new Map<number, PendingBatch>();
  #nextId = 0;
  #next = 0;
  #closed = false;
  #inlineOps = 0;
  #workerOps = 0;

  private constructor(threads: number, spawn: () => WorkerLike, idleMs: number, inlineWhileStarting: boolean) {
    this.threads = threads;
    this.#spawn = spawn;
    this.#idleMs = idleMs;
    this.#inlineWhileStarting = inlineWhileStarting;
    this.#start();
    this.#idle();
  }

  /**
   * `threads`: default one per core; `idleMs`: idle time after which the
   * workers stop (default 30 s); `inlineWhileStarting`: verify on the calling
   * thread until every worker is up (default: batches wait for them).
   */
  static async create(options: { threads?: number; idleMs?: number; inlineWhileStarting?: boolean } = {}): Promise<VerifyPool> {
    const { Worker } = await import('node:worker_threads');
    const { availableParallelism } = await import('node:os');
    const threads = Math.max(1, options.threads ?? availableParallelism());
    const url = new URL('./verify-worker.mjs', import.meta.url);
    const spawn = () => new Worker(url, { execArgv: [] }) as unknown as WorkerLike;
    return new VerifyPool(threads, spawn, options.idleMs ?? IDLE_MS, options.inlineWhileStarting ?? false);
  }

  /** Whether every worker is up (batches go to them, not the calling thread). */
  get started(): boolean {
    return this.#workers.length > 0 && this.#online === this.threads;
  }

  /** Operations verified so far on the calling thread (while workers start) and by the workers. */
  get verified(): { inline: number; workers: number } {
    return { inline: this.#inlineOps, workers: this.#workerOps };
  }

  /** Workers running now (0 after an idle stop, until the next batch). */
  get running(): number {
    return this.#workers.length;
  }

  #start(): void {
    const workers = Array.from({ length: this.threads }, () => this.#spawn());
    this.#workers = workers;
    this.#online = 0;
    for (const worker of workers) {
      worker.on('online', () => {
        if (this.#workers === workers) this.#online++;
      });
      worker.on('message', ({ id, results }: { id: number; results: Uint8Array }) => {
        const batch = this.#pending.get(id);
        this.#pending.delete(id);
        // Idle workers must not keep the process alive; busy ones must.
        if (this.#pending.size === 0) this.#idle();
        batch?.resolve(results);
      });
      worker.on('error', (err: Error) => this.#failAll(err));
      worker.unref();
    }
  }

  #idle(): void {
    for (const w of this.#workers) w.unref();
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => this.#stopIdle(), this.#idleMs);
    this.#idleTimer.unref?.();
  }

  #stopIdle(): void {
    if (this.#pending.size > 0 || this.#closed) return;
    const workers = this.#workers;
    this.#workers = [];
    this.#online = 0;
    for (const w of workers) void w.terminate();
  }

  /** One boolean per operation: does its signature verify? */
  async verify(operations: Operation[]): Promise<boolean[]> {
    if (this.#closed) throw new WalkawayError('CLOSED', 'verify pool is closed');
    if (operations.length === 0) return [];
    if (this.#inlineWhileStarting && this.#online < this.threads) {
      clearTimeout(this.#idleTimer);
      if (this.#workers.length === 0) this.#start();
      // One turn of the event loop first: the workers' 'online' events land
      // only there, and a caller that never waits on anything else (a bulk
      // ingest fed from memory) would otherwise verify everything here.
      await new Promise((resolve) => setImmediate(resolve));
      if (this.#closed) throw new WalkawayError('CLOSED', 'verify pool is closed');
      if (this.#online < this.threads) return this.#verifyHere(operations);
    }
    const chunk = Math.ceil(operations.length / this.threads);
    const parts: Promise<Uint8Array>[] = [];
    for (let start = 0; start < operations.length; start += chunk) {
      parts.push(this.#send(operations.slice(start, start + chunk)));
    }
    const results = await Promise.all(parts);
    this.#workerOps += operations.length;
    const out: boolean[] = [];
    for (const r of results) for (const ok of r) out.push(ok === 1);
    // The workers run plain node:crypto: verify_strict's encoding rules
    // (ed25519-strict.ts) are applied here, as the backends apply them.
    for (let i = 0; i < out.length; i++) {
      const { publicKey, signature } = operations[i].header;
      if (out[i] && !(isStrictPublicKey(publicKey.bytes) && isStrictSignature(signature))) out[i] = false;
    }
    return out;
  }

  /** On this thread, while the workers start (or after an idle stop, while they start again). */
  #verifyHere(operations: Operation[]): boolean[] {
    clearTimeout(this.#idleTimer);
    if (this.#workers.length === 0) this.#start();
    const out = operations.map(signatureValid);
    this.#inlineOps += operations.length;
    if (this.#pending.size === 0) this.#idle();
    return out;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#idleTimer);
    this.#failAll(new WalkawayError('CLOSED', 'verify pool closed'));
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }

  #send(operations: Operation[]): Promise<Uint8Array> {
    clearTimeout(this.#idleTimer);
    if (this.#workers.length === 0) this.#start();
    const id = this.#nextId++;
    const worker = this.#workers[this.#next++ % this.#workers.length];
    const packed = pack(operations);
    return new Promise((resolve, reject) => {
      if (this.#pending.size === 0) for (const w of this.#workers) w.ref();
      this.#pending.set(id, { resolve, reject });
      worker.postMessage({ id, count: operations.length, packed }, [packed]);
    });
  }

  #failAll(err: Error): void {
    for (const batch of this.#pending.values()) batch.reject(err);
    this.#pending.clear();
  }
}

/**
 * One transferable buffer per batch (cloning thousands of small arrays costs
 * more than verifying). The signed message is written as the cut of the
 * header without its signature (`unsignedBytesOf`), straight into the batch.
 */
function pack(operations: Operation[]): ArrayBuffer {
  let size = 0;
  for (let i = 0; i < operations.length; i++) size += 100 + operations[i].headerBytes.length - SIGNATURE_FIELD;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let offset = 0;
  for (let i = 0; i < operations.length; i++) {
    const { header, headerBytes } = operations[i];
    const length = headerBytes.length - SIGNATURE_FIELD;
    out.set(header.publicKey.bytes, offset);
    out.set(header.signature, offset + 32);
    view.setUint32(offset + 96, length);
    const m = offset + 100;
    out[m] = headerBytes[0] - 1;
    out.set(headerBytes.subarray(1, SIG_START), m + 1);
    out.set(headerBytes.subarray(SIG_END), m + SIG_START);
    offset = m + length;
  }
  return out.buffer;
}

// [array head][0x01][0x58 0x20 + key][0x58 0x40 + signature]...: the layout unsignedBytesOf cuts.
const SIG_START = 1 + 1 + 2 + 32;
const SIGNATURE_FIELD = 2 + 64;
const SIG_END = SIG_START + SIGNATURE_FIELD;
