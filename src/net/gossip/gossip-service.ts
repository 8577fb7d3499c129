/**
 * Drives one gossip overlay per topic (HyParView + PlumTree machines) over a
 * libp2p host: one protocol, one outbound stream per peer shared by every
 * topic, length-prefixed CBOR frames. Timers are real timers; time is the
 * monotonic clock. Peers are hex Ed25519 public keys (= libp2p peer ids).
 */
import type { Connection, Stream } from '@libp2p/interface';
import type { Libp2p } from 'libp2p';
import { toHex, WalkawayError } from '../../core/index.ts';
import { encodeFrames, FrameDecoder } from '../../sync/index.ts';
import type { AddressBook } from '../address-book.ts';
import { Overlay, type OverlayConfig, type OverlayEvent, type OverlayInput, type OverlayMessage, type OverlayOutput } from '../overlay/index.ts';
import { protocolId } from '../transport/host.ts';
import { peerIdOfPublicKey, publicKeyOfPeer } from '../transport/peer-ids.ts';
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

export interface GossipServiceOptions {
  host: Libp2p;
  networkId: Uint8Array;
  book: AddressBook;
  /** Seed of the machines' random source (a real node passes fresh randomness). */
  seed: number;
  config?: Partial<{ hyparview: Partial<OverlayConfig['hyparview']>; plumtree: Partial<OverlayConfig['plumtree']> }>;
  onEvent: (topic: Uint8Array, event: OverlayEvent<string>) => void;
  /**
   * Checks a payload on first receipt, before the tree caches, forwards or
   * delivers it (the node decodes it and verifies the signature).
   */
  validate?: (topic: Uint8Array, payload: Uint8Array) => boolean;
  /** Misbehaviour scores; shared with the host's connection gater so a banned peer stays out. */
  penalties?: Penalties;
  log?: (message: string) => void;
}

interface TopicOverlay {
  topic: Uint8Array;
  overlay: Overlay<string>;
  timers: Set<NodeJS.Timeout>;
}

interface Outbound {
  stream?: Stream;
  opening: boolean;
  /** A flush is scheduled: frames queued in one tick go out as one write. */
  scheduled: boolean;
  queue: Uint8Array[];
  bytes: number;
}

export class GossipService {
  readonly protocol: string;
  readonly self: string;
  readonly #o: GossipServiceOptions;
  #overlays = new Map<string, TopicOverlay>();
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

  constructor(options: GossipServiceOptions) {
    this.#o = options;
    this.protocol = protocolId(options.networkId, 'gossip');
    this.self = publicKeyOfPeer(options.host.peerId)!;
    this.penalties = options.penalties ?? new Penalties();
    this.#guard = new PeerGuard(this.self, this.penalties);
  }

  async start(): Promise<void> {
    await this.#o.host.handle(this.protocol, (stream, connection) => this.#inbound(stream, connection), {
      runOnLimitedConnection: true,
      maxInboundStreams: 64,
    });
    this.#o.host.addEventListener('peer:connect', (event) => {
      const peer = publicKeyOfPeer(event.detail);
      if (peer) this.#unreachable.delete(peer);
    });
    this.#o.host.addEventListener('peer:disconnect', (event) => {
      const peer = publicKeyOfPeer(event.detail);
      if (peer) this.#peerDown(peer);
    });
  }

  stop(): void {
    this.#stopped = true;
    for (const key of [...this.#overlays.keys()]) this.#drop(key);
    for (const peer of [...this.#out.keys()]) this.#dropOutbound(peer, new Error('gossip stopped'));
  }

  has(topic: Uint8Array): boolean {
    return this.#overlays.has(toHex(topic));
  }

  /** Joins (or re-joins through more peers) the overlay of `topic`. */
  join(topic: Uint8Array, peers: string[]): void {
    const key = toHex(topic);
    let entry = this.#overlays.get(key);
    if (!entry) {
      const seed = (this.#o.seed ^ hashSeed(key)) >>> 0;
      const validate = this.#o.validate;
      const overlay = new Overlay<string>(this.self, seed, this.#o.config, validate && ((payload) => validate(topic, payload)));
      entry = { topic, overlay, timers: new Set() };
      this.#overlays.set(key, entry);
    }
    const known = peers.filter((p) => p !== this.self);
    this.#run(entry, { type: 'command', command: { type: 'join', peers: known } });
  }

  leave(topic: Uint8Array): void {
    const key = toHex(topic);
    const entry = this.#overlays.get(key);
    if (!entry) return;
    this.#run(entry, { type: 'command', command: { type: 'leave' } });
    this.#drop(key);
  }

  /** Broadcasts `payload`; throws TOO_LARGE over the gossip limit. Returns the message id. */
  publish(topic: Uint8Array, payload: Uint8Array): string {
    const entry = this.#overlays.get(toHex(topic));
    if (!entry) throw new WalkawayError('INVALID_ARGUMENT', 'publish to a topic that was not joined');
    const id = `${this.self.slice(0, 16)}:${Date.now().toString(36)}:${(this.#seq++).toString(36)}`;
    this.#run(entry, { type: 'command', command: { type: 'publish', payload, id } });
    return id;
  }

  stats(topic: Uint8Array): Record<string, number> | undefined {
    const entry = this.#overlays.get(toHex(topic));
    return entry ? { ...entry.overlay.broadcast.stats } : undefined;
  }

  /** Sizes of every structure the network fills, for memory checks (see docs/design-notes.md). */
  sizes(): { outboundPeers: number; outboundFrames: number; outboundBytes: number; unreachable: number; penalised: number; banned: number; bans: number } {
    let frames = 0;
    for (const out of this.#out.values()) frames += out.queue.length;
    const { tracked, banned } = this.penalties.sizes(performance.now());
    return { outboundPeers: this.#out.size, outboundFrames: frames, outboundBytes: this.#queuedBytes, unreachable: this.#unreachable.size, penalised: tracked, banned, bans: this.penalties.banCount };
  }

  /** The broadcast tree's cache sizes of a topic. */
  overlaySizes(topic: Uint8Array): ReturnType<Overlay<string>['broadcast']['memory']> | undefined {
    return this.#overlays.get(toHex(topic))?.overlay.broadcast.memory();
  }

  isBanned(peer: string): boolean {
    return !this.#guard.admits(peer, performance.now());
  }

  views(topic: Uint8Array): { active: string[]; passive: string[] } {
    const entry = this.#overlays.get(toHex(topic));
    return { active: [...(entry?.overlay.activeView() ?? [])], passive: [...(entry?.overlay.passiveView() ?? [])] };
  }

  #drop(key: string): void {
    const entry = this.#overlays.get(key);
    if (!entry) return;
    for (const t of entry.timers) clearTimeout(t);
    this.#overlays.delete(key);
  }

  #run(entry: TopicOverlay, input: OverlayInput<string>): void {
    if (this.#stopped) return;
    // Only publish may throw (a typed TOO_LARGE); it propagates to the caller.
    const outputs = entry.overlay.handle(input, performance.now());
    this.#apply(entry, outputs);
  }

  #apply(entry: TopicOverlay, outputs: OverlayOutput<string>[]): void {
    for (const out of outputs) {
      switch (out.type) {
        case 'send':
          this.#send(entry, out.to, out.message);
          break;
        case 'connect':
          this.#connect(entry, out.peer);
          break;
        case 'disconnect':
          break; // the connection may serve other topics; HyParView told the peer itself
        case 'set-timer': {
          const timer = setTimeout(() => {
            entry.timers.delete(timer);
            if (this.#overlays.get(toHex(entry.topic)) === entry) this.#run(entry, { type: 'timer', timer: out.timer });
          }, out.delayMs);
          timer.unref();
          entry.timers.add(timer);
          break;
        }
        case 'emit': {
          const banned = this.#guard.review(out.event, performance.now());
          if (banned !== undefined) this.#ban(banned, out.event.type);
          this.#o.onEvent(entry.topic, out.event);
          break;
        }
      }
    }
  }

  /** Messages sent, by type (gossip, ihave, graft, prune, join, ...). */
  readonly sent: Record<string, number> = {};

  #send(entry: TopicOverlay, peer: string, message: OverlayMessage<string>): void {
    this.sent[message.type] = (this.sent[message.type] ?? 0) + 1;
    const named = peersNamedIn(message).filter((p) => p !== peer);
    if (named.length > 0) {
      const peers: [string, string[]][] = named.map((p) => [p, p === this.self ? this.#ownAddresses() : this.#o.book.get(p)]);
      this.#write(peer, { kind: 'addresses', peers });
    }
    this.#write(peer, { kind: 'overlay', topic: entry.topic, message });
  }

  #write(peer: string, frame: GossipFrame): void {
    if (this.#isBackingOff(peer) || this.isBanned(peer)) return;
    let out = this.#out.get(peer);
    if (!out) this.#out.set(peer, (out = { opening: false, scheduled: false, queue: [], bytes: 0 }));
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
    setImmediate(() => {
      out.scheduled = false;
      this.#flush(peer, out);
    });
  }

  async #open(peer: string, out: Outbound): Promise<void> {
    out.opening = true;
    try {
      const stream = await this.#o.host.dialProtocol(peerIdOfPublicKey(peer), this.protocol, { runOnLimitedConnection: true });
      out.stream = stream;
      this.#unreachable.delete(peer);
      stream.addEventListener('close', () => {
        if (this.#out.get(peer) === out) this.#dropOutbound(peer);
      });
      this.#flush(peer, out);
    } catch (err) {
      this.#o.log?.(`gossip: cannot reach ${peer.slice(0, 8)}: ${(err as Error).message}`);
      if (this.#out.get(peer) === out) this.#dropOutbound(peer);
      this.#failed(peer);
    } finally {
      out.opening = false;
    }
  }

  #flush(peer: string, out: Outbound): void {
    const stream = out.stream!;
    if (out.queue.length === 0 || stream.writableNeedsDrain) return;
    const frames = encodeFrames(out.queue);
    out.queue = [];
    this.#queuedBytes -= out.bytes;
    out.bytes = 0;
    try {
      if (!stream.send(frames)) stream.onDrain().then(() => this.#flush(peer, out), () => {});
    } catch {
      if (this.#out.get(peer) === out) this.#dropOutbound(peer);
      this.#peerDown(peer);
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
    if (reason) out.stream?.abort(reason);
  }

  /** Adds an offence to a peer's score; over the threshold, bans it. */
  #offend(peer: string, offence: Offence): void {
    if (this.#guard.offend(peer, offence, performance.now())) this.#ban(peer, offence);
  }

  /** Hangs up on a peer just banned and takes it out of every view. */
  #ban(peer: string, why: string): void {
    this.#o.log?.(`gossip: ${peer.slice(0, 8)} banned (${why})`);
    this.#dropOutbound(peer, new Error('banned'));
    this.#peerDown(peer);
    try {
      // Abort, not a graceful close: a graceful one waits for the peer's streams to end.
      for (const connection of this.#o.host.getConnections(peerIdOfPublicKey(peer))) connection.abort(new Error('banned'));
    } catch {
      // not a valid peer id: nothing to hang up
    }
  }

  #connect(entry: TopicOverlay, peer: string): void {
    const peerId = (() => {
      try {
        return peerIdOfPublicKey(peer);
      } catch {
        return undefined;
      }
    })();
    if (!peerId || this.isBanned(peer)) return this.#run(entry, { type: 'peer-down', peer });
    if (this.#o.host.getConnections(peerId).length > 0 || this.#isBackingOff(peer)) return;
    this.#o.host.dial(peerId).then(
      () => this.#unreachable.delete(peer),
      () => this.#failed(peer),
    );
  }

  #isBackingOff(peer: string): boolean {
    const state = this.#unreachable.get(peer);
    return state !== undefined && performance.now() < state.until;
  }

  /** A dial failed: tell the overlays once, then drop frames to the peer for a while. */
  #failed(peer: string): void {
    if (this.#isBackingOff(peer)) return;
    const attempts = (this.#unreachable.get(peer)?.attempts ?? 0) + 1;
    const delay = Math.min(30_000, 500 * 2 ** Math.min(attempts - 1, 6));
    const now = performance.now();
    this.#unreachable.delete(peer); // re-inserted last: the map stays in order of `until`, give or take the backoff
    this.#unreachable.set(peer, { until: now + delay, attempts });
    for (const [old, state] of this.#unreachable) {
      if (this.#unreachable.size <= MAX_UNREACHABLE && now - state.until < UNREACHABLE_FORGET_MS) break;
      this.#unreachable.delete(old);
    }
    this.#peerDown(peer);
  }

  #peerDown(peer: string): void {
    for (const entry of [...this.#overlays.values()]) this.#run(entry, { type: 'peer-down', peer });
  }

  #ownAddresses(): string[] {
    return this.#o.host.getMultiaddrs().map((a) => a.toString());
  }

  #inbound(stream: Stream, connection: Connection): void {
    const from = publicKeyOfPeer(connection.remotePeer);
    if (!from) return stream.abort(new Error('peer id is not an Ed25519 key'));
    if (this.isBanned(from)) return stream.abort(new Error('banned'));
    const decoder = new FrameDecoder(MAX_FRAME_BYTES);
    void (async () => {
      try {
        for await (const chunk of stream) {
          if (this.isBanned(from)) return stream.abort(new Error('banned'));
          let frames: Uint8Array[];
          try {
            frames = decoder.push(chunk instanceof Uint8Array ? chunk : chunk.subarray());
          } catch (err) {
            // Over the frame limit (or a broken length prefix): the stream cannot be read on.
            this.#offend(from, 'oversized');
            throw err;
          }
          for (const frame of frames) this.#receive(from, frame);
        }
      } catch (err) {
        this.#o.log?.(`gossip: stream from ${from.slice(0, 8)} ended: ${(err as Error).message}`);
        stream.abort(err as Error);
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
      this.#o.book.learn(from, frame.peers);
      return;
    }
    // A topic we have not joined is not answered at all: nothing is revealed.
    const entry = this.#overlays.get(toHex(frame.topic));
    if (!entry) return;
    const strangers = entry.overlay.broadcast.stats.strangers;
    this.#run(entry, { type: 'recv', from, message: frame.message });
    if (frame.message.type === 'gossip') this.#o.log?.(`gossip: broadcast from ${from.slice(0, 8)} on topic ${toHex(entry.topic).slice(0, 8)}, hop ${frame.message.hop}; so far ${entry.overlay.broadcast.stats.delivered} delivered, ${entry.overlay.broadcast.stats.duplicates} duplicates, ${this.sent.gossip ?? 0} gossip sent`);
    if (entry.overlay.broadcast.stats.strangers > strangers) this.#offend(from, 'stranger');
  }
}

function hashSeed(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}
