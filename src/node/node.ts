/**
 * The node: what applications use. It builds the parts and connects them:
 * operations are stored first (through the one inbound path, inbound/),
 * travel live over the topic's gossip overlay (PlumTree over HyParView) and
 * are reconciled by log-height sync with every new neighbour; what is stored
 * passes the topic's processors chain (topic-state.ts) to `rx` and views.
 */
import '../net/polyfill.ts';
import { EventEmitter } from 'node:events';
import type { Libp2p } from 'libp2p';
import { toHex, topicId, WalkawayError, type Hash, type PrivateKey, type Runtime } from '../core/index.ts';
import { createLog, type Log } from '../core/log.ts';
import type { AddressBook } from '../net/address-book.ts';
import { Connections } from '../net/connections.ts';
import { TopicDiscovery } from '../net/discovery/topic-discovery.ts';
import { GossipService } from '../net/gossip/gossip-service.ts';
import { MulticastChannel } from '../net/multicast/multicast.ts';
import { SyncService } from '../net/sync/sync-service.ts';
import { Libp2pTransport } from '../net/transport/libp2p-transport.ts';
import type { Redialer } from '../net/transport/redialer.ts';
import type { RelayKeeper } from '../net/transport/relay-keeper.ts';
import type { Transport } from '../net/transport/transport.ts';
import type { ChainSlot, SlotProcessor } from '../processors/index.ts';
import type { Store } from '../store/index.ts';
import type { DataDirLock } from './data-dir.ts';
import { signEphemeral, verifyEphemeral } from './ephemeral.ts';
import { InboundStoreDriver } from './inbound/store-driver.ts';
import { forksOfTopic, inboundHooks, onMulticastEphemeral, onOverlayEvent, onSyncEnd, onSyncEvent, type NodeWiring, type OverlayEvent } from './network-events.ts';
import { libp2pKeepers, openNodeParts, type NodeParts } from './node-open.ts';
import { ownRejection, signNext, type OwnTip } from './own-operation.ts';
import { ExchangeGates } from './exchange-gates.ts';
import { nodeStats, type NodeStats } from './node-stats.ts';
import type { EphemeralStream, ForkEvent, NodeOptions, PublishOptions, StreamOptions, TopicStream } from './node-types.ts';
import { encodePayload } from './payload.ts';
import { encodeTicket, topicOf } from './ticket.ts';
import { TopicState } from './topic-state.ts';
import { LiveDag, LiveLog, LiveMap, LiveSet, type ViewSource } from './views.ts';

export type { EphemeralStream, ForkEvent, NodeOptions, PublishOptions, StreamOptions, TopicStream } from './node-types.ts';

const DEFAULT_MAX_GOSSIP_BYTES = 16 * 1024 - 512;

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
  readonly #inbound: InboundStoreDriver;
  readonly #discovery: TopicDiscovery;
  readonly #connections: Connections;
  readonly #multicast: MulticastChannel | undefined;
  readonly #relayKeeper: RelayKeeper | undefined;
  readonly #redialer: Redialer | undefined;
  readonly #book: AddressBook;
  readonly #topics = new Map<string, TopicState>();
  readonly #maxGossipBytes: number;
  readonly #log: Log = createLog('walkaway:node');
  readonly #lock: DataDirLock | undefined;
  readonly #gates = new ExchangeGates();
  /**
   * Per log id (hex): this node's latest signed operation, so that the next
   * publish neither reads nor decodes it again, and chains onto one still
   * waiting for its group commit. Dropped when the store rejects one; only
   * this node writes its own logs (the data dir is locked).
   */
  readonly #ownTips = new Map<string, OwnTip>();
  #lamport = 0;
  #closed = false;

  private constructor(parts: NodeParts, options: NodeOptions) {
    super();
    this.on('error', () => {}); // errors are events; an unhandled one must not crash the app
    ({ privateKey: this.privateKey, networkId: this.networkId, store: this.store, transport: this.transport, book: this.#book, lock: this.#lock } = parts);
    this.id = this.privateKey.publicKey.toHex();
    this.peerId = this.transport.peerId;
    this.#maxGossipBytes = options.maxGossipBytes ?? DEFAULT_MAX_GOSSIP_BYTES;
    const { transport, networkId, store } = this;
    const runtime = (this.#runtime = parts.runtime);
    const seed = new Uint32Array(runtime.randomBytes(8).buffer);
    const w = {
      topics: this.#topics,
      store,
      now: () => runtime.now(),
      emit: (e: string, p: unknown) => void this.emit(e, p),
      log: (m: string) => this.#log(m),
    } as NodeWiring;
    // The one way in: gossip, sync, multicast and publish all store through it (its timers run on the runtime).
    this.#inbound = w.inbound = new InboundStoreDriver({ store, seed: seed[1], clock: runtime, verifier: options.verifier, ...inboundHooks(w) });
    const joined = (topic: Uint8Array) => this.#topics.has(toHex(topic));
    const [book, penalties] = [this.#book, parts.penalties];
    // Gossip payloads are checked by the inbound path before the overlay caches or forwards them.
    const validate = (_topic: Uint8Array, payload: Uint8Array) => this.#inbound.check(payload);
    const onEvent = (topic: Uint8Array, event: OverlayEvent) => onOverlayEvent(w, topic, event);
    const mayExchange = this.#gates.may;
    const gossipLog = createLog('walkaway:gossip');
    this.#gossip = new GossipService({ transport, runtime, networkId, book, seed: seed[0], validate, penalties, onEvent, mayExchange, log: gossipLog });
    this.#sync = w.sync = new SyncService({
      ...{ transport, runtime, store, ingest: this.#inbound, networkId, self: this.id, isJoined: joined, mayExchange, log: createLog('walkaway:sync') },
      onStart: (peer, topic, role) => this.emit('sync:start', { topic: toHex(topic), peer, role }),
      onEvent: (peer, topic, event) => onSyncEvent(w, peer, topic, event),
      onEnd: (peer, topic, stats, error) => onSyncEnd(w, peer, topic, stats, error),
    });
    const topics = () => [...this.#topics.values()].map((t) => t.topic);
    const onShared = (peer: string, shared: Uint8Array[]) => shared.filter(joined).forEach((topic) => this.#gossip.join(topic, [peer]));
    this.#discovery = new TopicDiscovery({ transport, runtime, networkId, topics, onShared, log: createLog('walkaway:topics') });
    this.#connections = new Connections(transport, this.#book, runtime, createLog('walkaway:connections'));
    ({ relayKeeper: this.#relayKeeper, redialer: this.#redialer } = libp2pKeepers(transport, options.relays, this.#connections));
    if (options.multicast) {
      this.#multicast = new MulticastChannel({
        ...(typeof options.multicast === 'object' ? options.multicast : {}),
        store,
        networkId,
        ingest: (topic, op, done) => this.#inbound.ingest('multicast', topic, op, (result) => done(result.outcome)),
        onEphemeral: (topic, bytes) => onMulticastEphemeral(w, topic, bytes),
        log: createLog('walkaway:multicast'),
      });
    }
  }

  static async create(options: NodeOptions = {}): Promise<Node> {
    const parts = await openNodeParts(options);
    const node = new Node(parts, options);
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
    if (options.exchange) [this.#gates.set(state.hex, options.exchange), this.#multicast?.leave(state.topic)];
    const rx = state.subscribe(options.signal);
    if (options.from !== undefined) state.replay(rx, options.from);
    if (options.processors) state.addProcessors(options.processors, options.onOutput, options.signal);
    state.start();
    const onFork = (listener: (fork: ForkEvent) => void) => forksOfTopic(this, state.hex, listener);
    const publish = (body: Uint8Array, opts?: PublishOptions) =>
      this.#publish(state, encryption && body instanceof Uint8Array && !opts?.log ? encryption.seal(body) : body, opts);
    return { topic: state.topic, tx: { publish }, rx, deleteBody: (hash) => state.deleteBody(hash), settled: () => state.idle(), onFork };
  }

  /** Puts a processor in a slot of a topic's chain ('access' or 'decrypt'), before its first stream. */
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
    this.#inbound.feed({ type: 'leave', topic: state.topic });
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
    return nodeStats(this.#gossip, this.#topics.values(), this.#sync, this.#inbound.machine);
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
    this.#inbound.stop();
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
    // Anti-entropy and gap syncs are the inbound machine's timers.
    this.#inbound.feed({ type: 'start' });
  }

  #join(topicOrTicket: string | Uint8Array): TopicState {
    if (this.#closed) throw new WalkawayError('CLOSED', 'the node is closed');
    const { topic, addresses } = topicOf(topicOrTicket, this.networkId);
    if (addresses) this.#connections.bootstrap(addresses);
    const hex = toHex(topic);
    let state = this.#topics.get(hex);
    if (state) return state;
    state = new TopicState(
      this.store,
      topic,
      this.id,
      (message) => this.#log(`topic ${hex.slice(0, 8)}: ${message}`),
      (match) => this.#gossip.forget(topic, match),
    );
    this.#topics.set(hex, state);
    this.#inbound.feed({ type: 'join', topic });
    this.#log(`topic ${hex.slice(0, 8)}: joined`);
    this.#gossip.join(topic, []);
    this.#multicast?.join(topic);
    this.#discovery.askAll();
    this.emit('topic:alone', { topic: hex });
    return state;
  }

  /** Signs the next operation of this node's log, stores it through the inbound path, then sends it. */
  #publish(state: TopicState, body: Uint8Array, options: PublishOptions = {}): Promise<Hash> {
    if (!(body instanceof Uint8Array)) return Promise.reject(new WalkawayError('INVALID_ARGUMENT', 'publish takes a Uint8Array'));
    const logId = options.log ?? state.logId;
    const tipKey = toHex(logId);
    const latest = this.#ownTips.get(tipKey) ?? this.store.latest(this.privateKey.publicKey, logId);
    const op = signNext(latest, this.privateKey, state, body, options.prune ?? false, this.#runtime.wallMicros(), logId);
    const tip: OwnTip = { header: { seqNum: op.header.seqNum }, hash: op.hash };
    this.#ownTips.set(tipKey, tip);
    return new Promise((resolve, reject) =>
      this.#inbound.ingest('local', state.topic, op, ({ outcome }) => {
        if (outcome.status !== 'inserted') {
          // The store is the truth again: the next publish reads the log's latest entry there.
          this.#ownTips.delete(tipKey);
          return reject(ownRejection(outcome));
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
}
