/**
 * Drives the topic overlays (`TopicOverlays`: one HyParView + PlumTree
 * overlay per topic, connections counted across topics) over a `Transport`:
 * one protocol, one outbound stream per peer shared by every topic,
 * length-prefixed CBOR frames. Time and timers come from a `Runtime` (the
 * process's clock, or the simulator's virtual one). Peers are hex Ed25519
 * public keys.
 */
import type { Duplex } from 'node:stream';
import { realRuntime, toHex, WalkawayError, type Runtime, type TimerHandle } from '../../core/index.ts';
import { encodeFrames, FrameDecoder } from '../../sync/index.ts';
import type { AddressBook } from '../address-book.ts';
import type { OverlayConfig, OverlayEvent, OverlayMessage } from '../overlay/overlay.ts';
import { TopicOverlays, type TopicOverlaysInput, type TopicOverlaysOutput } from '../overlay/topic-overlays.ts';
import { protocolId } from '../transport/protocol.ts';
import type { Transport } from '../transport/transport.ts';
import { Penalties, type Offence } from './penalties.ts';
import { PeerGuard } from './peer-guard.ts';
import { decodeGossipFrame, encodeGossipFrame, peersNamedIn, type GossipFrame } from './wire.ts';

/** Frames are bounded: a gossip message (16 KiB by default) plus its envelope. */
const MAX_FRAME_BYTES = 64 * 1024;
/** Frames queued for one slow or unreachable peer before new ones are dropped. */
const MAX_QUEUED_FRAMES = 4096;
/** Bytes queued for one peer: 4096 full-size frames would be 64 MiB; 4 MiB is seconds of any link. */
const MAX_QUEUED_BYTES = 4 * 1024 * 1024;
/** Bytes queued for all peers together: a node with many slow peers stays bounded too. */
const MAX_QUEUED_BYTES_TOTAL = 32 * 1024 * 1024;
/** Unreachable peers remembered (dial backoff), and how long after the backoff ends. */
const MAX_UNREACHABLE = 4096;
const UNREACHABLE_FORGET_MS = 10 * 60_000;
const PEER_KEY = /^[0-9a-f]{64}$/;

export interface GossipServiceOptions {
  transport: Transport;
  networkId: Uint8Array;
  book: AddressBook;
  /** Seed of the machines' random source (a real node passes fresh randomness). */
  seed: number;
  /** Default: the process's clock and timers. */
  runtime?: Runtime;
  config?: Partial<{ hyparview: Partial<OverlayConfig['hyparview']>; plumtree: Partial<OverlayConfig['plumtree']> }>;
  onEvent: (topic: Uint8Array, event: OverlayEvent<string>) => void;
  /**
   * Checks a payload on first receipt, before the tree caches, forwards or
   * delivers it (the node decodes it and verifies the signature).
   */
  validate?: (topic: Uint8Array, payload: Uint8Array) => boolean;
  /**
   * May this topic's messages go to and come from this peer (a private
   * topic's access policy)? Default: yes. A peer without access is treated
   * as one that has not joined the topic: nothing is sent to it, what it
   * sends is not answered.
   */
  mayExchange?: (topic: Uint8Array, peer: string) => boolean;
  /** Misbehaviour scores; shared with the host's connection gater so a banned peer stays out. */
  penalties?: Penalties;
  log?: (message: string) => void;
}

interface Outbound {
  stream?: Duplex;
  opening: boolean;
  /** A flush is scheduled: frames queued in one tick go out as one write. */
  scheduled: boolean;
  /** Waiting for the stream's 'drain'. */
  draining: boolean;
  queue: Uint8Array[];
  bytes: number;
}

export class GossipService {
  readonly protocol: string;
  readonly self: string;
  readonly #o: GossipServiceOptions;
  readonly #transport: Transport;
  readonly #runtime: Runtime;
  readonly #overlays: TopicOverlays<string>;
  /** Topics joined (hex), and the timers each overlay set. */
  #topics = new Map<string, { topic: Uint8Array; timers: Set<TimerHandle> }>();
  #out = new Map<string, Outbound>();
  #stopped = false;
  #seq = 0;
  #queuedBytes = 0;
  readonly penalties: Penalties;
  /** The offence rules and bans, shared with the simulator (sim/network.ts). */
  readonly #guard: PeerGuard;
  /**
   * Peers whose dial failed, and until when frames to them are dropped. The
   * overlay hears of a failure once; its own timers pace any retry. Without
   * this, a dead peer that is the only contact is redialled in a hot loop.
   */
  #unreachable = new Map<string, { until: number; attempts: number }>();
  /** Messages sent, by type (gossip, ihave, graft, prune, join, ...). */
  readonly sent: Record<string, number> = {};

  constructor(options: GossipServiceOptions) {
    this.#o = options;
    this.#transport = options.transport;
    this.#runtime = options.runtime ?? realRuntime();
    this.protocol = protocolId(options.networkId, 'gossip');
    this.self = options.transport.self;
    this.penalties = options.penalties ?? new Penalties();
    this.#guard = new PeerGuard(this.self, this.penalties);
    const validate = options.validate;
    this.#overlays = new TopicOverlays<string>(this.self, options.seed, options.config, validate && ((key, payload) => validate(this.#topics.get(key)!.topic, payload)));
  }

  async start(): Promise<void> {
    await this.#transport.handle(this.protocol, (stream, peer) => this.#inbound(stream, peer), { maxInboundStreams: 64 });
    this.#transport.on('peer:connect', ({ peer }) => this.#unreachable.delete(peer));
    this.#transport.on('peer:disconnect', ({ peer }) => this.#peerDown(peer));
  }

  stop(): void {
    for (const key of [...this.#topics.keys()]) this.#dropTimers(key);
    this.#stopped = true;
    for (const peer of [...this.#out.keys()]) this.#dropOutbound(peer, new Error('gossip stopped'));
  }

  has(topic: Uint8Array): boolean {
    return this.#topics.has(toHex(topic));
  }

  /** Joins (or re-joins through more peers) the overlay of `topic`. */
  join(topic: Uint8Array, peers: string[]): void {
    const key = toHex(topic);
    if (!this.#topics.has(key)) this.#topics.set(key, { topic, timers: new Set() });
    this.#run({ type: 'command', topic: key, command: { type: 'join', peers: peers.filter((p) => p !== this.self) } });
  }

  leave(topic: Uint8Array): void {
    const key = toHex(topic);
    if (!this.#topics.has(key)) return;
    this.#run({ type: 'command', topic: key, command: { type: 'leave' } });
    this.#dropTimers(key);
    this.#topics.delete(key);
  }

  /** Broadcasts `payload`; throws TOO_LARGE over the gossip limit. Returns the message id. */
  publish(topic: Uint8Array, payload: Uint8Array): string {
    const key = toHex(topic);
    if (!this.#topics.has(key)) throw new WalkawayError('INVALID_ARGUMENT', 'publish to a topic that was not joined');
    const id = `${this.self.slice(0, 16)}:${Math.floor(this.#runtime.wallMicros() / 1000).toString(36)}:${(this.#seq++).toString(36)}`;
    this.#run({ type: 'command', topic: key, command: { type: 'publish', payload, id } });
    return id;
  }

  /** Drops the topic's cached payloads that `match` picks (see PlumTree.forget); how many. */
  forget(topic: Uint8Array, match: (payload: Uint8Array) => boolean): number {
    return this.#overlays.overlay(toHex(topic))?.broadcast.forget(match) ?? 0;
  }

  stats(topic: Uint8Array): Record<string, number> | undefined {
    const overlay = this.#overlays.overlay(toHex(topic));
    return overlay ? { ...overlay.broadcast.stats } : undefined;
  }

  /** Sizes of every structure the network fills, for memory checks (see docs/design-notes.md). */
  sizes(): { outboundPeers: number; outboundFrames: number; outboundBytes: number; unreachable: number; penalised: number; banned: number; bans: number } {
    let frames = 0;
    for (const out of this.#out.values()) frames += out.queue.length;
    const { tracked, banned } = this.penalties.sizes(this.#runtime.now());
    return {
      outboundPeers: this.#out.size,
      outboundFrames: frames,
      outboundBytes: this.#queuedBytes,
      unreachable: this.#unreachable.size,
      penalised: tracked,
      banned,
      bans: this.penalties.banCount,
    };
  }

  /** The broadcast tree's cache sizes of a topic. */
  overlaySizes(topic: Uint8Array) {
    return this.#overlays.overlay(toHex(topic))?.broadcast.memory();
  }

  isBanned(peer: string): boolean {
    return !this.#guard.admits(peer, this.#runtime.now());
  }

  views(topic: Uint8Array): { active: string[]; passive: string[] } {
    const overlay = this.#overlays.overlay(toHex(topic));
    return { active: [...(overlay?.activeView() ?? [])], passive: [...(overlay?.passiveView() ?? [])] };
  }

  #dropTimers(key: string): void {
    const entry = this.#topics.get(key);
    if (!entry) return;
    for (const t of entry.timers) this.#runtime.clearTimer(t);
    entry.timers.clear();
  }

  #run(input: TopicOverlaysInput<string>): void {
    if (this.#stopped) return;
    // Only publish may throw (a typed TOO_LARGE); it propagates to the caller.
    this.#apply(this.#overlays.handle(input, this.#runtime.now()));
  }

  #apply(outputs: TopicOverlaysOutput<string>[]): void {
    // Events last: a delivery's handler stores the operation (and may wait on
    // the disk); the forwards of the same input are queued before it runs.
    for (const out of outputs) if (out.type !== 'emit') this.#applyOne(out);
    for (const out of outputs) if (out.type === 'emit') this.#applyOne(out);
  }

  #applyOne(out: TopicOverlaysOutput<string>): void {
    switch (out.type) {
      case 'send':
        this.#send(out.topic, out.to, out.message);
        break;
      case 'connect':
        this.#connect(out.peer);
        break;
      case 'disconnect':
        break; // no topic needs the peer now; HyParView told it, and the connection may serve sync
      case 'set-timer': {
        const entry = this.#topics.get(out.topic);
        if (!entry) break;
        const timer = this.#runtime.setTimer(out.delayMs, () => {
          entry.timers.delete(timer);
          if (this.#topics.get(out.topic) === entry) this.#run({ type: 'timer', topic: out.topic, timer: out.timer });
        });
        entry.timers.add(timer);
        break;
      }
      case 'emit': {
        const entry = this.#topics.get(out.topic);
        if (!entry) break;
        const banned = this.#guard.review(out.event, this.#runtime.now());
        if (banned !== undefined) this.#ban(banned, out.event.type);
        this.#o.onEvent(entry.topic, out.event);
        break;
      }
    }
  }

  #send(key: string, peer: string, message: OverlayMessage<string>): void {
    const entry = this.#topics.get(key);
    if (!entry || this.#o.mayExchange?.(entry.topic, peer) === false) return;
    this.sent[message.type] = (this.sent[message.type] ?? 0) + 1;
    const named = peersNamedIn(message).filter((p) => p !== peer);
    if (named.length > 0) {
      const peers: [string, string[]][] = named.map((p) => [p, p === this.self ? this.#transport.addresses() : this.#o.book.get(p)]);
      this.#write(peer, { kind: 'addresses', peers });
    }
    this.#write(peer, { kind: 'overlay', topic: entry.topic, message });
  }

  #write(peer: string, frame: GossipFrame): void {
    if (this.#isBackingOff(peer) || this.isBanned(peer)) return;
    let out = this.#out.get(peer);
    if (!out) this.#out.set(peer, (out = { opening: false, scheduled: false, draining: false, queue: [], bytes: 0 }));
    const bytes = encodeGossipFrame(frame);
    if (out.queue.length >= MAX_QUEUED_FRAMES || out.bytes + bytes.length > MAX_QUEUED_BYTES || this.#queuedBytes + bytes.length > MAX_QUEUED_BYTES_TOTAL) {
      return this.#o.log?.(`gossip: queue to ${peer.slice(0, 8)} full, frame dropped`);
    }
    out.queue.push(bytes);
    out.bytes += bytes.length;
    this.#queuedBytes += bytes.length;
    if (out.stream) this.#scheduleFlush(peer, out);
    else if (!out.opening) void this.#open(peer, out);
  }

  #scheduleFlush(peer: string, out: Outbound): void {
    if (out.scheduled) return;
    out.scheduled = true;
    this.#runtime.setTimer(0, () => {
      out.scheduled = false;
      if (this.#out.get(peer) === out) this.#flush(out);
    });
  }

  async #open(peer: string, out: Outbound): Promise<void> {
    out.opening = true;
    try {
      const stream = await this.#transport.open(peer, this.protocol);
      if (this.#out.get(peer) !== out) return void stream.destroy();
      out.stream = stream;
      this.#unreachable.delete(peer);
      stream.on('error', (err: Error) => this.#o.log?.(`gossip: stream to ${peer.slice(0, 8)} failed: ${err.message}`));
      stream.on('close', () => {
        if (this.#out.get(peer) === out) this.#dropOutbound(peer);
      });
      // Nothing is read on our outbound stream: what the peer sends on it is discarded.
      stream.resume();
      this.#flush(out);
    } catch (err) {
      this.#o.log?.(`gossip: cannot reach ${peer.slice(0, 8)}: ${(err as Error).message}`);
      if (this.#out.get(peer) === out) this.#dropOutbound(peer);
      this.#failed(peer);
    } finally {
      out.opening = false;
    }
  }

  #flush(out: Outbound): void {
    const stream = out.stream!;
    if (out.queue.length === 0 || out.draining || stream.destroyed) return;
    const frames = encodeFrames(out.queue);
    out.queue = [];
    this.#queuedBytes -= out.bytes;
    out.bytes = 0;
    if (!stream.write(frames)) {
      out.draining = true;
      stream.once('drain', () => {
        out.draining = false;
        this.#flush(out);
      });
    }
  }

  /** Forgets a peer's outbound stream and what was queued for it. */
  #dropOutbound(peer: string, reason?: Error): void {
    const out = this.#out.get(peer);
    if (!out) return;
    this.#out.delete(peer);
    this.#queuedBytes -= out.bytes;
    out.queue = [];
    out.bytes = 0;
    if (reason) out.stream?.destroy(reason);
  }

  /** Adds an offence to a peer's score; over the threshold, bans it. */
  #offend(peer: string, offence: Offence): void {
    if (this.#guard.offend(peer, offence, this.#runtime.now())) this.#ban(peer, offence);
  }

  /** Hangs up on a peer just banned and takes it out of every view. */
  #ban(peer: string, why: string): void {
    this.#o.log?.(`gossip: ${peer.slice(0, 8)} banned (${why})`);
    this.#dropOutbound(peer, new Error('banned'));
    this.#peerDown(peer);
    this.#transport.hangUp(peer, new Error('banned'));
  }

  #connect(peer: string): void {
    if (!PEER_KEY.test(peer) || this.isBanned(peer)) return this.#run({ type: 'peer-down', peer });
    if (this.#transport.isConnected(peer) || this.#isBackingOff(peer)) return;
    this.#transport.dial(peer).then(
      () => this.#unreachable.delete(peer),
      () => this.#failed(peer),
    );
  }

  #isBackingOff(peer: string): boolean {
    const state = this.#unreachable.get(peer);
    return state !== undefined && this.#runtime.now() < state.until;
  }

  /** A dial failed: tell the overlays once, then drop frames to the peer for a while. */
  #failed(peer: string): void {
    if (this.#isBackingOff(peer)) return;
    const attempts = (this.#unreachable.get(peer)?.attempts ?? 0) + 1;
    const delay = Math.min(30_000, 500 * 2 ** Math.min(attempts - 1, 6));
    const now = this.#runtime.now();
    this.#unreachable.delete(peer); // re-inserted last: the map stays in order of `until`, give or take the backoff
    this.#unreachable.set(peer, { until: now + delay, attempts });
    for (const [old, state] of this.#unreachable) {
      if (this.#unreachable.size <= MAX_UNREACHABLE && now - state.until < UNREACHABLE_FORGET_MS) break;
      this.#unreachable.delete(old);
    }
    this.#peerDown(peer);
  }

  #peerDown(peer: string): void {
    this.#run({ type: 'peer-down', peer });
  }

  #inbound(stream: Duplex, from: string): void {
    if (this.isBanned(from)) return void stream.destroy(new Error('banned'));
    const decoder = new FrameDecoder(MAX_FRAME_BYTES);
    void (async () => {
      try {
        for await (const chunk of stream) {
          if (this.isBanned(from)) return void stream.destroy(new Error('banned'));
          let frames: Uint8Array[];
          try {
            frames = decoder.push(chunk as Uint8Array);
          } catch (err) {
            // Over the frame limit (or a broken length prefix): the stream cannot be read on.
            this.#offend(from, 'oversized');
            throw err;
          }
          for (const frame of frames) this.#receive(from, frame);
        }
      } catch (err) {
        this.#o.log?.(`gossip: stream from ${from.slice(0, 8)} ended: ${(err as Error).message}`);
        stream.destroy(err as Error);
      }
    })();
  }

  #receive(from: string, bytes: Uint8Array): void {
    if (this.isBanned(from)) return;
    let frame: GossipFrame;
    try {
      frame = decodeGossipFrame(bytes);
    } catch (err) {
      this.#o.log?.(`gossip: dropped a frame from ${from.slice(0, 8)}: ${(err as Error).message}`);
      this.#offend(from, 'malformed');
      return;
    }
    if (frame.kind === 'addresses') {
      this.#o.book.learn(from, frame.peers, Math.floor(this.#runtime.wallMicros() / 1000));
      return;
    }
    // A topic we have not joined is not answered at all: nothing is revealed.
    const key = toHex(frame.topic);
    const overlay = this.#overlays.overlay(key);
    if (!overlay || !this.#topics.has(key) || this.#o.mayExchange?.(frame.topic, from) === false) return;
    const strangers = overlay.broadcast.stats.strangers;
    this.#run({ type: 'recv', from, topic: key, message: frame.message });
    if (frame.message.type === 'gossip')
      this.#o.log?.(
        `gossip: broadcast from ${from.slice(0, 8)} on topic ${key.slice(0, 8)}, hop ${frame.message.hop}; so far ${overlay.broadcast.stats.delivered} delivered, ${overlay.broadcast.stats.duplicates} duplicates, ${this.sent.gossip ?? 0} gossip sent`,
      );
    if (overlay.broadcast.stats.strangers > strangers) this.#offend(from, 'stranger');
  }
}
