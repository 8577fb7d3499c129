/**
 * The transport over a libp2p host (host.ts): streams are libp2p streams as
 * Duplexes, peers are the Ed25519 keys of libp2p peer ids.
 *
 * Learned addresses reach libp2p only when it dials a peer (the address
 * source), and libp2p's peer store is swept now and then of the peers that
 * entered it that way or through discovery and have no connection, so that
 * hearsay never accumulates there. Peers libp2p added itself (a relay and
 * its reservation, identified connections) are left to libp2p's own expiry
 * (10 min for addresses, 1 h for peers).
 */
import type { Duplex } from 'node:stream';
import type { PeerId } from '@libp2p/interface';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import type { Libp2p } from 'libp2p';
import { every, realRuntime, WalkawayError, type Runtime } from '../../core/index.ts';
import { createHost, setAddressSource, type HostOptions } from './host.ts';
import { peerIdOfPublicKey, publicKeyOfPeer } from './peer-ids.ts';
import { streamToDuplex } from './stream-duplex.ts';
import { TransportListeners, type HandleOptions, type Transport, type TransportEvent, type TransportEvents } from './transport.ts';

/** How often libp2p's peer store is swept of peers without a connection. */
const SWEEP_MS = 10_000;
/** Peers discovered (mDNS) between sweeps before one is run early. */
const SWEEP_AFTER_DISCOVERIES = 64;
/** Peers tracked for the sweep (the oldest forgotten first). */
const MAX_TRACKED = 4096;

export class Libp2pTransport implements Transport {
  readonly host: Libp2p;
  readonly self: string;
  readonly peerId: string;
  readonly #listeners = new TransportListeners();
  readonly #log: (message: string) => void;
  #source: (peer: string) => string[] = () => [];
  /** Peers that entered libp2p's peer store through the address source or discovery: what the sweep may remove. */
  #swept = new Set<string>();
  #discovered = 0;
  #sweeping = false;
  #stopped = false;
  #stopSweeps: () => void;

  #refused: (peer: string) => boolean = () => false;
  /** What the sweep's log line adds (the node's address book and dial gate). */
  #sweepNote: () => string = () => '';

  static async create(options: HostOptions, runtime: Runtime = realRuntime(), log: (message: string) => void = () => {}): Promise<Libp2pTransport> {
    let transport: Libp2pTransport | undefined;
    const isBanned = (peer: string) => (transport ? transport.#refused(peer) : false) || (options.isBanned?.(peer) ?? false);
    transport = new Libp2pTransport(await createHost({ ...options, isBanned }), runtime, log);
    return transport;
  }

  constructor(host: Libp2p, runtime: Runtime = realRuntime(), log: (message: string) => void = () => {}) {
    this.host = host;
    this.#log = log;
    this.self = publicKeyOfPeer(host.peerId)!;
    this.peerId = host.peerId.toString();
    setAddressSource(host, (peer) => this.#addressesOf(peer));
    host.addEventListener('peer:connect', (event) => {
      const peer = publicKeyOfPeer(event.detail);
      if (!peer) return;
      const conn = host.getConnections(event.detail)[0];
      this.#listeners.emit('peer:connect', { peer, remoteAddress: conn?.remoteAddr.toString() ?? '' });
    });
    host.addEventListener('peer:disconnect', (event) => {
      const peer = publicKeyOfPeer(event.detail);
      if (peer) this.#listeners.emit('peer:disconnect', { peer });
    });
    host.addEventListener('peer:identify', (event) => {
      const peer = publicKeyOfPeer(event.detail.peerId);
      if (!peer) return;
      const addresses = event.detail.listenAddrs.map((a) => a.toString());
      this.#listeners.emit('peer:identify', { peer, addresses, remoteAddress: event.detail.connection.remoteAddr.toString() });
    });
    host.addEventListener('peer:discovery', (event) => {
      if (++this.#discovered >= SWEEP_AFTER_DISCOVERIES) void this.sweep();
      const { id, multiaddrs } = event.detail;
      this.#track(id.toString());
      const peer = publicKeyOfPeer(id);
      if (peer) this.#listeners.emit('peer:discovery', { peer, addresses: multiaddrs.map((a) => a.toString()) });
    });
    host.addEventListener('connection:open', ({ detail: c }) => log(`connection opened: ${c.remotePeer.toString().slice(-8)} ${c.direction} ${c.remoteAddr.toString()}`));
    host.addEventListener('connection:close', ({ detail: c }) =>
      log(`connection closed: ${c.remotePeer.toString().slice(-8)} ${c.direction} ${c.remoteAddr.toString()}`),
    );
    this.#stopSweeps = every(runtime, SWEEP_MS, () => void this.sweep());
  }

  addresses(): string[] {
    return this.host.getMultiaddrs().map(String);
  }

  peers(): string[] {
    return this.host.getPeers().flatMap((p) => publicKeyOfPeer(p) ?? []);
  }

  isConnected(peer: string): boolean {
    const id = toPeerId(peer);
    return id !== undefined && this.host.getConnections(id).length > 0;
  }

  remoteAddresses(peer: string): string[] {
    const id = toPeerId(peer);
    if (!id) return [];
    return this.host
      .getConnections(id)
      .filter((c) => c.status === 'open')
      .map((c) => c.remoteAddr.toString());
  }

  async handle(protocol: string, handler: (stream: Duplex, peer: string) => void, options: HandleOptions): Promise<void> {
    await this.host.handle(
      protocol,
      (stream, connection) => {
        const peer = publicKeyOfPeer(connection.remotePeer);
        if (!peer) return stream.abort(new Error('peer id is not an Ed25519 key'));
        handler(streamToDuplex(stream), peer);
      },
      { runOnLimitedConnection: true, maxInboundStreams: options.maxInboundStreams },
    );
  }

  async open(peer: string, protocol: string): Promise<Duplex> {
    const stream = await this.host.dialProtocol(peerIdOfPublicKey(peer), protocol, { runOnLimitedConnection: true });
    return streamToDuplex(stream);
  }

  async dial(peer: string, addresses?: string[]): Promise<void> {
    if (addresses) {
      const targets = toMultiaddrs(addresses);
      if (targets.length === 0) throw new Error('no dialable address');
      await this.host.dial(targets);
      return;
    }
    await this.host.dial(peerIdOfPublicKey(peer));
  }

  async dialAddress(address: string): Promise<void> {
    let target: Multiaddr;
    try {
      target = multiaddr(address);
    } catch {
      throw new WalkawayError('INVALID_ARGUMENT', `${address} is not a multiaddr`);
    }
    await this.host.dial(target);
  }

  hangUp(peer: string, reason: Error): void {
    const id = toPeerId(peer);
    // Abort, not a graceful close: a graceful one waits for the peer's streams to end.
    if (id) for (const connection of this.host.getConnections(id)) connection.abort(reason);
  }

  /** Adds the node's own figures to the sweep's log line. */
  setSweepNote(note: () => string): void {
    this.#sweepNote = note;
  }

  /** Effective for hosts made by `Libp2pTransport.create` (the host's connection gater asks). */
  setRefusal(refused: (peer: string) => boolean): void {
    this.#refused = refused;
  }

  setAddressSource(source: (peer: string) => string[]): void {
    this.#source = source;
  }

  on<E extends TransportEvent>(event: E, listener: (detail: TransportEvents[E]) => void): void {
    this.#listeners.on(event, listener);
  }

  off<E extends TransportEvent>(event: E, listener: (detail: TransportEvents[E]) => void): void {
    this.#listeners.off(event, listener);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#stopSweeps();
    this.#listeners.clear();
    await this.host.stop();
  }

  /**
   * Removes from libp2p's peer store the peers that came in through the
   * address source or discovery and have no connection (nor tag): their
   * addresses stay in the address book (verified ones) or are gone
   * (hearsay), and libp2p asks the source again when it dials them.
   */
  async sweep(): Promise<void> {
    if (this.#sweeping || this.#stopped) return;
    this.#sweeping = true;
    this.#discovered = 0;
    try {
      const peers = await this.host.peerStore.all();
      let removed = 0;
      for (const p of peers) {
        const key = p.id.toString();
        if (!this.#swept.has(key) || p.tags.size > 0 || this.host.getConnections(p.id).length > 0) continue;
        this.#swept.delete(key);
        await this.host.peerStore.delete(p.id).catch(() => {});
        removed++;
      }
      const note = this.#sweepNote();
      this.#log(`peer store: ${peers.length - removed} peers (${removed} swept)${note ? `; ${note}` : ''}`);
    } catch (err) {
      this.#log(`peer store sweep failed: ${(err as Error).message}`);
    } finally {
      this.#sweeping = false;
    }
  }

  #addressesOf(peer: string): Multiaddr[] {
    if (this.#stopped) return [];
    const chosen = toMultiaddrs(this.#source(peer));
    if (chosen.length > 0) {
      const id = toPeerId(peer);
      if (id) this.#track(id.toString());
    }
    return chosen;
  }

  #track(peerId: string): void {
    this.#swept.add(peerId);
    while (this.#swept.size > MAX_TRACKED) this.#swept.delete(this.#swept.values().next().value!);
  }
}

function toPeerId(peer: string): PeerId | undefined {
  try {
    return peerIdOfPublicKey(peer);
  } catch {
    return undefined;
  }
}

function toMultiaddrs(addresses: string[]): Multiaddr[] {
  return addresses.flatMap((a) => {
    try {
      return [multiaddr(a)];
    } catch {
      return [];
    }
  });
}
