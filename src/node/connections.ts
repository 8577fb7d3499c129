/**
 * Finding peers: bootstrap addresses (retried with backoff, never blocking
 * anything else), peers from the address book of the data directory, mDNS
 * on the LAN, and peers learned through identify. Every connected peer's
 * addresses are written to the address book.
 */
import type { Libp2p } from 'libp2p';
import { multiaddr } from '@multiformats/multiaddr';
import type { AddressBook } from '../net/address-book.ts';
import { peerIdOfPublicKey, publicKeyOfPeer } from '../net/transport/peer-ids.ts';
import type { Log } from '../log.ts';

const BACKOFF_MS = [500, 1000, 2000, 5000, 10_000, 30_000];

export class Connections {
  readonly #host: Libp2p;
  readonly #book: AddressBook;
  readonly #log: Log;
  #timers = new Set<NodeJS.Timeout>();
  #stopped = false;

  constructor(host: Libp2p, book: AddressBook, log: Log) {
    this.#host = host;
    this.#book = book;
    this.#log = log;
  }

  start(): void {
    this.#host.addEventListener('peer:identify', (event) => {
      const peer = publicKeyOfPeer(event.detail.peerId);
      const addrs = event.detail.listenAddrs.map(String).filter((a) => !a.includes('/p2p-circuit') || a.includes('/p2p/'));
      if (peer && addrs.length > 0) this.#book.add(peer, addrs);
    });
    this.#host.addEventListener('peer:discovery', (event) => {
      // mDNS (and any other discovery): dial what was found on the LAN.
      if (this.#host.getConnections(event.detail.id).length === 0) {
        this.#host.dial(event.detail.id).catch((err: Error) => this.#log(`discovered peer unreachable: ${err.message}`));
      }
    });
  }

  stop(): void {
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
  }

  /** Dials each address in the background until it connects once. */
  bootstrap(addresses: string[]): void {
    for (const address of addresses) this.#dialWithRetry(address, 0);
  }

  /** Dials the peers of the address book (a restarted node finds its peers again). */
  dialKnown(limit = 16): void {
    for (const entry of this.#book.peers().slice(0, limit)) {
      try {
        const peerId = peerIdOfPublicKey(entry.peer);
        const addrs = entry.addrs.flatMap((a) => {
          try {
            return [multiaddr(a)];
          } catch {
            return [];
          }
        });
        void this.#host.peerStore
          .merge(peerId, { multiaddrs: addrs })
          .then(() => this.#host.dial(peerId))
          .catch((err: Error) => this.#log(`known peer ${entry.peer.slice(0, 8)} unreachable: ${err.message}`));
      } catch {
        // an unusable entry: skip it
      }
    }
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
        const timer = setTimeout(() => {
          this.#timers.delete(timer);
          this.#dialWithRetry(address, attempt + 1);
        }, BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)]);
        timer.unref();
        this.#timers.add(timer);
      },
    );
  }
}
