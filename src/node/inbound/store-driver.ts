/**
 * Runs the inbound machine (inbound.ts) against one of today's synchronous
 * stores: it answers store reads and writes at once, signature batches
 * through a `Verifier` (a worker pool), timers with the event loop, and
 * hands what the machine decided to the node's callbacks. It also serves
 * sync sessions (the `SyncIngest` port) and multicast, so that every
 * operation takes the same way in. It moves data; it decides nothing.
 */
import { SplitMix32 } from '../../net/membership/random.ts';
import type { Operation } from '../../core/index.ts';
import type { IngestItem, IngestOutcome, LogHeight, Store, StoredOperation } from '../../store/index.ts';
import type { IngestResult, SyncIngest, SyncIngestSession, VerifyMode } from '../../sync/index.ts';
import type { EphemeralMessage } from '../ephemeral.ts';
import { Inbound } from './inbound.ts';
import { sharedVerifyPool, verifyBatch, type Verifier } from './signatures.ts';
import type { ForkReport, InboundConfig, InboundInput, InboundOutput, InboundTimer, Via } from './types.ts';

export interface InboundHooks {
  /** Stored: to the topic's chain (sync's come in batches, each closed by `onBatchEnd`). */
  onStored?(topic: Uint8Array, op: StoredOperation, via: Via): void;
  onBatchEnd?(topic: Uint8Array): void;
  onEphemeral?(topic: Uint8Array, message: EphemeralMessage, bytes: Uint8Array): void;
  onHolds?(topic: Uint8Array, peer: string, heights: LogHeight[]): void;
  onFork?(fork: ForkReport): void;
  onRequestSync?(peer: string, topic: Uint8Array, reason: 'gap' | 'anti-entropy'): void;
  log?(message: string): void;
}

/**
 * Time and timers of the driver (the process's by default). A `Runtime`
 * (core) fits, so that the simulator runs the machine on a virtual clock.
 */
export interface InboundClock {
  now(): number;
  /** Runs `fn` once after `ms` (0: after the current work); never keeps the process alive. */
  setTimer(ms: number, fn: () => void): unknown;
  clearTimer(handle: unknown): void;
}

const PROCESS_CLOCK: InboundClock = {
  now: () => performance.now(),
  setTimer(ms, fn) {
    // Ref'd: a sync batch waiting for its flush must not let the process end under it.
    if (ms <= 0) return setImmediate(fn);
    return setTimeout(fn, ms).unref();
  },
  clearTimer(handle) {
    clearTimeout(handle as NodeJS.Timeout);
    clearImmediate(handle as NodeJS.Immediate);
  },
};

export interface StoreDriverOptions extends InboundHooks {
  store: Store;
  /** Bulk signature checks for sync; default: one worker pool shared by the process. */
  verifier?: Verifier | Promise<Verifier>;
  seed?: number;
  config?: Partial<InboundConfig>;
  clock?: InboundClock;
}

interface SyncCallbacks {
  onResults(results: IngestResult[]): void;
  onBacklog(batches: number): void;
  idle: (() => void)[];
}

export class InboundStoreDriver implements SyncIngest {
  readonly machine: Inbound;
  readonly #o: StoreDriverOptions;
  readonly #store: Store;
  #verifier: Verifier | Promise<Verifier> | undefined;
  readonly #queue: InboundInput[] = [];
  #group: { job: number; item: IngestItem }[] = [];
  /** Gossip ingests held for one shared commit once the work at hand is done. */
  #burst: { job: number; item: IngestItem }[] = [];
  #burstTimer: unknown;
  #running = false;
  #stopped = false;
  readonly #clock: InboundClock;
  readonly #timers = new Map<string, unknown>();
  readonly #results = new Map<number, (result: IngestResult) => void>();
  readonly #sessions = new Map<number, SyncCallbacks>();
  #nextTicket = 1;
  #verdict = false;

  constructor(options: StoreDriverOptions) {
    this.#o = options;
    this.#store = options.store;
    this.#verifier = options.verifier;
    this.#clock = options.clock ?? PROCESS_CLOCK;
    this.machine = new Inbound(new SplitMix32(options.seed ?? globalThis.crypto.getRandomValues(new Uint32Array(1))[0]), options.config);
  }

  feed(input: InboundInput): void {
    this.#queue.push(input);
    this.#run();
  }

  #run(): void {
    if (this.#running) return;
    this.#running = true;
    try {
      while (this.#queue.length > 0) {
        for (const output of this.machine.handle(this.#queue.shift()!, this.#clock.now())) this.#apply(output);
      }
    } finally {
      this.#running = false;
    }
  }

  /** The overlay's validator: true when the payload may be cached and travel on. Never throws. */
  check(payload: Uint8Array): boolean {
    this.#verdict = false;
    // Answered within this call: a check reads nothing from the store.
    this.feed({ type: 'check', payload });
    return this.#verdict;
  }

  /** One operation from multicast or a local publish; `done` gets what the store made of it. */
  ingest(via: 'multicast' | 'local', topic: Uint8Array, operation: Operation, done: (result: IngestResult) => void): void {
    const ticket = this.#nextTicket++;
    this.#results.set(ticket, done);
    this.feed({ type: 'operation', via, topic, operation, ticket });
  }

  /** The `SyncIngest` port: a sync session hands its decoded operations here. */
  open(options: { mode: VerifyMode; batchSize: number; onResults(results: IngestResult[]): void; onBacklog(batches: number): void }): SyncIngestSession {
    const session = this.#nextTicket++;
    const callbacks: SyncCallbacks = { onResults: options.onResults, onBacklog: options.onBacklog, idle: [] };
    this.#sessions.set(session, callbacks);
    this.feed({ type: 'sync-open', session, mode: options.mode, batchSize: options.batchSize });
    return {
      push: (request) => this.feed({ type: 'sync-push', session, request }),
      idle: () => {
        this.feed({ type: 'sync-flush', session });
        if (!this.machine.syncBusy(session)) return Promise.resolve();
        return new Promise<void>((resolve) => callbacks.idle.push(resolve));
      },
      close: () => {
        this.#sessions.delete(session);
        this.feed({ type: 'sync-close', session });
        for (const wake of callbacks.idle.splice(0)) wake();
      },
    };
  }

  stop(): void {
    this.#stopped = true;
    for (const timer of this.#timers.values()) this.#clock.clearTimer(timer);
    this.#timers.clear();
    if (this.#burstTimer !== undefined) this.#clock.clearTimer(this.#burstTimer);
    this.#burstTimer = undefined;
    this.#burst = [];
  }

  #apply(output: InboundOutput): void {
    const o = this.#o;
    switch (output.type) {
      case 'verdict':
        this.#verdict = output.ok;
        return;
      case 'store-ingest':
        if (output.group === 'turn') return this.#groupIngest(output.job, output.items[0]);
        if (output.group === 'burst') return this.#burstIngest(output.job, output.items[0]);
        return this.#storeIngest(output.job, output.items);
      case 'read-fork': {
        const fork = this.#store.forks().find((f) => f.author.equals(output.author) && bytesSame(f.logId, output.logId));
        this.#queue.push({ type: 'fork-read', job: output.job, headers: fork?.headers, seqNum: fork?.seqNum ?? -1 });
        return;
      }
      case 'verify':
        return this.#verify(output.job, output.requests, output.mode);
      case 'stored':
        return o.onStored?.(output.topic, output.operation, output.via);
      case 'batch-end':
        return o.onBatchEnd?.(output.topic);
      case 'ephemeral':
        return o.onEphemeral?.(output.topic, output.message, output.bytes);
      case 'holds':
        return o.onHolds?.(output.topic, output.peer, output.heights);
      case 'fork':
        return o.onFork?.(output.fork);
      case 'result': {
        const done = this.#results.get(output.ticket);
        this.#results.delete(output.ticket);
        return done?.(output.result);
      }
      case 'sync-results':
        return this.#sessions.get(output.session)?.onResults(output.results);
      case 'sync-backlog': {
        const callbacks = this.#sessions.get(output.session);
        callbacks?.onBacklog(output.batches);
        if (callbacks && !this.machine.syncBusy(output.session)) for (const wake of callbacks.idle.splice(0)) wake();
        return;
      }
      case 'request-sync':
        return o.onRequestSync?.(output.peer, output.topic, output.reason);
      case 'set-timer':
        return this.#setTimer(output.timer, output.afterMs);
      case 'log':
        return o.log?.(output.message);
    }
  }

  #storeIngest(job: number, items: { operation: Operation; topic?: Uint8Array }[]): void {
    try {
      // Other authors' operations (sync, multicast): no disk sync of their own.
      const outcomes = this.#store.ingestBatch(items, { durable: false });
      this.#queue.push({ type: 'ingested', job, outcomes });
    } catch (err) {
      this.#queue.push({ type: 'store-failed', job, error: err as Error });
    }
  }

  /**
   * Group commit of this node's own operations: those published in the same
   * turn go into one transaction (one WAL sync under `durability: 'full'`),
   * committed in a microtask; each publish is answered after that commit, so
   * a resolved publish is as durable as before.
   */
  #groupIngest(job: number, item: IngestItem): void {
    if (this.#group.push({ job, item }) > 1) return;
    queueMicrotask(() => {
      const group = this.#group;
      this.#group = [];
      this.#commitGroup(group, true);
    });
  }

  /**
   * Group commit of gossip: the operations of one burst share one
   * transaction, run after the work at hand (a timer of 0 on the clock), so
   * the gossip service's forwards, queued before, go out before the disk is
   * waited on.
   */
  #burstIngest(job: number, item: IngestItem): void {
    this.#burst.push({ job, item });
    this.#burstTimer ??= this.#clock.setTimer(0, () => {
      this.#burstTimer = undefined;
      const burst = this.#burst;
      this.#burst = [];
      if (!this.#stopped) this.#commitGroup(burst, false);
    });
  }

  /**
   * `durable`: this node's own operations are synced to disk before anyone
   * hears of them (a power cut must not let a seqNum be signed twice); other
   * authors' are not, since sync fetches what a power cut rolls back, and
   * every later durable commit syncs them too (store `IngestOptions`).
   */
  #commitGroup(group: { job: number; item: IngestItem }[], durable: boolean): void {
    let outcomes: IngestOutcome[] | undefined;
    let error: Error | undefined;
    try {
      outcomes = this.#store.ingestBatch(
        group.map((g) => g.item),
        { durable },
      );
    } catch (err) {
      error = err as Error;
    }
    for (const [i, { job }] of group.entries()) {
      this.#queue.push(outcomes ? { type: 'ingested', job, outcomes: [outcomes[i]] } : { type: 'store-failed', job, error: error! });
    }
    this.#runDetached();
  }

  /** `#run` from a microtask, where an exception (a hook's) would have no caller to reach. */
  #runDetached(): void {
    try {
      this.#run();
    } catch (err) {
      this.#o.log?.(`inbound: ${(err as Error).message}`);
      if (this.#queue.length > 0) queueMicrotask(() => this.#runDetached());
    }
  }

  #verify(job: number, requests: Parameters<typeof verifyBatch>[1], mode: VerifyMode): void {
    this.#verifier ??= sharedVerifyPool();
    Promise.resolve(this.#verifier)
      .then((verifier) => verifyBatch(verifier, requests, mode))
      .then(
        (verdicts) => this.feed({ type: 'verified', job, verdicts }),
        (err: Error) => this.feed({ type: 'store-failed', job, error: err }),
      );
  }

  #setTimer(timer: InboundTimer, afterMs: number): void {
    if (this.#stopped) return;
    const key = JSON.stringify(timer);
    if (this.#timers.has(key)) return;
    const fire = () => {
      this.#timers.delete(key);
      if (!this.#stopped) this.feed({ type: 'timer', timer });
    };
    this.#timers.set(key, this.#clock.setTimer(afterMs, fire));
  }
}

function bytesSame(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
