/**
 * What TCP hole punching (DCUtR, docs/network-breaks.md) needs from the host
 * and js-libp2p does not give on Node:
 *
 * - Port reuse: every TCP dial leaves from one local port (the dial port).
 *   Node cannot dial from its listening port (no SO_REUSEPORT in Node 20),
 *   but sockets bound with SO_REUSEADDR (libuv sets it on every bind) may
 *   share a port that no socket listens on. A NAT that keeps ports then shows
 *   every connection of the node at one outside address, and a DCUtR dial
 *   leaves from the port the NAT has mapped, which a TCP simultaneous open
 *   needs. A dial whose port is taken for that destination (the same peer
 *   twice, TIME_WAIT) leaves from a free port instead.
 * - The outside address: js-libp2p's identify ignores observed TCP addresses
 *   (js-libp2p#2620), and DCUtR only sends the address manager's confirmed
 *   addresses. The observer below takes an observed address once peers at 2
 *   different public IPs report the same one for connections we dialed, so
 *   no single peer can choose it. Bounded: 16 addresses, 8 observers each,
 *   forgotten 10 minutes after their last report.
 * - Only DCUtR's CONNECT message carries that address; identify does not
 *   announce it. Nothing listens there: a peer's plain dial to it would be
 *   dropped by our NAT, and worse, would leave a half-open entry in the
 *   peer's NAT (netfilter keeps one 2 minutes) whose sequence numbers make
 *   that NAT drop the later simultaneous open as invalid. js-libp2p's DCUtR
 *   makes exactly such a dial first ("unilateral upgrade") when a peer
 *   announces a public address; measured in test/netns, it failed every punch.
 */
import { createServer } from 'node:net';
import { dcutr } from '@libp2p/dcutr';
import type { Connection, IdentifyResult, Libp2pEvents, PeerId, Transport, TypedEventTarget } from '@libp2p/interface';
import { tcp } from '@libp2p/tcp';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import { acceptRemoteAddress, scopeOfConnection } from './address-filter.ts';

/** Observers (distinct public IPs) that must agree before an observed address is offered to DCUtR. */
export const OBSERVERS_TO_CONFIRM = 2;
const MAX_ADDRESSES = 16;
const MAX_OBSERVERS = 8;
const FORGET_AFTER_MS = 10 * 60_000;

/** A free TCP port on all interfaces, for a dial port chosen at start. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Errors that mean the dial port cannot carry this dial (not that the peer is unreachable). */
function portUnusable(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL';
}

/**
 * Hole-punch dials that must take the responder's part. DCUtR asks for it
 * (`initiator: false` on B's dial: a TCP simultaneous open leaves both sides
 * dialing, and one must answer the security handshake), but libp2p 3.3's
 * dial queue drops that option on the way to the transport, and both sides
 * then start Noise as initiators. The DCUtR wrapper notes the addresses of
 * such a dial here while it runs; the transport reads them.
 */
export class ResponderDials {
  readonly #addresses = new Map<string, number>();

  static key(address: Multiaddr | string): string {
    return String(address).replace(/\/p2p\/[^/]+$/, '');
  }

  has(address: Multiaddr | string): boolean {
    return this.#addresses.has(ResponderDials.key(address));
  }

  async during<T>(addresses: (Multiaddr | string)[], run: () => Promise<T>): Promise<T> {
    const keys = addresses.map((a) => ResponderDials.key(a));
    for (const k of keys) this.#addresses.set(k, (this.#addresses.get(k) ?? 0) + 1);
    try {
      return await run();
    } finally {
      for (const k of keys) {
        const n = (this.#addresses.get(k) ?? 1) - 1;
        if (n > 0) this.#addresses.set(k, n);
        else this.#addresses.delete(k);
      }
    }
  }
}

/**
 * libp2p's TCP transport, dialing from `port` (falling back to a free port
 * when that is taken), and answering as responder where `responders` says so.
 */
export function portReusingTcp(port: number, responders: ResponderDials): (components: Parameters<ReturnType<typeof tcp>>[0]) => Transport {
  const factory = tcp();
  return (components) => {
    const transport = factory(components);
    const dial = transport.dial.bind(transport);
    transport.dial = async (address, options) => {
      // Both reach net.connect and the upgrader through the TCP transport's options.
      const extra = { ...(responders.has(address) ? { initiator: false } : {}), localPort: port as number | undefined };
      const fromPort = { ...options, ...extra };
      try {
        return await dial(address, fromPort);
      } catch (err) {
        if (!portUnusable(err) || options.signal?.aborted) throw err;
        const fromAny = { ...options, ...extra, localPort: undefined };
        return dial(address, fromAny);
      }
    };
    return transport;
  };
}

interface Sighting {
  observers: Set<string>;
  lastSeen: number;
  confirmed: boolean;
}

/**
 * Counts which outside address peers see for our dialed connections and
 * confirms one when enough distinct observers agree.
 */
export class ObservedAddresses {
  readonly #sightings = new Map<string, Sighting>();
  readonly #now: () => number;
  readonly #listeners = new Set<(address: string) => void>();

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Confirmed addresses not yet forgotten. */
  get confirmed(): string[] {
    const now = this.#now();
    return [...this.#sightings].filter(([, s]) => s.confirmed && now - s.lastSeen <= FORGET_AFTER_MS).map(([a]) => a);
  }

  /** Calls `listener` with each address as it is confirmed. */
  onConfirmed(listener: (address: string) => void): void {
    this.#listeners.add(listener);
  }

  /**
   * One identify answer: `observed` is what the peer says our address is,
   * `observer` the peer's address on this connection. Only direct outbound
   * connections to public observers count, and only public TCP addresses.
   */
  report(observed: string, observer: string, outbound: boolean): void {
    if (!outbound || observer.includes('/p2p-circuit') || scopeOfConnection(observer) !== 'public') return;
    const canonical = plainTcp(observed);
    if (!canonical) return;
    const observerIp = observer.split('/')[2];
    const now = this.#now();
    for (const [address, s] of this.#sightings) if (now - s.lastSeen > FORGET_AFTER_MS) this.#sightings.delete(address);
    let sighting = this.#sightings.get(canonical);
    if (!sighting) {
      if (this.#sightings.size >= MAX_ADDRESSES) return;
      sighting = { observers: new Set(), lastSeen: now, confirmed: false };
      this.#sightings.set(canonical, sighting);
    }
    sighting.lastSeen = now;
    if (sighting.observers.size < MAX_OBSERVERS) sighting.observers.add(observerIp);
    if (!sighting.confirmed && sighting.observers.size >= OBSERVERS_TO_CONFIRM) {
      sighting.confirmed = true;
      for (const listener of this.#listeners) listener(canonical);
    }
  }
}

/** `/ip4|ip6/<public host>/tcp/<port>` of an observed address, or undefined for any other form. */
function plainTcp(observed: string): string | undefined {
  let text: string;
  try {
    text = multiaddr(observed).toString();
  } catch {
    return undefined;
  }
  if (!/^\/ip[46]\/[^/]+\/tcp\/\d+(\/p2p\/[^/]+)?$/.test(text)) return undefined;
  const bare = text.replace(/\/p2p\/[^/]+$/, '');
  // Reuses the address filter's scoping: public hosts only, usable ports.
  return acceptRemoteAddress(bare, 'self', 'public') === undefined ? undefined : bare;
}

/** What libp2p gives DCUtR, and its event bus (for identify results). */
type DcutrComponents = Parameters<ReturnType<typeof dcutr>>[0] & { peerId: PeerId; events: TypedEventTarget<Libp2pEvents> };

/**
 * libp2p's DCUtR service, fed by `observed`: identify answers are counted
 * there, and DCUtR's CONNECT message offers its confirmed addresses besides
 * the address manager's own. Its responder dials are noted in `responders`.
 */
export function holePunchingDcutr(observed: ObservedAddresses, responders: ResponderDials): (components: DcutrComponents) => unknown {
  const factory = dcutr();
  return (components) => {
    components.events.addEventListener('peer:identify', ({ detail }: CustomEvent<IdentifyResult>) => {
      const connection: Connection = detail.connection;
      if (detail.observedAddr) observed.report(detail.observedAddr.toString(), connection.remoteAddr.toString(), connection.direction === 'outbound');
    });
    const { addressManager, connectionManager } = components;
    const overrides: Record<string | symbol, unknown> = {
      addressManager: {
        getAddresses: () => [...addressManager.getAddresses(), ...observed.confirmed.map((a) => multiaddr(`${a}/p2p/${components.peerId}`))],
      },
      connectionManager: new Proxy(connectionManager, {
        get: (target, key) =>
          key === 'openConnection'
            ? (to: Parameters<typeof target.openConnection>[0], options?: Parameters<typeof target.openConnection>[1]) =>
                options?.initiator === false && Array.isArray(to) ? responders.during(to, () => target.openConnection(to, options)) : target.openConnection(to, options)
            : Reflect.get(target, key),
      }),
    };
    const view = new Proxy(components, { get: (target, key) => (key in overrides ? overrides[key] : Reflect.get(target, key)) });
    return factory(view);
  };
}
