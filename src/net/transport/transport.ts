/**
 * The transport seam: what the net drivers (gossip, sync, topic discovery,
 * connections) need from the network, and nothing of libp2p. Two
 * implementations: `Libp2pTransport` (TCP, WebSockets, relays, Noise, yamux:
 * libp2p-transport.ts) and `MemoryTransport` over a `MemoryNetwork`
 * (memory-transport.ts: latency, loss, partitions and crashes on a
 * `Runtime`'s clock, which the simulator makes virtual).
 *
 * Peers are hex Ed25519 public keys. Streams are Node `Duplex`es of bytes,
 * reliable and ordered; backpressure is the Duplex's (`write` returns false,
 * then 'drain'). `destroy(error)` resets a stream (the other side sees an
 * error), `end()` closes our half.
 */
import type { Duplex } from 'node:stream';

export interface TransportEvents {
  /** The first connection to `peer` came up (`remoteAddress`: its address, as seen by us). */
  'peer:connect': { peer: string; remoteAddress: string };
  /** The last connection to `peer` went down. */
  'peer:disconnect': { peer: string };
  /** A connected peer announced its own listen addresses (unfiltered: filter before use). */
  'peer:identify': { peer: string; addresses: string[]; remoteAddress: string };
  /** A peer found on the LAN (mDNS), with the addresses it announced (unfiltered). */
  'peer:discovery': { peer: string; addresses: string[] };
}

export type TransportEvent = keyof TransportEvents;

export interface HandleOptions {
  /** Inbound streams of this protocol open at once per connection; more are refused. */
  maxInboundStreams: number;
}

export interface Transport {
  /** Our hex public key. */
  readonly self: string;
  /** Our id in the transport's own form (a libp2p peer id string). */
  readonly peerId: string;
  /** Addresses others can dial us at. */
  addresses(): string[];
  /** Peers with an open connection. */
  peers(): string[];
  isConnected(peer: string): boolean;
  /** Remote addresses of our open connections to `peer` (the scope of what it may tell us). */
  remoteAddresses(peer: string): string[];
  /** Serves `protocol`: `handler` gets every inbound stream with the peer it came from. */
  handle(protocol: string, handler: (stream: Duplex, peer: string) => void, options: HandleOptions): Promise<void>;
  /** Opens a stream of `protocol` to `peer`, connecting first if needed (addresses from the address source). */
  open(peer: string, protocol: string): Promise<Duplex>;
  /** Connects to `peer` by id (addresses from the address source, or `addresses` as given). */
  dial(peer: string, addresses?: string[]): Promise<void>;
  /** Connects to a full address (bootstrap, tickets): the user's own addresses, dialled as given. */
  dialAddress(address: string): Promise<void>;
  /** Hangs up every connection to `peer` at once (a reset, not a graceful close). */
  hangUp(peer: string, reason: Error): void;
  /** The gater: peers refused for now (bans), both ways, asked on every connection and stream. */
  setRefusal(refused: (peer: string) => boolean): void;
  /** Where addresses come from when the transport dials a peer by id and knows none. */
  setAddressSource(source: (peer: string) => string[]): void;
  on<E extends TransportEvent>(event: E, listener: (detail: TransportEvents[E]) => void): void;
  off<E extends TransportEvent>(event: E, listener: (detail: TransportEvents[E]) => void): void;
  stop(): Promise<void>;
}

/** Listener lists by event, for the implementations. */
export class TransportListeners {
  readonly #listeners = new Map<TransportEvent, Set<(detail: never) => void>>();

  on<E extends TransportEvent>(event: E, listener: (detail: TransportEvents[E]) => void): void {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    set.add(listener as (detail: never) => void);
  }

  off<E extends TransportEvent>(event: E, listener: (detail: TransportEvents[E]) => void): void {
    this.#listeners.get(event)?.delete(listener as (detail: never) => void);
  }

  emit<E extends TransportEvent>(event: E, detail: TransportEvents[E]): void {
    for (const listener of [...(this.#listeners.get(event) ?? [])]) (listener as (d: TransportEvents[E]) => void)(detail);
  }

  clear(): void {
    this.#listeners.clear();
  }
}
