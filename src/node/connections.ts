/**
 * Finding peers: bootstrap addresses (retried with backoff, never blocking
 * anything else), peers from the address book of the data directory, mDNS
 * on the LAN, and peers learned through identify and gossip.
 *
 * Only the user's own addresses (bootstrap, tickets, /connect) are dialled
 * as given. Everything else (the address book, addresses peers told us, mDNS)
 * is dialled through one dial gate: a global budget of dials per second,
 * back-off per peer and per target, a few addresses per dial. Learned
 * addresses reach libp2p only when it dials that peer (the host's address
 * source), and libp2p's peer store is swept of peers we are not connected
 * to, so that hearsay never accumulates there.
 */
import type { Libp2p } from 'libp2p';
import type { PeerId } from '@libp2p/interface';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import type { AddressBook } from '../net/address-book.ts';
import { acceptRemoteAddress, scopeOfConnection, type Scope } from '../net/transport/address-filter.ts';
import { DialGate } from '../net/transport/dial-gate.ts';
import { setAddressSource } from '../net/transport/host.ts';
import { peerIdOfPublicKey, publicKeyOfPeer } from '../net/transport/peer-ids.ts';
import type { Log } from '../core/log.ts';

const BACKOFF_MS = [500, 1000, 2000, 5000, 10_000, 30_000];
/** How often libp2p's peer store is swept of peers without a connection. */
const SWEEP_MS = 10_000;
/** Peers discovered (mDNS) between sweeps before one is run early. */
const SWEEP_AFTER_DISCOVERIES = 64;
/** Spacing of the dials of known peers after a start. */
const KNOWN_PEER_SPACING_MS = 1000;

const SCOPE_RANK: Record<Scope, number> = { loopback: 0, private: 1, public: 2 };

export class Connections {
  readonly #host: Libp2p;
  readonly #book: AddressBook;
  readonly #log: Log;
  readonly gate = new DialGate();
  #timers = new Set<NodeJS.Timeout>();
  #stopped = false;
  #discovered = 0;
  #sweeping = false;
  /** Peers that entered libp2p's peer store through us (the gate) or discovery: what the sweep may remove. */
  #swept = new Set<string>();

  constructor(host: Libp2p, book: AddressBook, log: Log) {
    this.#host = host;
    this.#book = book;
    this.#log = log;
  }

  start(): void {
    this.#book.configure((peer) => this.#scopeOf(peer), this.#log);
    setAddressSource(this.#host, (peer) => this.#gatedAddresses(peer, this.#book.dialable(peer)));
    this.#host.addEventListener('peer:identify', (event) => {
      const peer = publicKeyOfPeer(event.detail.peerId);
      if (!peer) return;
      const scope = scopeOfConnection(event.detail.connection.remoteAddr);
      const id = event.detail.peerId.toString();
      const addrs = event.detail.listenAddrs.flatMap((a) => acceptRemoteAddress(a.toString(), id, scope) ?? []);
      if (addrs.length > 0) this.#book.add(peer, addrs);
    });
    this.#host.addEventListener('peer:connect', (event) => {
      const peer = publicKeyOfPeer(event.detail);
      const conn = this.#host.getConnections(event.detail)[0];
      if (peer) this.gate.connected(peer, conn?.remoteAddr.toString());
    });
    this.#host.addEventListener('peer:discovery', (event) => {
      // mDNS (and any other discovery): dial what was found on the LAN, within the budget.
      if (++this.#discovered >= SWEEP_AFTER_DISCOVERIES) void this.sweep();
      const { id, multiaddrs } = event.detail;
      const peer = publicKeyOfPeer(id);
      this.#track(id.toString());
      if (!peer || this.#host.getConnections(id).length > 0) return;
      const lan = multiaddrs.flatMap((a) => acceptRemoteAddress(a.toString(), id.toString(), 'private') ?? acceptRemoteAddress(a.toString(), id.toString(), 'loopback') ?? []);
      const chosen = this.#gatedAddresses(peer, lan);
      if (chosen.length === 0) return;
      this.#host.dial(chosen).catch((err: Error) => this.#log(`discovered peer unreachable: ${err.message}`));
    });
    this.#every(SWEEP_MS, () => void this.sweep());
  }

  stop(): void {
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
  }

  /** Dials each address in the background until it connects once. */
  bootstrap(addresses: string[]): void {
    for (const address of addresses) this.#dialWithRetry(address, 0);
  }

  /** Dials the peers of the address book (a restarted node finds its peers again), paced. */
  dialKnown(limit = 16): void {
    this.#book.peers().slice(0, limit).forEach((entry, i) => {
      this.#after(i * KNOWN_PEER_SPACING_MS, () => {
        let peerId: PeerId;
        try {
          peerId = peerIdOfPublicKey(entry.peer);
        } catch {
          return; // an unusable entry: skip it
        }
        if (this.#host.getConnections(peerId).length > 0) return;
        this.#host.dial(peerId).catch((err: Error) => this.#log(`known peer ${entry.peer.slice(0, 8)} unreachable: ${err.message}`));
      });
    });
  }

  /**
   * Removes from libp2p's peer store the peers that came in through the gate
   * or discovery and have no connection (nor tag): their addresses stay in
   * the address book (verified ones) or are gone (hearsay), and libp2p asks
   * again through the gate when it dials them. Peers libp2p added itself (a
   * relay and its reservation, identified connections) are left to libp2p's
   * own expiry (10 min for addresses, 1 h for peers).
   */
  async sweep(): Promise<void> {
    if (this.#sweeping || this.#stopped) return;
    this.#sweeping = true;
    this.#discovered = 0;
    try {
      const peers = await this.#host.peerStore.all();
      let removed = 0;
      for (const p of peers) {
        const key = p.id.toString();
        if (!this.#swept.has(key) || p.tags.size > 0 || this.#host.getConnections(p.id).length > 0) continue;
        this.#swept.delete(key);
        await this.#host.peerStore.delete(p.id).catch(() => {});
        removed++;
      }
      const book = this.#book.stats();
      const g = this.gate.stats;
      this.#log(
        `peer store: ${peers.length - removed} peers (${removed} swept); address book: ${book.verified} verified, ${book.learned} learned (${book.learnedBytes} bytes); ` +
          `dial gate: ${g.granted} granted, ${g.addresses} addresses, ${g.noTokens} over budget, ${g.backingOff} backing off, ${g.noAddresses} without address`,
      );
    } catch (err) {
      this.#log(`peer store sweep failed: ${(err as Error).message}`);
    } finally {
      this.#sweeping = false;
    }
  }

  #gatedAddresses(peer: string, addresses: string[]): Multiaddr[] {
    if (this.#stopped) return [];
    const chosen = this.gate.take(peer, addresses, performance.now());
    if (chosen.length > 0) {
      this.#log(`dial gate: ${peer.slice(0, 8)} may dial ${chosen.join(' ')}`);
      try {
        this.#track(peerIdOfPublicKey(peer).toString());
      } catch {
        // not a key: libp2p will not dial it either
      }
    }
    return chosen.flatMap((a) => {
      try {
        return [multiaddr(a)];
      } catch {
        return [];
      }
    });
  }

  #track(peerId: string): void {
    this.#swept.add(peerId);
    while (this.#swept.size > this.gate.config.maxTracked) this.#swept.delete(this.#swept.values().next().value!);
  }

  /** The most local scope of our open connections to `peer`, if any. */
  #scopeOf(peer: string): Scope | undefined {
    let best: Scope | undefined;
    for (const c of this.#host.getConnections()) {
      if (c.status !== 'open' || publicKeyOfPeer(c.remotePeer) !== peer) continue;
      const scope = scopeOfConnection(c.remoteAddr);
      if (!best || SCOPE_RANK[scope] < SCOPE_RANK[best]) best = scope;
    }
    return best;
  }

  #after(ms: number, run: () => void): void {
    if (this.#stopped) return;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (!this.#stopped) run();
    }, ms);
    timer.unref();
    this.#timers.add(timer);
  }

  #every(ms: number, run: () => void): void {
    this.#after(ms, () => {
      run();
      this.#every(ms, run);
    });
  }

  #dialWithRetry(address: string, attempt: number): void {
    if (this.#stopped) return;
    let target;
    try {
      target = multiaddr(address);
    } catch {
      this.#log(`bootstrap address ${address} is not a multiaddr`);
      return;
    }
    this.#host.dial(target).then(
      () => this.#log(`bootstrap ${address} connected`),
      (err: Error) => {
        this.#log(`bootstrap ${address} failed (${err.message}), retrying`);
        this.#after(BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)], () => this.#dialWithRetry(address, attempt + 1));
      },
    );
  }
}
