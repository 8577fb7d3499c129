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
  every,
  logIdOf,
  pruneFlagOf,
  networkId as toNetworkId,
  PrivateKey,
  realRuntime,
  type Runtime,
  toHex,
  topicId,
  WalkawayError,
  type Hash,
  type Operation,
} from '../core/index.ts';
import { createLog, type Log } from '../log.ts';
import { AddressBook } from '../net/address-book.ts';
import { Connections } from '../net/connections.ts';
import { TopicDiscovery } from '../net/discovery/topic-discovery.ts';
import { GossipService } from '../net/gossip/gossip-service.ts';
import { Penalties } from '../net/gossip/penalties.ts';
import { MulticastChannel } from '../net/multicast/multicast.ts';
import { RelayKeeper } from '../net/transport/relay-keeper.ts';
import { Redialer } from '../net/transport/redialer.ts';
import { SyncService } from '../net/sync/sync-service.ts';
import { Libp2pTransport } from '../net/transport/libp2p-transport.ts';
import type { Transport } from '../net/transport/transport.ts';
import { loadIdentity, lockDataDir, type DataDirLock } from '../data-dir.ts';
import { MemoryStore, SqliteStore, type Store, type StoredOperation } from '../store/index.ts';
import type { SyncEvent, Verifier } from '../sync/index.ts';
import { signEphemeral, verifyEphemeral } from './ephemeral.ts';
import { GapSyncs } from './gap-syncs.ts';
import { GossipValidator } from './gossip-validator.ts';
import { nodeStats, type NodeStats } from './node-stats.ts';
import { encodePayload } from './payload.ts';
import type { Receiver } from './receiver.ts';
import { decodeTicket, encodeTicket, isTicket } from './ticket.ts';
import { TopicState, type EphemeralEvent, type TopicEvent } from './topic-state.ts';
import { LiveDag, LiveLog, LiveMap, LiveSet, type ViewSource } from './views.ts';
import type { AppProcessor, ChainSlot, SlotProcessor } from '../processors/index.ts';

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
  /**
   * The network under the node (default: a libp2p host built from `listen`,
   * `relay`, `mdns`, `allow`, `deny`). A `MemoryTransport` runs the node in
   * memory (tests, the simulator); its `self` must be this node's public key.
   */
  transport?: Transport;
  /** Clock, timers and randomness of every driver (default: the process's; the simulator's is virtual). */
  runtime?: Runtime;
  /** Signature checks of synced operations (default: a worker pool; the simulator checks inline). */
  verifier?: Verifier;
}

export interface PublishOptions {
  /** Set the prune flag: peers may delete this log's entries before it. */
  prune?: boolean;
  /** Another log of the topic than its own (a private topic's auth log, src/auth). */
  log?: Uint8Array;
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
  /** Access control: takes the chain's access slot (src/auth's AccessControlProcessor). Give it with the topic's first stream. */
  access?: SlotProcessor;
  /** A private topic's policy: may its operations go to and come from this peer (sync and gossip)? Give it with the topic's first stream. */
  exchange?: (peer: string) => boolean;
}

export interface TopicStream {
  topic: Uint8Array;
  tx: { publish(body: Uint8Array, options?: PublishOptions): Promise<Hash> };
  rx: Receiver<TopicEvent>;
  /** Deletes an operation's body here; its header stays (the log stays whole, sync sends the header). */
  deleteBody(hash: Hash): boolean;
  /** Resolves once what is stored so far has passed the topic's processors. */
  settled(): Promise<void>;
}

export interface EphemeralStream {
  topic: Uint8Array;
  tx: { publish(body: Uint8Array): Promise<void> };
  rx: Receiver<EphemeralEvent>;
}

const DEFAULT_MAX_GOSSIP_BYTES = 16 * 1024 - 512;
const ANTI_ENTROPY_MS = 30_000;

export class Node extends EventEmitter {
  readonly id: string;
  readonly peerId: string;
  readonly privateKey: PrivateKey;
  readonly networkId: Uint8Array;
  readonly store: Store;
  readonly transport: Transport;
  readonly #runtime: Runtime;
  readonly #gossip: GossipService;
  readonly #sync: SyncService;
  readonly #discovery: TopicDiscovery;
  readonly #connections: Connections;
  readonly #multicast: MulticastChannel | undefined;
  readonly #book: AddressBook;
  readonly #topics = new Map<string, TopicState>();
  /** Private topics' exchange policies (StreamOptions.exchange), by topic hex. */
  readonly #gates = new Map<string, (peer: string) => boolean>();
  readonly #maxGossipBytes: number;
  readonly #log: Log;
  readonly #validator: GossipValidator;
  #relayKeeper: RelayKeeper | undefined;
  #redialer: Redialer | undefined;
  #lamport = 0;
  #closed = false;
  #lock: DataDirLock | undefined;
  #stopAntiEntropy: (() => void) | undefined;
  readonly #gapSyncs: GapSyncs;

  private constructor(parts: {
    privateKey: PrivateKey;
    networkId: Uint8Array;
    store: Store;
    transport: Transport;
    runtime: Runtime;
    verifier?: Verifier;
    book: AddressBook;
    maxGossipBytes: number;
    multicast?: NodeOptions['multicast'];
    penalties: Penalties;
  }) {
    super();
    this.privateKey = parts.privateKey;
    this.id = parts.privateKey.publicKey.toHex();
    this.transport = parts.transport;
    this.#runtime = parts.runtime;
    this.#gapSyncs = new GapSyncs(parts.runtime);
    this.peerId = parts.transport.peerId;
    this.networkId = parts.networkId;
    this.store = parts.store;
    const runtime = parts.runtime;
    this.#book = parts.book;
    this.#maxGossipBytes = parts.maxGossipBytes;
    this.#log = createLog('walkaway:node');
    this.on('error', () => {}); // errors are events; an unhandled one must not crash the app
    this.#validator = new GossipValidator(this.store, (message) => this.#log(message));
    this.#gossip = new GossipService({
      transport: this.transport,
      runtime,
      networkId: this.networkId,
      book: this.#book,
      seed: new DataView(runtime.randomBytes(4).buffer).getUint32(0),
      onEvent: (topic, event) => this.#onOverlayEvent(topic, event),
      validate: (_topic, payload) => this.#validator.validate(payload),
      mayExchange: (topic, peer) => this.#gates.get(toHex(topic))?.(peer) ?? true,
      penalties: parts.penalties,
      log: createLog('walkaway:gossip'),
    });
    this.#sync = new SyncService({
      transport: this.transport,
      runtime,
      verifier: parts.verifier,
      store: this.store,
      networkId: this.networkId,
      self: this.id,
      isJoined: (topic) => this.#topics.has(toHex(topic)),
      mayExchange: (topic, peer) => this.#gates.get(toHex(topic))?.(peer) ?? true,
      onStart: (peer, topic, role) => this.emit('sync:start', { topic: toHex(topic), peer, role }),
      onEvent: (peer, topic, event) => this.#onSyncEvent(peer, topic, event),
      onEnd: (peer, topic, stats, error) => this.#onSyncEnd(peer, topic, stats, error),
      log: createLog('walkaway:sync'),
    });
    this.#discovery = new TopicDiscovery({
      transport: this.transport,
      runtime,
      networkId: this.networkId,
      topics: () => [...this.#topics.values()].map((t) => t.topic),
      onShared: (peer, topics) => {
        for (const topic of topics) if (this.#topics.has(toHex(topic))) this.#gossip.join(topic, [peer]);
      },
      log: createLog('walkaway:topics'),
    });
    this.#connections = new Connections(this.transport, this.#book, runtime, createLog('walkaway:connections'));
    if (parts.multicast) {
      this.#multicast = new MulticastChannel({
        ...(typeof parts.multicast === 'object' ? parts.multicast : {}),
        store: this.store,
        networkId: this.networkId,
        onStored: (topic, op) => this.#topics.get(toHex(topic))?.stored(op),
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
    const runtime = options.runtime ?? realRuntime();
    if (options.transport && options.transport.self !== privateKey.publicKey.toHex()) {
      throw new WalkawayError('INVALID_ARGUMENT', "the transport's self is not this node's public key");
    }
    const transport =
      options.transport ??
      (await Libp2pTransport.create(
        {
          privateKey,
          networkId,
          listen: options.listen ?? ['/ip4/0.0.0.0/tcp/0'],
          mdns: options.mdns ?? false,
          relayServer: options.relay,
          allow: options.allow,
          deny: options.deny,
        },
        runtime,
        createLog('walkaway:node'),
      ));
    // Shared by the gossip service (which bans) and the transport's gater (which keeps banned peers out).
    const penalties = new Penalties();
    transport.setRefusal((peer) => penalties.isBanned(peer, runtime.now()));
    const node = new Node({
      privateKey,
      networkId,
      store,
      transport,
      runtime,
      verifier: options.verifier,
      book,
      maxGossipBytes: options.maxGossipBytes ?? DEFAULT_MAX_GOSSIP_BYTES,
      multicast: options.multicast,
      penalties,
    });
    node.#lock = lock;
    if (transport instanceof Libp2pTransport) {
      // Relay failover and redialling are libp2p's concern (docs/network-breaks.md).
      const host = transport.host;
      node.#relayKeeper = new RelayKeeper({ host, relays: options.relays, log: createLog('walkaway:relays') });
      node.#redialer = new Redialer({ host, log: createLog('walkaway:redial') });
    }
    await node.#start(options.bootstrap ?? []);
    return node;
  }

  /** The libp2p host under the node (INVALID_ARGUMENT when the node runs over another transport). */
  get host(): Libp2p {
    if (this.transport instanceof Libp2pTransport) return this.transport.host;
    throw new WalkawayError('INVALID_ARGUMENT', 'this node does not run over libp2p');
  }

  get addresses(): string[] {
    return this.transport.addresses();
  }

  /** The persisted, eventually consistent stream of a topic (or a ticket's topic). */
  stream(topicOrTicket: string | Uint8Array, options: StreamOptions = {}): TopicStream {
    const state = this.#join(topicOrTicket);
    const { encryption } = options;
    if (encryption) state.useSlot('decrypt', encryption.decrypt);
    if (options.access) state.useSlot('access', options.access);
    if (options.exchange) {
      this.#gates.set(state.hex, options.exchange);
      this.#multicast?.leave(state.topic); // multicast reaches anyone on the LAN: a private topic stays off it
    }
    const rx = state.subscribe(options.signal);
    if (options.from !== undefined) state.replay(rx, options.from);
    if (options.processors) state.addProcessors(options.processors, options.onOutput, options.signal);
    state.start();
    const publish = (body: Uint8Array, opts?: PublishOptions) =>
      Promise.resolve(this.#publish(state, encryption && body instanceof Uint8Array ? encryption.seal(body) : body, opts));
    return { topic: state.topic, tx: { publish }, rx, deleteBody: (hash) => state.deleteBody(hash), settled: () => state.idle() };
  }

  /** Puts an access-control or decryption processor in the topic's chain (processors/chain.ts). */
  useSlot(topic: string | Uint8Array, slot: ChainSlot, processor: SlotProcessor): void {
    this.#join(topic).useSlot(slot, processor);
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
      const bytes = signEphemeral(this.privateKey, body, this.#runtime.wallMicros(), ++this.#lamport);
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
    this.#gates.delete(state.hex);
    this.#log(`topic ${state.hex.slice(0, 8)}: left`);
    this.#multicast?.leave(state.topic);
  }

  /** An invitation: network id, topic and this node's addresses. */
  ticket(topic: string | Uint8Array, options: { owner?: string } = {}): string {
    return encodeTicket({ networkId: this.networkId, topic: topicId(topic), addresses: this.addresses, ...options });
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
    return nodeStats(this.#gossip, this.#topics.values(), this.#sync, this.#gapSyncs.size);
  }

  peers(): string[] {
    return this.transport.peers();
  }

  /** Starts a sync of `topic` with `peer` now (also done on every new neighbour). */
  syncWith(peer: string, topic: string | Uint8Array): void {
    this.#sync.sync(peer, topicId(topic));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopAntiEntropy?.();
    this.#gapSyncs.clear();
    this.#connections.stop();
    this.#relayKeeper?.stop();
    this.#redialer?.stop();
    this.#sync.stop();
    this.#gossip.stop();
    this.#multicast?.stop();
    for (const state of this.#topics.values()) state.close();
    this.#book.flush();
    await this.transport.stop();
    this.store.close();
    this.#lock?.release();
  }

  async #start(bootstrap: string[]): Promise<void> {
    this.transport.on('peer:connect', ({ peer }) => this.emit('peer:connect', { peer }));
    this.transport.on('peer:disconnect', ({ peer }) => this.emit('peer:disconnect', { peer }));
    await this.#gossip.start();
    await this.#sync.start();
    await this.#discovery.start();
    await this.#multicast?.start();
    this.#connections.start();
    this.#relayKeeper?.start();
    this.#redialer?.start();
    this.#connections.dialKnown();
    this.#connections.bootstrap(bootstrap);
    this.#stopAntiEntropy = every(this.#runtime, ANTI_ENTROPY_MS, () => this.#syncRandomNeighbours());
  }

  /**
   * Gossip can lose a message (a neighbour fails mid-broadcast); the last
   * operation of a log has no successor whose gap would reveal it. So every
   * topic syncs with one random neighbour now and then.
   */
  #syncRandomNeighbours(): void {
    for (const state of this.#topics.values()) {
      const neighbours = [...state.neighbors];
      if (neighbours.length === 0) continue;
      this.#sync.sync(neighbours[Math.floor(this.#runtime.random() * neighbours.length)], state.topic);
    }
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
      this.#log(`topic ${hex.slice(0, 8)}: joined`);
      this.#gossip.join(topic, []);
      this.#multicast?.join(topic);
      this.#discovery.askAll();
      this.emit('topic:alone', { topic: hex });
    }
    return state;
  }

  #publish(state: TopicState, body: Uint8Array, options: PublishOptions = {}): Hash {
    if (!(body instanceof Uint8Array)) throw new WalkawayError('INVALID_ARGUMENT', 'publish takes a Uint8Array');
    const logId = options.log ?? state.logId;
    const latest = this.store.latest(this.privateKey.publicKey, logId);
    const timestamp = this.#runtime.wallMicros();
    const op = createOperation({
      privateKey: this.privateKey,
      body,
      seqNum: latest ? latest.header.seqNum + 1 : 0,
      backlink: latest?.hash,
      extensions: options.prune
        ? { variant: 'basic', logId, timestamp, pruneFlag: true }
        : { variant: 'causal', logId, timestamp, previous: state.heads() },
    });
    const outcome = this.store.ingest(op, state.topic);
    if (outcome.status !== 'inserted') {
      throw outcome.status === 'rejected' ? outcome.error : new WalkawayError('PROTOCOL', `own operation was ${outcome.status}`);
    }
    state.stored(outcome.operation);
    if (op.headerBytes.length + (op.body?.length ?? 0) <= this.#maxGossipBytes) {
      this.#gossip.publish(state.topic, encodePayload({ kind: 'operation', headerBytes: op.headerBytes, body: op.body }));
    } else {
      // Too large for gossip: it travels by sync, so sync with every neighbour now.
      for (const peer of state.neighbors) this.#sync.sync(peer, state.topic);
    }
    return op.hash;
  }

  #onOverlayEvent(topic: Uint8Array, event: { type: string; peer?: string; payload?: Uint8Array; from?: string; reason?: string }): void {
    const state = this.#topics.get(toHex(topic));
    if (!state) return;
    switch (event.type) {
      case 'neighbor-up': {
        const peer = event.peer!;
        state.neighbors.add(peer);
        this.#log(`topic ${state.hex.slice(0, 8)}: neighbour ${peer.slice(0, 8)} up (${state.neighbors.size} active)`);
        this.emit('neighbor:up', { topic: state.hex, peer });
        if (this.#sync.dialsFor(peer)) this.#sync.sync(peer, topic);
        break;
      }
      case 'neighbor-down': {
        const peer = event.peer!;
        state.neighbors.delete(peer);
        this.#log(`topic ${state.hex.slice(0, 8)}: neighbour ${peer.slice(0, 8)} down (${state.neighbors.size} active)`);
        this.#sync.forget(peer, topic);
        this.emit('neighbor:down', { topic: state.hex, peer });
        if (state.neighbors.size === 0) this.emit('topic:alone', { topic: state.hex });
        break;
      }
      case 'deliver':
        this.#onGossip(state, event.payload!, event.from!);
        break;
      case 'dropped':
        this.#log(`overlay dropped a message from ${event.from?.slice(0, 8)}: ${event.reason}`);
        break;
    }
  }

  /** A payload the overlay validated (gossip-validator.ts) and delivered. */
  #onGossip(state: TopicState, bytes: Uint8Array, from: string): void {
    try {
      const verified = this.#validator.take(bytes);
      if (verified.kind === 'ephemeral') return state.deliverEphemeral(verified.message, verified.bytes);
      const op = verified.op;
      // Only now, verified and from a neighbour, does the sender count as holding it.
      if (state.neighbors.has(from)) state.noteHeights(from, [{ author: op.header.publicKey, logId: logIdOf(op.header), seqNum: op.header.seqNum }], this.#runtime.now());
      if (verified.known) return;
      const latest = this.store.latest(op.header.publicKey, logIdOf(op.header));
      const gap = op.header.seqNum > (latest ? latest.header.seqNum + 1 : 0) && !pruneFlagOf(op.header);
      if (gap) {
        // Gossip has no order: wait for the backlink; if it is still missing
        // in a moment (gossip may be carrying it), sync with the sender.
        state.keepAhead(op, this.#runtime.now());
        this.#syncSoon(from, state);
        return;
      }
      this.#storeAndFollow(state, op);
    } catch (err) {
      this.#log(`bad gossip from ${from.slice(0, 8)}: ${(err as Error).message}`);
    }
  }

  /** Stores a verified operation, then any that waited for it, in log order. */
  #storeAndFollow(state: TopicState, first: Operation): void {
    for (let op: Operation | undefined = first; op; op = state.takeNextAhead(op)) {
      const outcome = this.store.ingest(op, state.topic);
      if (outcome.status === 'inserted') {
        this.#log(`topic ${state.hex.slice(0, 8)}: ingested 1 operation from gossip, author ${op.header.publicKey.toHex().slice(0, 8)} seq ${op.header.seqNum}`);
        state.stored(outcome.operation);
      } else if (outcome.status === 'rejected') {
        this.#log(`operation ${op.hash.toHex().slice(0, 8)} rejected: ${outcome.error.message}`);
        return;
      }
    }
  }

  /** After a sync: operations that waited may fit now. */
  #drainAhead(state: TopicState): void {
    for (const op of state.firstAhead()) {
      const latest = this.store.latest(op.header.publicKey, logIdOf(op.header));
      if (!latest) continue;
      state.dropAheadUpTo(latest);
      const next = state.takeNextAhead(latest);
      if (next) this.#storeAndFollow(state, next);
    }
  }

  /** A sync with `peer` for a gap, after a short grace period (gap-syncs.ts). */
  #syncSoon(peer: string, state: TopicState): void {
    this.#gapSyncs.schedule(peer, state.hex, () => {
      this.#drainAhead(state);
      if (state.aheadCount > 0 && this.#topics.get(state.hex) === state) this.#sync.sync(peer, state.topic);
    });
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
      const op = event.operation as StoredOperation;
      const stored = typeof op.localSeq === 'number' ? op : this.store.getOperation(op.hash);
      if (stored) state.storedBySync(stored);
      state.noteHeights(peer, [{ author: op.header.publicKey, logId: logIdOf(op.header), seqNum: op.header.seqNum }], this.#runtime.now());
      return;
    }
    // Every other event ends a batch of stored operations (progress follows each ingest).
    state.flushSynced();
    if (event.type === 'progress' || event.type === 'presync') {
      this.emit('sync:progress', { topic: state.hex, peer, ...('progress' in event ? event.progress : { direction: event.direction, operations: event.operations, bytes: event.bytes }) });
    } else if (event.type === 'synced') {
      // Both directions are done: the peer holds at least what we held.
      state.noteHeights(peer, this.store.heights(topic), this.#runtime.now());
    }
  }

  #onSyncEnd(peer: string, topic: Uint8Array, stats: { stored?: number; sent?: { operations: number }; received?: { operations: number } } | undefined, error?: Error): void {
    const state = this.#topics.get(toHex(topic));
    state?.flushSynced();
    if (state) this.#drainAhead(state);
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
