/**
 * Runs a `SyncSession` over any Node `Duplex` (in-memory pipe, TCP socket, a
 * libp2p stream adapted to a Duplex): length-prefixed CBOR frames, store
 * reads a page at a time, writes that wait for 'drain', reads that pause
 * while verification is behind, and a stall timer.
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { every, realRuntime, toHex, WalkawayError, type Operation, type Runtime } from '../core/index.ts';
import type { ForkEvidence, Store } from '../store/index.ts';
import { encodeFrames, FrameDecoder } from './frames.ts';
import { encodeMessage } from './messages.ts';
import { SyncSession, type SyncSessionOptions } from './session.ts';
import {
  DEFAULT_SYNC_CONFIG,
  type LogWant,
  type SyncConfig,
  type SyncEvent,
  type SyncIngest,
  type SyncIngestSession,
  type SyncInput,
  type SyncOutput,
  type SyncStats,
} from './types.ts';

export interface SyncOptions extends Omit<SyncSessionOptions, 'config'> {
  signal?: AbortSignal;
  config?: Partial<SyncConfig>;
  /** Checks and stores what the peer sends (the node's inbound path: src/node/inbound). */
  ingest: SyncIngest;
  /** Clock and timers (stall timer, keepalive, yielding between pages); default: the process's. */
  runtime?: Runtime;
}

/**
 * A running session. Events: 'event' (every `SyncEvent`) and each event under
 * its own type ('presync', 'operation', 'progress', 'fork', 'rejected',
 * 'synced', 'error'). `done` resolves with the stats, or rejects with a
 * WalkawayError whose `data.stats` says what was stored before it.
 */
export class SyncHandle extends EventEmitter {
  readonly done: Promise<SyncStats>;
  readonly #driver: StreamDriver;

  /** @internal */
  constructor(store: Store, stream: Duplex, options: SyncOptions) {
    super();
    // An 'error' event without a listener must not crash the process: `done` carries it.
    this.on('error', () => {});
    this.#driver = new StreamDriver(store, stream, options, (event) => {
      this.emit(event.type, event);
      this.emit('event', event);
    });
    this.done = this.#driver.done;
  }

  get stats(): SyncStats {
    return this.#driver.session.stats;
  }

  get session(): SyncSession {
    return this.#driver.session;
  }

  /** Live mode: pass a new local operation to the peer. */
  publish(operation: Operation): void {
    this.#driver.feed({ type: 'publish', operation });
  }

  close(): void {
    this.#driver.feed({ type: 'close' });
  }

  /** Every event until the session ends. */
  async *events(): AsyncGenerator<SyncEvent> {
    const queue: SyncEvent[] = [];
    let wake: (() => void) | undefined;
    let ended = false;
    const onEvent = (e: SyncEvent) => {
      queue.push(e);
      wake?.();
    };
    this.on('event', onEvent);
    const end = () => {
      ended = true;
      wake?.();
    };
    this.done.then(end, end);
    try {
      while (true) {
        while (queue.length > 0) yield queue.shift()!;
        if (ended) return;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      this.off('event', onEvent);
    }
  }
}

/** Syncs one topic with the peer at the other end of `stream`. */
export function syncOverStream(store: Store, stream: Duplex, options: SyncOptions): SyncHandle {
  return new SyncHandle(store, stream, options);
}

class StreamDriver {
  readonly session: SyncSession;
  readonly done: Promise<SyncStats>;
  readonly #store: Store;
  readonly #stream: Duplex;
  readonly #config: SyncConfig;
  readonly #emit: (event: SyncEvent) => void;
  readonly #decoder: FrameDecoder;
  readonly #pipeline: SyncIngestSession;
  #resolve!: (stats: SyncStats) => void;
  #reject!: (error: WalkawayError) => void;
  #queue: SyncInput[] = [];
  #running = false;
  #outgoing: Uint8Array[] = [];
  #waitingDrain = false;
  #finished = false;
  /** Frames read but not yet decoded: the rest of a chunk once the in-flight cap is reached. */
  #held: Uint8Array[] = [];
  /** The stream ended (or closed) while frames were held: tell the session after them. */
  #endHeld = false;
  #reading = false;
  #wantRead = false;
  #batchesInFlight = 0;
  #opsInFlight = 0;
  /**
   * The cap on operations in flight starts small and doubles with every
   * answered batch up to `maxOpsInFlight`: the first batch is verified and
   * stored before the thread is busy decoding thousands behind it.
   */
  #window = FIRST_WINDOW;
  #bytesInFlight = 0;
  readonly #runtime: Runtime;
  #lastProgress: number;
  #lastSend: number;
  #stopTimer: () => void;
  #cleanup: (() => void)[] = [];

  constructor(store: Store, stream: Duplex, options: SyncOptions, emit: (event: SyncEvent) => void) {
    this.#store = store;
    this.#stream = stream;
    this.#emit = emit;
    this.#runtime = options.runtime ?? realRuntime();
    this.#lastProgress = this.#lastSend = this.#runtime.now();
    this.session = new SyncSession(options);
    this.#config = this.session.config;
    this.#decoder = new FrameDecoder(this.#config.maxFrameBytes);
    this.done = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.#pipeline = options.ingest.open({
      batchSize: this.#config.batchSize,
      mode: this.#config.verify,
      onResults: (results) => {
        this.#progress();
        for (const { request } of results) this.#answered(request.operation);
        this.#window = Math.min(this.#window * 2, this.#config.maxOpsInFlight);
        this.feed({ type: 'ingested', results });
        this.#readMore();
      },
      onBacklog: (n) => this.#onBacklog(n),
    });
    this.#listen('data', (chunk: Uint8Array) => this.#onData(chunk));
    this.#listen('end', () => this.#onEnd());
    this.#listen('close', () => this.#onEnd());
    this.#listen('error', (err: Error) => this.feed({ type: 'fail', error: new WalkawayError('CLOSED', `stream failed: ${err.message}`) }));
    const interval = Math.max(5, Math.min(this.#config.stallTimeoutMs, this.#config.keepaliveMs) / 4);
    this.#stopTimer = every(this.#runtime, interval, () => this.#tick(), true);
    if (options.signal) {
      const onAbort = () => this.feed({ type: 'close' });
      if (options.signal.aborted) queueMicrotask(onAbort);
      options.signal.addEventListener('abort', onAbort, { once: true });
      this.#cleanup.push(() => options.signal!.removeEventListener('abort', onAbort));
    }
    this.feed({ type: 'start' });
  }

  feed(input: SyncInput): void {
    this.#queue.push(input);
    if (this.#running) return;
    this.#running = true;
    try {
      while (this.#queue.length > 0) {
        const outputs = this.session.handle(this.#queue.shift()!);
        for (const output of outputs) this.#apply(output);
        this.#flushWrites();
      }
    } finally {
      this.#running = false;
    }
    if (this.#wantRead) this.#readMore();
  }

  #apply(output: SyncOutput): void {
    switch (output.type) {
      case 'send':
        this.#outgoing.push(encodeMessage(output.message));
        return;
      case 'read-heights':
        this.#queue.push({ type: 'heights', heights: this.#store.heights(output.topic), forks: topicForks(this.#store, output.topic) });
        return;
      case 'measure':
        this.#queue.push({ type: 'measured', ...measure(this.#store, output.wants) });
        return;
      case 'read-log':
        this.#queue.push({ type: 'log-page', operations: this.#store.readLog(output.author, output.logId, output.afterSeq, output.limit) });
        return;
      case 'ingest':
        this.#opsInFlight++;
        this.#bytesInFlight += sizeOf(output.request.operation);
        this.#pipeline.push(output.request);
        return;
      case 'emit':
        this.#emit(output.event);
        return;
      case 'close':
        void this.#finish(output.error);
        return;
    }
  }

  #flushWrites(): void {
    if (this.#outgoing.length === 0) return;
    const frames = this.#outgoing;
    this.#outgoing = [];
    if (this.#stream.destroyed || this.#stream.writableEnded) return;
    this.#lastSend = this.#runtime.now();
    const ok = this.#stream.write(encodeFrames(frames));
    if (!ok) {
      if (this.#waitingDrain) return;
      this.#waitingDrain = true;
      this.#stream.once('drain', () => {
        this.#waitingDrain = false;
        this.#progress();
        // Not from inside 'drain': a transport that takes a write at once emits
        // it from a callback, and reading the next page there chained page
        // after page without the event loop turning (no socket IO, no pings).
        this.#runtime.setTimer(0, () => this.feed({ type: 'drain' }), true);
      });
    } else if (!this.#waitingDrain) {
      // Yield to IO between pages even when the stream never pushes back.
      this.#runtime.setTimer(0, () => this.feed({ type: 'drain' }), true);
    }
  }

  #onData(chunk: Uint8Array): void {
    if (this.#finished) return;
    this.#progress();
    let frames: Uint8Array[];
    try {
      frames = this.#decoder.push(chunk);
    } catch (err) {
      this.#stream.pause();
      this.feed({ type: 'fail', error: err as WalkawayError });
      return;
    }
    for (const frame of frames) this.#held.push(frame);
    this.#readMore();
  }

  /** Whether ingest is as far behind as a session may let it be: stop decoding and reading. */
  #full(): boolean {
    const c = this.#config;
    const ops = Math.min(this.#window, c.maxOpsInFlight);
    return this.#batchesInFlight >= c.maxBatchesInFlight || this.#opsInFlight >= ops || this.#bytesInFlight >= c.maxBytesInFlight;
  }

  /** Decodes held frames while ingest has room, then reads the stream again (or pauses it). */
  #readMore(): void {
    if (this.#finished) return;
    // Called back from inside a feed (ingest answers synchronously): the loop that runs re-checks.
    if (this.#running || this.#reading) {
      this.#wantRead = true;
      return;
    }
    this.#reading = true;
    try {
      while (this.#held.length > 0 && !this.#full()) {
        if (this.session.closed) {
          this.#held = [];
          break;
        }
        this.feed({ type: 'recv', frame: this.#held.shift()! });
      }
    } finally {
      this.#reading = false;
      this.#wantRead = false;
    }
    if (this.#held.length > 0 || this.#full()) {
      this.#stream.pause();
      return;
    }
    if (this.#endHeld) {
      this.#endHeld = false;
      this.feed({ type: 'end' });
    } else if (this.#stream.isPaused()) this.#stream.resume();
  }

  #onEnd(): void {
    // Frames still held were sent before the end: the session sees them first.
    if (this.#held.length > 0) this.#endHeld = true;
    else this.feed({ type: 'end' });
  }

  #answered(operation: Operation): void {
    this.#opsInFlight--;
    this.#bytesInFlight -= sizeOf(operation);
  }

  #onBacklog(batchesInFlight: number): void {
    this.#batchesInFlight = batchesInFlight;
    this.#readMore();
  }

  #tick(): void {
    if (this.#finished) return;
    const now = this.#runtime.now();
    if (now - this.#lastProgress > this.#config.stallTimeoutMs) {
      this.feed({
        type: 'fail',
        error: new WalkawayError('TIMEOUT', `no progress from the peer for ${this.#config.stallTimeoutMs} ms`, {
          limit: this.#config.stallTimeoutMs,
        }),
      });
    } else if (this.session.synced && this.session.live && now - this.#lastSend > this.#config.keepaliveMs) {
      this.feed({ type: 'keepalive' });
    }
  }

  #progress(): void {
    this.#lastProgress = this.#runtime.now();
  }

  // biome-ignore lint/suspicious/noExplicitAny: the listener type of Node's EventEmitter
  #listen(event: string, listener: (...args: any[]) => void): void {
    this.#stream.on(event, listener);
    this.#cleanup.push(() => this.#stream.off(event, listener));
  }

  async #finish(error?: WalkawayError): Promise<void> {
    if (this.#finished) return;
    this.#finished = true;
    this.#stopTimer();
    // Everything received before the end (or the error) is still verified and stored.
    await this.#pipeline.idle();
    this.#pipeline.close();
    await this.#endStream(error !== undefined);
    for (const undo of this.#cleanup) undo();
    this.#stream.on('error', () => {});
    const stats = this.session.stats;
    if (!error) return this.#resolve(stats);
    Object.assign(error.data, { stats });
    this.#reject(error);
  }

  #endStream(failed: boolean): Promise<void> {
    const stream = this.#stream;
    if (stream.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      const grace = this.#runtime.setTimer(
        this.#config.closeGraceMs,
        () => {
          stream.destroy();
          resolve();
        },
        true,
      );
      const done = () => {
        this.#runtime.clearTimer(grace);
        if (failed) stream.destroy();
        resolve();
      };
      if (stream.writableFinished) return done();
      stream.once('finish', done);
      stream.once('close', done);
      if (!stream.writableEnded) stream.end();
    });
  }
}

/** Operations in flight before the first batch is answered. */
const FIRST_WINDOW = 64;

function sizeOf(op: Operation): number {
  return op.headerBytes.length + (op.body?.length ?? 0);
}

function topicForks(store: Store, topic: Uint8Array): ForkEvidence[] {
  const forks = store.forks();
  if (forks.length === 0) return [];
  const logs = new Set(store.logs(topic).map((l) => l.author.toHex() + toHex(l.logId)));
  return forks.filter((f) => logs.has(f.author.toHex() + toHex(f.logId)));
}

/**
 * PreSync totals: the operation count is exact (entries are contiguous from
 * the first one after `afterSeq`); bytes are estimated from the sizes of the
 * first and last entry, so that no log is read twice.
 */
function measure(store: Store, wants: LogWant[]): { operations: number; bytes: number } {
  let operations = 0;
  let bytes = 0;
  for (const want of wants) {
    const first = store.readLog(want.author, want.logId, want.afterSeq, 1)[0];
    const tip = store.latest(want.author, want.logId);
    if (!first || !tip) continue;
    const last = Math.min(tip.header.seqNum, want.toSeq);
    const count = Math.max(0, last - first.header.seqNum + 1);
    const size = (op: Operation) => op.headerBytes.length + (op.body?.length ?? 0);
    operations += count;
    bytes += Math.round((count * (size(first) + size(tip))) / 2);
  }
  return { operations, bytes };
}

export { DEFAULT_SYNC_CONFIG };
