/**
 * The node: what applications use. It joins topics and sends and receives,
 * whatever the network does: operations are stored first, travel live over
 * the topic's gossip overlay (PlumTree over HyParView) and are reconciled by
 * log-height sync with every new neighbour; everything received is
 * validated, stored and handed out in causal order.
 */
import '../net/polyfill.ts';
import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Libp2p } from 'libp2p';
import {
  bytesEqual,
  createOperation,
  logIdOf,
  networkId as toNetworkId,
  nowMicros,
  PrivateKey,
  toHex,
  topicId,
  WalkawayError,
  type Hash,
} from '../core/index.ts';
import { createLog, type Log } from '../log.ts';
import { AddressBook } from '../net/address-book.ts';
import { GossipService } from '../net/gossip/gossip-service.ts';
import { Penalties } from '../net/gossip/penalties.ts';
import { MulticastChannel } from '../net/multicast/multicast.ts';
import { TopicDiscovery } from '../net/topics/topic-discovery.ts';
import { createHost } from '../net/transport/host.ts';
import { RelayKeeper } from '../net/transport/relay-keeper.ts';
import { Redialer } from '../net/transport/redialer.ts';
import { publicKeyOfPeer } from '../net/transport/peer-ids.ts';
import { loadIdentity, lockDataDir, type DataDirLock } from '../data-dir.ts';
import { MemoryStore, SqliteStore, type Store } from '../store/index.ts';
import type { SyncEvent } from '../sync/index.ts';
import { Connections } from './connections.ts';
import { signEphemeral, verifyEphemeral } from './ephemeral.ts';
import { InboundStoreDriver } from './inbound/store-driver.ts';
import type { ForkReport } from './inbound/types.ts';
import { nodeStats, type NodeStats } from './node-stats.ts';
import { REAL_NETWORK_OVERLAY } from './overlay-config.ts';
import { encodePayload } from './payload.ts';
import type { Receiver } from './receiver.ts';
import { SyncManager } from './sync-manager.ts';
import { decodeTicket, encodeTicket, isTicket } from './ticket.ts';
import { TopicState, type EphemeralEvent, type TopicEvent } from './topic-state.ts';
import { LiveDag, LiveLog, LiveMap, LiveSet, type ViewSource } from './views.ts';
import type { AppProcessor, SlotProcessor } from '../processors/index.ts';

export interface NodeOptions {
  /** Identity (`identity.key`), store (`store.db`) and address book live here. */
  dataDir?: string;
  /** Default: 'sqlite' with a dataDir, else 'memory'. */
  storage?: 'memory' | 'sqlite';
  /** SQLite commits: 'full' (default) survive a power cut; 'normal' is faster (src/store/sqlite.ts). */ durability?: 'full' | 'normal';
  privateKey?: PrivateKey;
  /** A string (hashed with a domain prefix) or 32 bytes. Default "walkaway". */
  networkId?: string | Uint8Array;
  /** Multiaddrs to listen on. Default: TCP on all interfaces, a free port. */
  listen?: string[];
  bootstrap?: string[];
  mdns?: boolean;
  /** Serve as a circuit relay for this network. */
  relay?: boolean;
  /** Relays to use when this node is not reachable directly: multiaddrs ending in /p2p/<relay>. */
  relays?: string[];
  allow?: string[];
  deny?: string[];
  /** Largest operation (header + body) sent by gossip; larger ones travel by sync only. */
  maxGossipBytes?: number;
  /**
   * Also carry broadcast-only sync and ephemeral messages over UDP multicast
   * on the LAN, for peers without a connection. Opt-in: topic ids travel in
   * clear there.
   */
  multicast?: boolean | { group?: string; port?: number; interface?: string; tickMs?: number };
}

export interface PublishOptions {
  /** Set the prune flag: peers may delete this log's entries before it. */
  prune?: boolean;
}

export interface StreamOptions {
  /** Replay every operation stored after this cursor (0: from the start) before live events. */
  from?: number;
  signal?: AbortSignal;
  /** App processors at the end of the topic's chain; each gets the topic's history first (processors/chain.ts). */
  processors?: AppProcessor[];
  /** Where the processors' outputs go. */
  onOutput?: (output: unknown, processor: string) => void;
  /**
   * Encrypted bodies (src/encryption builds this): `seal` runs on every body
   * published here before it is signed, `decrypt` takes the chain's
   * decryption slot. Give it with the topic's first stream.
   */
  encryption?: { decrypt: SlotProcessor; seal(body: Uint8Array): Uint8Array };
}

export interface TopicStream {
  topic: Uint8Array;
  tx: { publish(body: Uint8Array, options?: PublishOptions): Promise<Hash> };
  rx: Receiver<TopicEvent>;
  /** Deletes an operation's body here; its header stays (the log stays whole, sync sends the header). */
  deleteBody(hash: Hash): boolean;
  /** Resolves once what is stored so far has passed the topic's processors. */
  settled(): Promise<void>;
  /** Calls `listener` on every fork of an author in this topic (see `ForkEvent`); returns the unsubscribe. */
  onFork(listener: (fork: ForkEvent) => void): () => void;
}

export interface EphemeralStream {
  topic: Uint8Array;
  tx: { publish(body: Uint8Array): Promise<void> };
  rx: Receiver<EphemeralEvent>;
}

/**
 * The `fork` event (on the node, and through `TopicStream.onFork` on the
 * topic's stream): an author signed two different operations at one seqNum
 * of a log. Fired once per fork point on every node that learns of it, by
 * gossip, sync or multicast; the store keeps both headers as evidence and
 * accepts nothing of that log from the fork point on.
 */
export interface ForkEvent {
  /** Hex topic id. */
  topic: string;
  /** Hex Ed25519 public key of the author who forked. */
  author: string;
  /** Hex log id. */
  logId: string;
  seqNum: number;
  /** The two lowest-hash headers at the fork point (signed header bytes). */
  headers: [Uint8Array, Uint8Array];
  /** What carried the operation that revealed the fork here. */
  via: 'gossip' | 'sync' | 'multicast' | 'local';
}

const DEFAULT_MAX_GOSSIP_BYTES = 16 * 1024 - 512;

export class Node extends EventEmitter {
  readonly id: string;
  readonly peerId: string;
  readonly privateKey: PrivateKey;
  readonly networkId: Uint8Array;
  readonly store: Store;
  readonly host: Libp2p;
  readonly #gossip: GossipService;
  readonly #sync: SyncManager;
  readonly #discovery: TopicDiscovery;
  readonly #connections: Connections;
  readonly #multicast: MulticastChannel | undefined;
  readonly #book: AddressBook;
  readonly #topics = new Map<string, TopicState>();
  readonly #maxGossipBytes: number;
  readonly #log: Log;
  readonly #inbound: InboundStoreDriver;
  #relayKeeper: RelayKeeper | undefined;
  #redialer: Redialer | undefined;
  #lamport = 0;
  #closed = false;
  #lock: DataDirLock | undefined;

  private constructor(parts: {
    privateKey: PrivateKey;
    networkId: Uint8Array;
    store: Store;
    host: Libp2p;
    book: AddressBook;
    maxGossipBytes: number;
    multicast?: NodeOptions['multicast'];
    penalties: Penalties;
  }) {
    super();
    this.privateKey = parts.privateKey;
    this.id = parts.privateKey.publicKey.toHex();
    this.peerId = parts.host.peerId.toString();
    this.networkId = parts.networkId;
    this.store = parts.store;
    this.host = parts.host;
    this.#book = parts.book;
    this.#maxGossipBytes = parts.maxGossipBytes;
    this.#log = createLog('walkaway:node');
    this.on('error', () => {}); // errors are events; an unhandled one must not crash the app
    const seed = globalThis.crypto.getRandomValues(new Uint32Array(2));
    // The one way in: gossip, sync, multicast and publish all store through it.
    this.#inbound = new InboundStoreDriver({
      store: this.store,
      seed: seed[1],
      onStored: (topic, op, via) => {
        const state = this.#topics.get(toHex(topic));
        if (via === 'sync') state?.storedBySync(op);
        else state?.stored(op);
      },
      onBatchEnd: (topic) => this.#topics.get(toHex(topic))?.flushSynced(),
      onEphemeral: (topic, message, bytes) => this.#topics.get(toHex(topic))?.deliverEphemeral(message, bytes),
      onHolds: (topic, peer, heights) => this.#topics.get(toHex(topic))?.noteHeights(peer, heights),
      onFork: (fork) => this.#onFork(fork),
      onRequestSync: (peer, topic) => {
        if (this.#topics.has(toHex(topic))) this.#sync.sync(peer, topic);
      },
      log: (message) => this.#log(message),
    });
    this.#gossip = new GossipService({
      host: this.host,
      networkId: this.networkId,
      book: this.#book,
      config: REAL_NETWORK_OVERLAY,
      seed: seed[0],
      onEvent: (topic, event) => this.#onOverlayEvent(topic, event),
      validate: (_topic, payload) => this.#inbound.check(payload),
      penalties: parts.penalties,
      log: createLog('walkaway:gossip'),
    });
    this.#sync = new SyncManager({
      host: this.host,
      store: this.store,
      ingest: this.#inbound,
      networkId: this.networkId,
      self: this.id,
      isJoined: (topic) => this.#topics.has(toHex(topic)),
      onStart: (peer, topic, role) => this.emit('sync:start', { topic: toHex(topic), peer, role }),
      onEvent: (peer, topic, event) => this.#onSyncEvent(peer, topic, event),
      onEnd: (peer, topic, stats, error) => this.#onSyncEnd(peer, topic, stats, error),
      log: createLog('walkaway:sync'),
    });
    this.#discovery = new TopicDiscovery({
      host: this.host,
      networkId: this.networkId,
      topics: () => [...this.#topics.values()].map((t) => t.topic),
      onShared: (peer, topics) => {
        for (const topic of topics) if (this.#topics.has(toHex(topic))) this.#gossip.join(topic, [peer]);
      },
      log: createLog('walkaway:topics'),
    });
    this.#connections = new Connections(this.host, this.#book, createLog('walkaway:connections'));
    if (parts.multicast) {
      this.#multicast = new MulticastChannel({
        ...(typeof parts.multicast === 'object' ? parts.multicast : {}),
        store: this.store,
        networkId: this.networkId,
        ingest: (topic, op, done) => this.#inbound.ingest('multicast', topic, op, (result) => done(result.outcome)),
        onEphemeral: (topic, bytes) => this.#onEphemeral(topic, bytes),
        log: createLog('walkaway:multicast'),
      });
    }
  }

  static async create(options: NodeOptions = {}): Promise<Node> {
    const storage = options.storage ?? (options.dataDir ? 'sqlite' : 'memory');
    if (storage !== 'memory' && storage !== 'sqlite') throw new WalkawayError('INVALID_ARGUMENT', `storage must be 'memory' or 'sqlite'`);
    if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
    // One node per data directory (process-wide and across processes): released by close().
    const lock = options.dataDir ? lockDataDir(options.dataDir) : undefined;
    try {
      return await Node.#open(options, storage, lock);
    } catch (err) {
      lock?.release();
      throw err;
    }
  }

  static async #open(options: NodeOptions, storage: 'memory' | 'sqlite', lock: DataDirLock | undefined): Promise<Node> {
    const privateKey = options.privateKey ?? (options.dataDir ? loadIdentity(options.dataDir) : PrivateKey.generate());
    const store: Store = storage === 'sqlite' ? SqliteStore.open(options.dataDir ? join(options.dataDir, 'store.db') : ':memory:', { durability: options.durability }) : MemoryStore.create();
    const networkId = toNetworkId(options.networkId);
    const book = new AddressBook(options.dataDir ? join(options.dataDir, 'addresses.json') : undefined);
    // Shared by the gossip service (which bans) and the host's connection gater (which keeps banned peers out).
    const penalties = new Penalties();
    const host = await createHost({
      privateKey,
      networkId,
      listen: options.listen ?? ['/ip4/0.0.0.0/tcp/0'],
      mdns: options.mdns ?? false,
      relayServer: options.relay,
      allow: options.allow,
      deny: options.deny,
      isBanned: (peer) => penalties.isBanned(peer, performance.now()),
    });
    const node = new Node({
      privateKey,
      networkId,
      store,
      host,
      book,
      maxGossipBytes: options.maxGossipBytes ?? DEFAULT_MAX_GOSSIP_BYTES,
      multicast: options.multicast,
      penalties,
    });
    node.#lock = lock;
    node.#relayKeeper = new RelayKeeper({ host, relays: options.relays, log: createLog('walkaway:relays') });
    node.#redialer = new Redialer({ host, log: createLog('walkaway:redial') });
    await node.#start(options.bootstrap ?? []);
    return node;
  }

  get addresses(): string[] {
    return this.host.getMultiaddrs().map(String);
  }

  /** The persisted, eventually consistent stream of a topic (or a ticket's topic). */
  stream(topicOrTicket: string | Uint8Array, options: StreamOptions = {}): TopicStream {
    const state = this.#join(topicOrTicket);
    const { encryption } = options;
    if (encryption) state.useSlot('decrypt', encryption.decrypt);
    const rx = state.subscribe(options.signal);
    if (options.from !== undefined) state.replay(rx, options.from);
    if (options.processors) state.addProcessors(options.processors, options.onOutput, options.signal);
    state.start();
    const onFork = (listener: (fork: ForkEvent) => void) => {
      const forThisTopic = (fork: ForkEvent) => fork.topic === state.hex && listener(fork);
      this.on('fork', forThisTopic);
      return () => void this.off('fork', forThisTopic);
    };
    const publish = (body: Uint8Array, opts?: PublishOptions) =>
      Promise.resolve(this.#publish(state, encryption && body instanceof Uint8Array ? encryption.seal(body) : body, opts));
    return { topic: state.topic, tx: { publish }, rx, deleteBody: (hash) => state.deleteBody(hash), settled: () => state.idle(), onFork };
  }

  /** Live views of a topic: the base convergent types, with `change` events (views.ts). */
  map<V = unknown>(topic: string | Uint8Array): LiveMap<V> {
    return new LiveMap<V>(this.#viewSource(topic));
  }
  growSet<T = unknown>(topic: string | Uint8Array): LiveSet<T> {
    return new LiveSet<T>(this.#viewSource(topic));
  }
  dag(topic: string | Uint8Array): LiveDag {
    return new LiveDag(this.#viewSource(topic));
  }
  log(topic: string | Uint8Array): LiveLog {
    return new LiveLog(this.#viewSource(topic));
  }

  #viewSource(topic: string | Uint8Array): ViewSource {
    const state = this.#join(topic);
    return { state, self: this.id, publish: (body, opts) => this.#publish(state, body, opts) };
  }

  /** Live messages of a topic: signed, de-duplicated, never stored. */
  ephemeralStream(topicOrTicket: string | Uint8Array, options: { signal?: AbortSignal } = {}): EphemeralStream {
    const state = this.#join(topicOrTicket);
    const rx = state.subscribeEphemeral(options.signal);
    const publish = async (body: Uint8Array) => {
      const bytes = signEphemeral(this.privateKey, body, nowMicros(), ++this.#lamport);
      state.deliverEphemeral(verifyEphemeral(bytes), bytes);
      this.#gossip.publish(state.topic, encodePayload({ kind: 'ephemeral', bytes }));
      this.#multicast?.sendEphemeral(state.topic, bytes);
    };
    return { topic: state.topic, tx: { publish }, rx };
  }

  leave(topic: string | Uint8Array): void {
    const state = this.#topics.get(toHex(topicId(topic)));
    if (!state) return;
    this.#gossip.leave(state.topic);
    state.close();
    this.#topics.delete(state.hex);
    this.#inbound.feed({ type: 'leave', topic: state.topic });
    this.#log(`topic ${state.hex.slice(0, 8)}: left`);
    this.#multicast?.leave(state.topic);
  }

  /** An invitation: network id, topic and this node's addresses. */
  ticket(topic: string | Uint8Array): string {
    return encodeTicket({ networkId: this.networkId, topic: topicId(topic), addresses: this.addresses });
  }

  /** Active and passive overlay neighbours of a topic. */
  neighbors(topic: string | Uint8Array): { active: string[]; passive: string[] } {
    return this.#gossip.views(topicId(topic));
  }

  /** Peers known to hold an operation of this topic (from sync and gossip). */
  seenBy(topic: string | Uint8Array, op: { author: string; seqNum: number }): string[] {
    return this.#topics.get(toHex(topicId(topic)))?.seenBy(op) ?? [];
  }

  /** Counters for monitoring and benchmarks, and the sizes of every capped structure (node-stats.ts). */
  stats(): NodeStats {
    return nodeStats(this.#gossip, this.#topics.values(), this.#sync, this.#inbound.machine);
  }

  peers(): string[] {
    return this.host.getPeers().flatMap((p) => publicKeyOfPeer(p) ?? []);
  }

  /** Starts a sync of `topic` with `peer` now (also done on every new neighbour). */
  syncWith(peer: string, topic: string | Uint8Array): void {
    this.#sync.sync(peer, topicId(topic));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#inbound.stop();
    this.#connections.stop();
    this.#relayKeeper?.stop();
    this.#redialer?.stop();
    this.#sync.stop();
    this.#gossip.stop();
    this.#multicast?.stop();
    for (const state of this.#topics.values()) state.close();
    this.#book.flush();
    await this.host.stop();
    this.store.close();
    this.#lock?.release();
  }

  async #start(bootstrap: string[]): Promise<void> {
    this.host.addEventListener('connection:open', ({ detail: c }) => this.#log(`connection opened: ${c.remotePeer.toString().slice(-8)} ${c.direction} ${c.remoteAddr.toString()}`));
    this.host.addEventListener('connection:close', ({ detail: c }) => this.#log(`connection closed: ${c.remotePeer.toString().slice(-8)} ${c.direction} ${c.remoteAddr.toString()}`));
    this.host.addEventListener('peer:connect', (event) => {
      const peer = publicKeyOfPeer(event.detail);
      if (peer) this.emit('peer:connect', { peer });
    });
    this.host.addEventListener('peer:disconnect', (event) => {
      const peer = publicKeyOfPeer(event.detail);
      if (peer) this.emit('peer:disconnect', { peer });
    });
    await this.#gossip.start();
    await this.#sync.start();
    await this.#discovery.start();
    await this.#multicast?.start();
    this.#connections.start();
    this.#relayKeeper?.start();
    this.#redialer?.start();
    this.#connections.dialKnown();
    this.#connections.bootstrap(bootstrap);
    // Anti-entropy and gap syncs are the inbound machine's timers.
    this.#inbound.feed({ type: 'start' });
  }

  #join(topicOrTicket: string | Uint8Array): TopicState {
    if (this.#closed) throw new WalkawayError('CLOSED', 'the node is closed');
    let topic: Uint8Array;
    if (isTicket(topicOrTicket)) {
      const ticket = decodeTicket(topicOrTicket);
      if (!bytesEqual(ticket.networkId, this.networkId)) {
        throw new WalkawayError('INVALID_ARGUMENT', 'the ticket is for another network id');
      }
      topic = ticket.topic;
      this.#connections.bootstrap(ticket.addresses);
    } else {
      topic = topicId(topicOrTicket);
    }
    const hex = toHex(topic);
    let state = this.#topics.get(hex);
    if (!state) {
      state = new TopicState(this.store, topic, this.id, (message) => this.#log(`topic ${hex.slice(0, 8)}: ${message}`));
      this.#topics.set(hex, state);
      this.#inbound.feed({ type: 'join', topic });
      this.#log(`topic ${hex.slice(0, 8)}: joined`);
      this.#gossip.join(topic, []);
      this.#multicast?.join(topic);
      this.#discovery.askAll();
      this.emit('topic:alone', { topic: hex });
    }
    return state;
  }

  #publish(state: TopicState, body: Uint8Array, options: PublishOptions = {}): Promise<Hash> {
    if (!(body instanceof Uint8Array)) return Promise.reject(new WalkawayError('INVALID_ARGUMENT', 'publish takes a Uint8Array'));
    const latest = this.store.latest(this.privateKey.publicKey, state.logId);
    const timestamp = nowMicros();
    const op = createOperation({
      privateKey: this.privateKey,
      body,
      seqNum: latest ? latest.header.seqNum + 1 : 0,
      backlink: latest?.hash,
      extensions: options.prune
        ? { variant: 'basic', logId: state.logId, timestamp, pruneFlag: true }
        : { variant: 'causal', logId: state.logId, timestamp, previous: state.heads() },
    });
    return new Promise((resolve, reject) =>
      this.#inbound.ingest('local', state.topic, op, ({ outcome }) => {
        if (outcome.status !== 'inserted') {
          return reject(outcome.status === 'rejected' ? outcome.error : new WalkawayError('PROTOCOL', `own operation was ${outcome.status}`));
        }
        if (op.headerBytes.length + (op.body?.length ?? 0) <= this.#maxGossipBytes) {
          this.#gossip.publish(state.topic, encodePayload({ kind: 'operation', headerBytes: op.headerBytes, body: op.body }));
        } else {
          // Too large for gossip: it travels by sync, so sync with every neighbour now.
          for (const peer of state.neighbors) this.#sync.sync(peer, state.topic);
        }
        resolve(op.hash);
      }),
    );
  }

  #onOverlayEvent(topic: Uint8Array, event: { type: string; peer?: string; payload?: Uint8Array; from?: string; reason?: string }): void {
    const state = this.#topics.get(toHex(topic));
    if (!state) return;
    switch (event.type) {
      case 'neighbor-up': {
        const peer = event.peer!;
        state.neighbors.add(peer);
        this.#inbound.feed({ type: 'neighbor-up', topic, peer });
        this.#log(`topic ${state.hex.slice(0, 8)}: neighbour ${peer.slice(0, 8)} up (${state.neighbors.size} active)`);
        this.emit('neighbor:up', { topic: state.hex, peer });
        if (this.#sync.dialsFor(peer)) this.#sync.sync(peer, topic);
        break;
      }
      case 'neighbor-down': {
        const peer = event.peer!;
        state.neighbors.delete(peer);
        this.#inbound.feed({ type: 'neighbor-down', topic, peer });
        this.#log(`topic ${state.hex.slice(0, 8)}: neighbour ${peer.slice(0, 8)} down (${state.neighbors.size} active)`);
        this.#sync.forget(peer, topic);
        this.emit('neighbor:down', { topic: state.hex, peer });
        if (state.neighbors.size === 0) this.emit('topic:alone', { topic: state.hex });
        break;
      }
      case 'deliver':
        this.#inbound.feed({ type: 'gossip', topic, from: event.from!, payload: event.payload! });
        break;
      case 'dropped':
        this.#log(`overlay dropped a message from ${event.from?.slice(0, 8)}: ${event.reason}`);
        break;
    }
  }

  /** Forks reach the app after the inbound machine's turn, never inside it. */
  #onFork(fork: ForkReport): void {
    const event: ForkEvent = {
      topic: toHex(fork.topic),
      author: fork.author.toHex(),
      logId: toHex(fork.logId),
      seqNum: fork.seqNum,
      headers: fork.headers,
      via: fork.via,
    };
    this.#log(`topic ${event.topic.slice(0, 8)}: author ${event.author.slice(0, 8)} forked its log at seqNum ${fork.seqNum} (learnt by ${fork.via})`);
    queueMicrotask(() => this.emit('fork', event));
  }

  #onEphemeral(topic: Uint8Array, bytes: Uint8Array): void {
    const state = this.#topics.get(toHex(topic));
    if (!state) return;
    try {
      state.deliverEphemeral(verifyEphemeral(bytes), bytes);
    } catch (err) {
      this.#log(`bad ephemeral message: ${(err as Error).message}`);
    }
  }

  #onSyncEvent(peer: string, topic: Uint8Array, event: SyncEvent): void {
    const state = this.#topics.get(toHex(topic));
    if (!state) return;
    if (event.type === 'operation') {
      // Stored and handed to the chain by the inbound path already.
      const op = event.operation;
      state.noteHeights(peer, [{ author: op.header.publicKey, logId: logIdOf(op.header), seqNum: op.header.seqNum }]);
      return;
    }
    if (event.type === 'progress' || event.type === 'presync') {
      this.emit('sync:progress', { topic: state.hex, peer, ...('progress' in event ? event.progress : { direction: event.direction, operations: event.operations, bytes: event.bytes }) });
    } else if (event.type === 'synced') {
      // Both directions are done: the peer holds at least what we held.
      state.noteHeights(peer, this.store.heights(topic));
    }
  }

  #onSyncEnd(peer: string, topic: Uint8Array, stats: { stored?: number; sent?: { operations: number }; received?: { operations: number } } | undefined, error?: Error): void {
    this.#topics.get(toHex(topic))?.flushSynced();
    this.#inbound.feed({ type: 'sync-ended', topic });
    this.emit('sync:end', {
      topic: toHex(topic),
      peer,
      received: stats?.received?.operations ?? 0,
      stored: stats?.stored ?? 0,
      sent: stats?.sent?.operations ?? 0,
      error: error ? { code: (error as WalkawayError).code ?? 'UNKNOWN', message: error.message } : undefined,
    });
  }
}
