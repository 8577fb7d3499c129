/**
 * A node's transport on a `MemoryNetwork` (memory-network.ts): the same
 * seam as the libp2p transport, for tests and the simulator.
 */
import type { Duplex } from 'node:stream';
import { peerIdOfPublicKey } from './peer-ids.ts';
import type { Link, MemoryNetwork } from './memory-network.ts';
import type { MemoryStreamEnd } from './memory-stream.ts';
import { TransportListeners, type HandleOptions, type Transport, type TransportEvent, type TransportEvents } from './transport.ts';

const ADDRESS_PREFIX = '/memory/';

export class MemoryTransport implements Transport {
  readonly self: string;
  readonly peerId: string;
  readonly #net: MemoryNetwork;
  readonly #listeners = new TransportListeners();
  readonly #handlers = new Map<string, { handler: (stream: Duplex, peer: string) => void; options: HandleOptions }>();
  readonly #links = new Map<string, Link>();
  /** Inbound streams open, by `${peer} ${protocol}`. */
  readonly #inbound = new Map<string, number>();
  #refused: (peer: string) => boolean = () => false;
  running = true;

  constructor(net: MemoryNetwork, self: string) {
    this.#net = net;
    this.self = self;
    this.peerId = peerIdOfPublicKey(self).toString();
  }

  addresses(): string[] {
    return [`${ADDRESS_PREFIX}${this.self}`];
  }

  peers(): string[] {
    return [...this.#links.keys()];
  }

  isConnected(peer: string): boolean {
    return this.#links.has(peer);
  }

  remoteAddresses(peer: string): string[] {
    return this.#links.has(peer) ? [`${ADDRESS_PREFIX}${peer}`] : [];
  }

  async handle(protocol: string, handler: (stream: Duplex, peer: string) => void, options: HandleOptions): Promise<void> {
    this.#handlers.set(protocol, { handler, options });
  }

  async open(peer: string, protocol: string): Promise<Duplex> {
    if (!this.running) throw new Error('transport stopped');
    if (peer === this.self) throw new Error('cannot open a stream to self');
    return this.#net.openStream(this.self, peer, protocol);
  }

  async dial(peer: string): Promise<void> {
    if (!this.running) throw new Error('transport stopped');
    if (peer === this.self) throw new Error('cannot dial self');
    await this.#net.connect(this.self, peer);
  }

  async dialAddress(address: string): Promise<void> {
    if (!address.startsWith(ADDRESS_PREFIX)) throw new Error(`not a memory address: ${address}`);
    await this.dial(address.slice(ADDRESS_PREFIX.length));
  }

  hangUp(peer: string, _reason: Error): void {
    const link = this.#links.get(peer);
    if (link) this.#net.reset(link, this.#net.latency(this.self, peer), this.self);
  }

  setAddressSource(_source: (peer: string) => string[]): void {
    // The network is the address book: every peer is reachable by id.
  }

  setRefusal(refused: (peer: string) => boolean): void {
    this.#refused = refused;
  }

  on<E extends TransportEvent>(event: E, listener: (detail: TransportEvents[E]) => void): void {
    this.#listeners.on(event, listener);
  }

  off<E extends TransportEvent>(event: E, listener: (detail: TransportEvents[E]) => void): void {
    this.#listeners.off(event, listener);
  }

  /** A crash or a shutdown: every connection resets (the peers notice one latency later). */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.#listeners.clear();
    for (const link of [...this.#links.values()]) this.#net.reset(link, this.#net.latency(link.a, link.b), this.self);
  }

  /** @internal The gater: is this peer refused (banned) now? */
  refuses(peer: string): boolean {
    return this.#refused(peer);
  }

  /** @internal A connection to `peer` came up. */
  connected(peer: string, link: Link): void {
    this.#links.set(peer, link);
    this.#listeners.emit('peer:connect', { peer, remoteAddress: `${ADDRESS_PREFIX}${peer}` });
  }

  /** @internal The connection to `peer` went down. */
  disconnected(peer: string, link: Link): void {
    if (this.#links.get(peer) !== link) return;
    this.#links.delete(peer);
    this.#listeners.emit('peer:disconnect', { peer });
  }

  /** @internal An inbound stream: handed to the protocol's handler, or a reason to refuse it. */
  accept(protocol: string, peer: string, stream: MemoryStreamEnd): string | undefined {
    const entry = this.#handlers.get(protocol);
    if (!entry) return 'protocol not supported';
    if (this.#refused(peer)) return 'refused';
    const key = `${peer} ${protocol}`;
    const open = this.#inbound.get(key) ?? 0;
    if (open >= entry.options.maxInboundStreams) return 'too many inbound streams';
    this.#inbound.set(key, open + 1);
    stream.once('close', () => {
      const left = (this.#inbound.get(key) ?? 1) - 1;
      if (left > 0) this.#inbound.set(key, left);
      else this.#inbound.delete(key);
    });
    entry.handler(stream, peer);
    return undefined;
  }
}
