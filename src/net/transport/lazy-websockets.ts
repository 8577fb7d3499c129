/**
 * The WebSockets transport, loaded on first use. `@libp2p/websockets` and
 * the `ws` global it dials with (websocket-global.ts) pull in `ws`, `http`,
 * `https` and `tls`: about 10 MB of RSS that a node dialling and listening on
 * plain TCP never uses. This transport answers libp2p's filters itself and
 * loads the real one when a WebSocket address is dialled; a host that listens
 * on one loads it before libp2p starts (`loadWebSockets`), because libp2p
 * creates listeners synchronously.
 */
import type { CreateListenerOptions, DialTransportOptions, Listener, Transport } from '@libp2p/interface';
import { serviceCapabilities, transportSymbol } from '@libp2p/interface';
import type { Multiaddr } from '@multiformats/multiaddr';

type WebSocketsFactory = (components: unknown) => Transport;

/** Loads the real transport and the `WebSocket` global its dialer needs. */
export async function loadWebSockets(): Promise<WebSocketsFactory> {
  await import('../websocket-global.ts');
  const { webSockets } = await import('@libp2p/websockets');
  return webSockets() as WebSocketsFactory;
}

const HOSTS = new Set(['ip4', 'ip6', 'dns', 'dns4', 'dns6', 'dnsaddr']);
const WS_TAILS = new Set(['ws', 'wss', 'tls/ws', 'tls/sni/ws']);

/**
 * What `@libp2p/websockets` dials and listens on (its `WebSockets` and
 * `WebSocketsSecure` matchers, less the UDP forms that no WebSocket uses):
 * `<host>[/tcp/<port>]/ws|wss|tls[/sni/<name>]/ws[/p2p/<id>]`, nothing after.
 */
export function isWebSocketAddress(address: Multiaddr): boolean {
  const names = address.getComponents().map((c) => c.name);
  if (names.at(-1) === 'p2p') names.pop();
  if (!HOSTS.has(names[0] ?? '')) return false;
  const tail = names.slice(names[1] === 'tcp' ? 2 : 1).join('/');
  return WS_TAILS.has(tail);
}

/** libp2p transport factory: WebSockets, loaded on the first dial (or now, when `loaded` is given). */
export function lazyWebSockets(loaded?: WebSocketsFactory): (components: unknown) => Transport {
  return (components) => new LazyWebSockets(components, loaded);
}

class LazyWebSockets implements Transport {
  readonly [transportSymbol] = true as const;
  readonly [Symbol.toStringTag] = '@libp2p/websockets';
  readonly [serviceCapabilities] = ['@libp2p/transport'];
  readonly #components: unknown;
  #real: Transport | undefined;
  #loading: Promise<Transport> | undefined;

  constructor(components: unknown, loaded?: WebSocketsFactory) {
    this.#components = components;
    this.#real = loaded?.(components);
  }

  async dial(ma: Multiaddr, options: DialTransportOptions) {
    this.#loading ??= this.#real ? Promise.resolve(this.#real) : loadWebSockets().then((factory) => (this.#real = factory(this.#components)));
    const real = await this.#loading;
    options.signal?.throwIfAborted();
    return real.dial(ma, options);
  }

  createListener(options: CreateListenerOptions): Listener {
    // libp2p asks only for addresses listenFilter passed: none unless loaded.
    if (!this.#real) throw new Error('WebSockets listener requested before the transport was loaded');
    return this.#real.createListener(options);
  }

  listenFilter = (addresses: Multiaddr[]): Multiaddr[] => (this.#real ? addresses.filter(isWebSocketAddress) : []);

  dialFilter = (addresses: Multiaddr[]): Multiaddr[] => addresses.filter(isWebSocketAddress);
}
