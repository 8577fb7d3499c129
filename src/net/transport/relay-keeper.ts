/**
 * Keeps a node reachable through circuit relays when relays come and go.
 *
 * libp2p makes one reservation on a connected peer that speaks the relay hop
 * protocol, and looks for another when that relay's connection closes: but
 * only among peers it is still connected to or still holds addresses of, and
 * peers that talked to us through the lost relay have no way back. The
 * keeper adds the two missing halves:
 *
 * - Relays it has met (any participant serving as a relay, found by identify)
 *   and configured relays are remembered (at most 16); while the node holds
 *   no reservation it dials one it is not connected to (one at a time, with
 *   back-off), so libp2p reserves there.
 * - A peer whose last connection was relayed and closed is chased: it is
 *   dialled through each relay we are connected to (`.../p2p-circuit/p2p/peer`)
 *   with back-off, for at most a minute, until a connection opens. The peer
 *   reserves at another relay the same way, so both find each other again.
 *
 * Bounded: 16 relays, 32 chased peers, 4 relays tried per attempt.
 */
import type { Connection, PeerId } from '@libp2p/interface';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import type { Libp2p } from 'libp2p';
import type { Log } from '../../core/log.ts';
import { WalkawayError } from '../../core/index.ts';
import { acceptRemoteAddress, scopeOfConnection } from './address-filter.ts';

export const RELAY_HOP_PROTOCOL = '/libp2p/circuit/relay/0.2.0/hop';
const MAX_RELAYS = 16;
const MAX_CHASED = 32;
const RELAYS_PER_ATTEMPT = 4;
const CHASE_FOR_MS = 60_000;
const CHASE_BACKOFF_MS = [250, 500, 1000, 1000, 2000, 2000, 4000];
const RELAY_BACKOFF_MS = [1000, 2000, 5000, 10_000, 30_000];
const TICK_MS = 1000;

export interface RelayKeeperOptions {
  host: Libp2p;
  /** Configured relays: multiaddrs that end in /p2p/<relay peer id>. */
  relays?: string[];
  log: Log;
}

interface KnownRelay {
  addresses: string[];
  configured: boolean;
  failures: number;
  nextDialAt: number;
}

export function isRelayed(address: Multiaddr | string): boolean {
  return String(address).includes('/p2p-circuit');
}

export class RelayKeeper {
  readonly #host: Libp2p;
  readonly #log: Log;
  readonly #relays = new Map<string, KnownRelay>();
  readonly #chased = new Map<string, { peer: PeerId; since: number }>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #dialing = false;
  #stopped = false;

  constructor(options: RelayKeeperOptions) {
    this.#host = options.host;
    this.#log = options.log;
    for (const address of options.relays ?? []) {
      let id: string | undefined;
      try {
        id = multiaddr(address).getComponents().at(-1)?.name === 'p2p' ? multiaddr(address).getComponents().at(-1)?.value : undefined;
      } catch {
        // reported below
      }
      if (!id || isRelayed(address))
        throw new WalkawayError('INVALID_ARGUMENT', `a relay is a multiaddr that ends in /p2p/<relay peer id>, got ${JSON.stringify(String(address).slice(0, 80))}`);
      this.#remember(id, [stripPeer(address)], true);
    }
  }

  /** Relays remembered now (peer id strings), for monitoring and tests. */
  get relays(): string[] {
    return [...this.#relays.keys()];
  }

  /** Peers being chased through relays now. */
  get chased(): number {
    return this.#chased.size;
  }

  start(): void {
    this.#host.addEventListener('peer:identify', ({ detail }) => {
      if (!detail.protocols.includes(RELAY_HOP_PROTOCOL) || isRelayed(detail.connection.remoteAddr)) return;
      // Where we reached it is the address that works for us; an inbound connection's port is the remote's ephemeral one.
      const direct = detail.connection.direction === 'outbound' ? [stripPeer(detail.connection.remoteAddr.toString())] : [];
      const id = detail.peerId.toString();
      const scope = scopeOfConnection(detail.connection.remoteAddr);
      const listened = detail.listenAddrs.flatMap((a) => acceptRemoteAddress(a.toString(), id, scope) ?? []).filter((a) => !isRelayed(a));
      this.#remember(id, [...direct, ...listened.map(stripPeer)], false);
    });
    this.#host.addEventListener('connection:close', ({ detail }) => this.#onClose(detail));
    this.#host.addEventListener('peer:connect', ({ detail }) => this.#chased.delete(detail.toString()));
    this.#every(TICK_MS, () => this.#keepReservation());
  }

  stop(): void {
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.#chased.clear();
  }

  #remember(id: string, addresses: string[], configured: boolean): void {
    if (id === this.#host.peerId.toString()) return;
    const known = this.#relays.get(id);
    const unique = [...new Set([...addresses, ...(known?.addresses ?? [])])].slice(0, 4);
    if (known) {
      known.addresses = unique;
      return;
    }
    if (this.#relays.size >= MAX_RELAYS) {
      // Forget a learned relay (never a configured one) to make room.
      const learned = [...this.#relays].find(([, r]) => !r.configured);
      if (!learned) return;
      this.#relays.delete(learned[0]);
    }
    this.#relays.set(id, { addresses: unique, configured, failures: 0, nextDialAt: 0 });
    this.#log(`relay ${id.slice(-8)} known (${configured ? 'configured' : 'met'}): ${unique.join(' ')}`);
  }

  #onClose(connection: Connection): void {
    if (this.#stopped || !isRelayed(connection.remoteAddr)) return;
    const peer = connection.remotePeer;
    const key = peer.toString();
    if (this.#host.getConnections(peer).length > 0 || this.#chased.has(key) || this.#relays.has(key)) return;
    if (this.#chased.size >= MAX_CHASED) return;
    this.#chased.set(key, { peer, since: performance.now() });
    this.#log(`relayed connection to ${key.slice(-8)} closed: reaching it through other relays`);
    this.#chase(key, 0);
  }

  #chase(key: string, attempt: number): void {
    const chase = this.#chased.get(key);
    if (!chase || this.#stopped) return;
    if (this.#host.getConnections(chase.peer).length > 0 || performance.now() - chase.since > CHASE_FOR_MS) {
      this.#chased.delete(key);
      return;
    }
    const circuits = this.#connectedRelays()
      .slice(0, RELAYS_PER_ATTEMPT)
      .flatMap(([id, relay]) => relay.addresses.slice(0, 1).map((a) => `${a}/p2p/${id}/p2p-circuit/p2p/${key}`));
    const next = () => this.#after(CHASE_BACKOFF_MS[Math.min(attempt, CHASE_BACKOFF_MS.length - 1)], () => this.#chase(key, attempt + 1));
    if (circuits.length === 0) return next();
    void Promise.any(circuits.map((a) => this.#host.dial(multiaddr(a)))).then(
      (c) => {
        this.#chased.delete(key);
        this.#log(`reached ${key.slice(-8)} again through ${c.remoteAddr.toString()}`);
      },
      () => next(),
    );
  }

  /** Relays we hold a direct connection to, with their remembered addresses. */
  #connectedRelays(): [string, KnownRelay][] {
    const direct = this.#directPeers();
    return [...this.#relays].filter(([id]) => direct.has(id));
  }

  /** Peers with an open direct (not relayed) connection. */
  #directPeers(): Set<string> {
    const direct = new Set<string>();
    for (const c of this.#host.getConnections()) if (c.status === 'open' && !isRelayed(c.remoteAddr)) direct.add(c.remotePeer.toString());
    return direct;
  }

  /**
   * Without a reservation, dials a remembered relay (libp2p reserves on it
   * once identify shows the hop protocol). The reservation is looked for
   * last: `getMultiaddrs()` took ~2.6 ms a call (bench/net, NET_PROF), a
   * stall every second on every node, and with every relay connected there
   * is nothing to dial anyway.
   */
  #keepReservation(): void {
    if (this.#dialing || this.#relays.size === 0) return;
    const now = performance.now();
    const connected = this.#directPeers();
    const candidate = [...this.#relays].find(([id, r]) => !connected.has(id) && r.nextDialAt <= now && r.addresses.length > 0);
    if (!candidate || this.#host.getMultiaddrs().some(isRelayed)) return;
    const [id, relay] = candidate;
    this.#dialing = true;
    this.#host
      .dial(relay.addresses.map((a) => multiaddr(`${a}/p2p/${id}`)))
      .then(
        () => {
          relay.failures = 0;
          this.#log(`no reservation: dialled relay ${id.slice(-8)}`);
        },
        (err: Error) => {
          relay.nextDialAt = performance.now() + RELAY_BACKOFF_MS[Math.min(relay.failures++, RELAY_BACKOFF_MS.length - 1)];
          this.#log(`relay ${id.slice(-8)} unreachable: ${err.message}`);
        },
      )
      .finally(() => (this.#dialing = false));
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
}

function stripPeer(address: string): string {
  return address.replace(/\/p2p\/[^/]+$/, '');
}
