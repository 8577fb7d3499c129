/**
 * Finding peers: bootstrap addresses (retried with backoff, never blocking
 * anything else), peers from the address book of the data directory, mDNS
 * on the LAN, and peers learned through identify and gossip.
 *
 * Only the user's own addresses (bootstrap, tickets, /connect) are dialled
 * as given. Everything else (the address book, addresses peers told us, mDNS)
 * is dialled through one dial gate: a global budget of dials per second,
 * back-off per peer and per target, a few addresses per dial. Learned
 * addresses reach the transport only when it dials that peer (its address
 * source); the libp2p transport also sweeps its peer store of them.
 */
import type { Runtime, TimerHandle, WalkawayError } from '../core/index.ts';
import type { AddressBook } from './address-book.ts';
import { acceptRemoteAddress, scopeOfConnection, type Scope } from './transport/address-filter.ts';
import { DialGate } from './transport/dial-gate.ts';
import { peerIdOfPublicKey } from './transport/peer-ids.ts';
import type { Transport } from './transport/transport.ts';

const BACKOFF_MS = [500, 1000, 2000, 5000, 10_000, 30_000];
/** Spacing of the dials of known peers after a start. */
const KNOWN_PEER_SPACING_MS = 1000;

const SCOPE_RANK: Record<Scope, number> = { loopback: 0, private: 1, public: 2 };

export class Connections {
  readonly #transport: Transport;
  readonly #book: AddressBook;
  readonly #runtime: Runtime;
  readonly #log: (message: string) => void;
  readonly gate = new DialGate();
  #timers = new Set<TimerHandle>();
  #stopped = false;

  constructor(transport: Transport, book: AddressBook, runtime: Runtime, log: (message: string) => void) {
    this.#transport = transport;
    this.#book = book;
    this.#runtime = runtime;
    this.#log = log;
  }

  start(): void {
    this.#book.configure((peer) => this.#scopeOf(peer), this.#log);
    this.#transport.setAddressSource((peer) => this.#gatedAddresses(peer, this.#book.dialable(peer, this.#wallMs())));
    this.#transport.on('peer:identify', ({ peer, addresses, remoteAddress }) => {
      const scope = scopeOfConnection(remoteAddress);
      const id = libp2pId(peer);
      if (!id) return;
      const addrs = addresses.flatMap((a) => acceptRemoteAddress(a, id, scope) ?? []);
      if (addrs.length > 0) this.#book.add(peer, addrs, this.#wallMs());
    });
    this.#transport.on('peer:connect', ({ peer, remoteAddress }) => this.gate.connected(peer, remoteAddress || undefined));
    this.#transport.on('peer:discovery', ({ peer, addresses }) => {
      // mDNS (and any other discovery): dial what was found on the LAN, within the budget.
      const id = libp2pId(peer);
      if (!id || this.#transport.isConnected(peer)) return;
      const lan = addresses.flatMap((a) => acceptRemoteAddress(a, id, 'private') ?? acceptRemoteAddress(a, id, 'loopback') ?? []);
      const chosen = this.#gatedAddresses(peer, lan);
      if (chosen.length === 0) return;
      this.#transport.dial(peer, chosen).catch((err: Error) => this.#log(`discovered peer unreachable: ${err.message}`));
    });
  }

  stop(): void {
    this.#stopped = true;
    for (const t of this.#timers) this.#runtime.clearTimer(t);
    this.#timers.clear();
  }

  /** Dials each address in the background until it connects once. */
  bootstrap(addresses: string[]): void {
    for (const address of addresses) this.#dialWithRetry(address, 0);
  }

  /** Dials the peers of the address book (a restarted node finds its peers again), paced. */
  dialKnown(limit = 16): void {
    this.#book
      .peers()
      .slice(0, limit)
      .forEach((entry, i) => {
        this.#after(i * KNOWN_PEER_SPACING_MS, () => {
          if (!libp2pId(entry.peer) || this.#transport.isConnected(entry.peer)) return; // unusable, or there already
          this.#transport.dial(entry.peer).catch((err: Error) => this.#log(`known peer ${entry.peer.slice(0, 8)} unreachable: ${err.message}`));
        });
      });
  }

  /** The address book's and dial gate's figures, for logs. */
  describe(): string {
    const book = this.#book.stats();
    const g = this.gate.stats;
    return (
      `address book: ${book.verified} verified, ${book.learned} learned (${book.learnedBytes} bytes); ` +
      `dial gate: ${g.granted} granted, ${g.addresses} addresses, ${g.noTokens} over budget, ${g.backingOff} backing off, ${g.noAddresses} without address`
    );
  }

  #gatedAddresses(peer: string, addresses: string[]): string[] {
    if (this.#stopped) return [];
    const chosen = this.gate.take(peer, addresses, this.#runtime.now());
    if (chosen.length > 0) this.#log(`dial gate: ${peer.slice(0, 8)} may dial ${chosen.join(' ')}`);
    return chosen;
  }

  /** The most local scope of our open connections to `peer`, if any. */
  #scopeOf(peer: string): Scope | undefined {
    let best: Scope | undefined;
    for (const address of this.#transport.remoteAddresses(peer)) {
      const scope = scopeOfConnection(address);
      if (!best || SCOPE_RANK[scope] < SCOPE_RANK[best]) best = scope;
    }
    return best;
  }

  #wallMs(): number {
    return Math.floor(this.#runtime.wallMicros() / 1000);
  }

  #after(ms: number, run: () => void): void {
    if (this.#stopped) return;
    const timer = this.#runtime.setTimer(ms, () => {
      this.#timers.delete(timer);
      if (!this.#stopped) run();
    });
    this.#timers.add(timer);
  }

  #dialWithRetry(address: string, attempt: number): void {
    if (this.#stopped) return;
    this.#transport.dialAddress(address).then(
      () => this.#log(`bootstrap ${address} connected`),
      (err: Error) => {
        if ((err as WalkawayError).code === 'INVALID_ARGUMENT') return this.#log(`bootstrap address ${address} is not usable: ${err.message}`);
        this.#log(`bootstrap ${address} failed (${err.message}), retrying`);
        this.#after(BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)], () => this.#dialWithRetry(address, attempt + 1));
      },
    );
  }
}

function libp2pId(hex: string): string | undefined {
  try {
    return peerIdOfPublicKey(hex).toString();
  } catch {
    return undefined;
  }
}
