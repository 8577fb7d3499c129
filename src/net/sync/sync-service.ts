/**
 * Sync sessions of a node: one per (peer, topic) at a time, over transport
 * streams of the sync protocol (the driver beside the gossip service). A neighbour coming up starts one (the peer
 * with the lower key dials, so two peers do not both start one); gossip that
 * arrives ahead of its backlink starts one with its sender; failures are
 * retried with backoff while the reason lasts.
 */
import type { Duplex } from 'node:stream';
import { realRuntime, toHex, type Runtime, type TimerHandle } from '../../core/index.ts';
import type { Store } from '../../store/index.ts';
import { syncOverStream, type SyncEvent, type SyncHandle, type SyncIngest, type SyncStats } from '../../sync/index.ts';
import { protocolId } from '../transport/protocol.ts';
import type { Transport } from '../transport/transport.ts';

export interface SyncServiceOptions {
  transport: Transport;
  /** Default: the process's clock and timers. */
  runtime?: Runtime;
  store: Store;
  /** Where sessions hand what they receive: the node's inbound path. */
  ingest: SyncIngest;
  networkId: Uint8Array;
  self: string;
  isJoined: (topic: Uint8Array) => boolean;
  /** May this topic's operations be exchanged with this peer (a private topic's access policy)? Default: yes. */
  mayExchange?: (topic: Uint8Array, peer: string) => boolean;
  onEvent: (peer: string, topic: Uint8Array, event: SyncEvent) => void;
  onStart: (peer: string, topic: Uint8Array, role: 'initiator' | 'acceptor') => void;
  onEnd: (peer: string, topic: Uint8Array, stats: SyncStats | undefined, error?: Error) => void;
  log: (message: string) => void;
}

const RETRY_MS = [1000, 2000, 5000, 10_000, 30_000];
/** Sessions at once, all peers: each holds a little state and a stream; more peers wait their turn. */
const MAX_SESSIONS = 128;
/** Sessions at once with one peer (it may share many topics; yamux already caps its streams). */
const MAX_SESSIONS_PER_PEER = 16;
/** (peer, topic) pairs with a retry pending: the oldest is given up first. */
const MAX_RETRIES = 1024;

export class SyncService {
  readonly protocol: string;
  readonly #o: SyncServiceOptions;
  readonly #runtime: Runtime;
  #sessions = new Map<string, SyncHandle>();
  #retries = new Map<string, { attempt: number; timer?: TimerHandle }>();
  #again = new Set<string>();
  #stopped = false;

  constructor(options: SyncServiceOptions) {
    this.#o = options;
    this.#runtime = options.runtime ?? realRuntime();
    this.protocol = protocolId(options.networkId, 'sync');
  }

  async start(): Promise<void> {
    await this.#o.transport.handle(
      this.protocol,
      (stream, peer) => {
        if (this.#stopped) return void stream.destroy(new Error('not serving'));
        if (this.#sessions.size >= MAX_SESSIONS || this.#sessionsWith(peer) >= MAX_SESSIONS_PER_PEER) return void stream.destroy(new Error('busy'));
        this.#run(peer, undefined, stream, 'acceptor');
      },
      { maxInboundStreams: 32 },
    );
  }

  stop(): void {
    this.#stopped = true;
    for (const r of this.#retries.values()) this.#runtime.clearTimer(r.timer);
    for (const s of this.#sessions.values()) s.close();
  }

  /** Should this side dial for a neighbour (the lower key does)? */
  dialsFor(peer: string): boolean {
    return this.#o.self < peer;
  }

  /** Starts a session with `peer` for `topic` unless one is running (then runs once more after it). */
  sync(peer: string, topic: Uint8Array): void {
    if (this.#stopped || this.#o.mayExchange?.(topic, peer) === false) return;
    const key = `${peer}:${toHex(topic)}`;
    if (this.#sessions.has(key)) {
      this.#again.add(key);
      return;
    }
    void this.#dial(peer, topic, key);
  }

  /** Stops retrying (the peer is no longer a neighbour, or the topic was left). */
  forget(peer: string, topic: Uint8Array): void {
    const key = `${peer}:${toHex(topic)}`;
    this.#runtime.clearTimer(this.#retries.get(key)?.timer);
    this.#retries.delete(key);
  }

  running(): number {
    return this.#sessions.size;
  }

  /** Per-peer state held, for memory checks. */
  sizes(): { sessions: number; retries: number; again: number } {
    return { sessions: this.#sessions.size, retries: this.#retries.size, again: this.#again.size };
  }

  #sessionsWith(peer: string): number {
    let n = 0;
    for (const key of this.#sessions.keys()) if (key.startsWith(`${peer}:`)) n++;
    return n;
  }

  async #dial(peer: string, topic: Uint8Array, key: string): Promise<void> {
    try {
      const stream = await this.#o.transport.open(peer, this.protocol);
      this.#run(peer, topic, stream, 'initiator');
    } catch (err) {
      this.#o.log(`sync: cannot open a session with ${peer.slice(0, 8)}: ${(err as Error).message}`);
      this.#scheduleRetry(peer, topic, key);
    }
  }

  #run(peer: string, topic: Uint8Array | undefined, stream: Duplex, role: 'initiator' | 'acceptor'): void {
    const handle = syncOverStream(this.#o.store, stream, {
      ingest: this.#o.ingest,
      role,
      topic,
      // A peer without access hears what a node that has not joined says: "topic not served here".
      acceptTopic: (t) => this.#o.isJoined(t) && this.#o.mayExchange?.(t, peer) !== false,
      live: false,
      runtime: this.#runtime,
    });
    let key: string | undefined;
    const begin = (t: Uint8Array) => {
      key = `${peer}:${toHex(t)}`;
      topic = t;
      this.#sessions.set(key, handle);
      this.#o.log(`sync: ${role} session with ${peer.slice(0, 8)} on topic ${toHex(t).slice(0, 8)} started`);
      this.#o.onStart(peer, t, role);
    };
    if (topic) begin(topic);
    handle.on('event', (event: SyncEvent) => {
      if (event.type === 'handshake' && !key) begin(event.topic);
      if (topic) this.#o.onEvent(peer, topic, event);
    });
    handle.done.then(
      (stats) => this.#finish(peer, topic, key, handle, stats),
      (err: Error) => this.#finish(peer, topic, key, handle, (err as { data?: { stats?: SyncStats } }).data?.stats, err),
    );
  }

  #finish(peer: string, topic: Uint8Array | undefined, key: string | undefined, handle: SyncHandle, stats?: SyncStats, error?: Error): void {
    if (key && this.#sessions.get(key) === handle) this.#sessions.delete(key);
    if (!topic || !key) return;
    this.#o.log(
      `sync: session with ${peer.slice(0, 8)} on topic ${toHex(topic).slice(0, 8)} ended${error ? ` with ${error.message}` : ''}: ${stats ? `sent ${stats.sent.operations} ops ${stats.sent.bytes} B, received ${stats.received.operations} ops ${stats.received.bytes} B, stored ${stats.stored}, duplicates ${stats.duplicates}, rejected ${stats.rejected}` : 'no stats'}`,
    );
    this.#o.onEnd(peer, topic, stats, error);
    if (error && handle.session.role === 'initiator') return this.#scheduleRetry(peer, topic, key);
    this.#retries.delete(key);
    if (this.#again.delete(key)) this.sync(peer, topic);
  }

  #scheduleRetry(peer: string, topic: Uint8Array, key: string): void {
    if (this.#stopped || !this.#o.isJoined(topic)) return;
    const retry = this.#retries.get(key) ?? { attempt: 0 };
    const delay = RETRY_MS[Math.min(retry.attempt, RETRY_MS.length - 1)];
    retry.attempt++;
    this.#runtime.clearTimer(retry.timer);
    retry.timer = this.#runtime.setTimer(delay, () => this.sync(peer, topic));
    this.#retries.delete(key);
    this.#retries.set(key, retry);
    if (this.#retries.size > MAX_RETRIES) {
      const [oldest, state] = this.#retries.entries().next().value!;
      this.#runtime.clearTimer(state.timer);
      this.#retries.delete(oldest);
    }
  }
}
