/**
 * Which multiaddrs a node accepts from a remote peer (in gossip address
 * frames and identify). A remote peer must not be able to steer our dials at
 * third parties, so only the forms a Walkaway node can listen on pass:
 *
 *   /ip4|ip6|dns|dns4|dns6/<host>/tcp/<port>[/ws|/wss|/tls/ws][/p2p/<peer>]
 *   <one such relay address>/p2p/<relay>/p2p-circuit[/p2p/<peer>]
 *
 * and the last /p2p/<id> must be the peer the address is for. Hosts are
 * scoped: a loopback address is accepted only from a peer connected over
 * loopback (same machine: tests, several nodes on one host), a private-range
 * address (RFC 1918, CGNAT, IPv6 ULA) only from a peer connected over a
 * private range (the LAN), public addresses from anyone. Unspecified,
 * multicast, broadcast, link-local, documentation and reserved ranges are
 * never accepted, nor ports below 1024 other than 80 and 443 (a peer could
 * otherwise aim our dials at mail or ssh servers).
 */
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';

export type Scope = 'loopback' | 'private' | 'public';

/** Longest address string accepted (the wire allows 511 characters). */
export const MAX_ADDRESS_CHARS = 256;

interface Part {
  name: string;
  value?: string;
}

/** The scope of a connection's remote address (relayed connections are public). */
export function scopeOfConnection(remoteAddr: Multiaddr | string): Scope {
  const text = String(remoteAddr);
  if (text.includes('/p2p-circuit')) return 'public';
  try {
    const [first] = multiaddr(text).getComponents();
    return hostScope(first as Part) ?? 'public';
  } catch {
    return 'public';
  }
}

/**
 * The address in canonical form (ending in /p2p/<peerId>) if a peer connected
 * in `announcerScope` may tell us that `peerId` listens there; else undefined.
 */
export function acceptRemoteAddress(address: string, peerId: string, announcerScope: Scope): string | undefined {
  if (typeof address !== 'string' || address.length > MAX_ADDRESS_CHARS) return undefined;
  let parts: Part[];
  try {
    parts = multiaddr(address).getComponents() as Part[];
  } catch {
    return undefined;
  }
  const circuit = parts.findIndex((p) => p.name === 'p2p-circuit');
  if (circuit >= 0) {
    // <relay>/p2p/<relay id>/p2p-circuit[/p2p/<peer>]: one hop only, the relay must itself pass.
    const relay = parts.slice(0, circuit);
    const rest = parts.slice(circuit + 1);
    const relayId = relay.at(-1);
    if (relayId?.name !== 'p2p' || relayId.value === peerId) return undefined;
    if (!directForm(relay.slice(0, -1), announcerScope)) return undefined;
    if (!endsWithPeer(rest, peerId)) return undefined;
  } else {
    const last = parts.at(-1);
    const direct = last?.name === 'p2p' ? parts.slice(0, -1) : parts;
    if (last?.name === 'p2p' && last.value !== peerId) return undefined;
    if (!directForm(direct, announcerScope)) return undefined;
  }
  const text = multiaddr(address).toString();
  return parts.at(-1)?.name === 'p2p' ? text : `${text}/p2p/${peerId}`;
}

/** The part a dial actually reaches: host and port (for a relayed address, the relay's). */
export function dialTarget(address: string): string {
  try {
    const parts = multiaddr(address).getComponents() as Part[];
    return `${parts[0].name}/${parts[0].value}/${parts[1]?.value}`;
  } catch {
    return address;
  }
}

/** Ranking for dials: plain TCP first, then WebSockets, relayed last. */
export function dialPreference(address: string): number {
  if (address.includes('/p2p-circuit')) return 2;
  return /\/(ws|wss)(\/|$)/.test(address) ? 1 : 0;
}

function endsWithPeer(rest: Part[], peerId: string): boolean {
  if (rest.length === 0) return true;
  return rest.length === 1 && rest[0].name === 'p2p' && rest[0].value === peerId;
}

function directForm(parts: Part[], announcerScope: Scope): boolean {
  const [host, tcp, ...tail] = parts;
  if (!host || tcp?.name !== 'tcp') return false;
  const port = Number(tcp.value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return false;
  if (port < 1024 && port !== 80 && port !== 443) return false;
  const names = tail.map((p) => p.name).join('/');
  if (!['', 'ws', 'wss', 'tls/ws'].includes(names)) return false;
  const scope = hostScope(host);
  if (scope === undefined) return false;
  if (scope === 'public') return true;
  return scope === announcerScope;
}

/** The scope of a host component, or undefined for one that is never dialled. */
function hostScope(host: Part): Scope | undefined {
  const value = host.value ?? '';
  switch (host.name) {
    case 'ip4':
      return ip4Scope(value);
    case 'ip6':
      return ip6Scope(value);
    case 'dns':
    case 'dns4':
    case 'dns6': {
      const name = value.toLowerCase().replace(/\.$/, '');
      if (name.length > 253 || !/^[a-z0-9-]+(\.[a-z0-9-]+)*$/.test(name)) return undefined;
      if (name === 'localhost' || name.endsWith('.localhost')) return 'loopback';
      if (name.endsWith('.local') || !name.includes('.')) return 'private';
      return 'public';
    }
    default:
      return undefined; // dnsaddr (recursive lookups), unix sockets, anything else
  }
}

function ip4Scope(ip: string): Scope | undefined {
  const b = ip.split('.').map(Number);
  if (b.length !== 4 || b.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) return undefined;
  const [a, c] = b;
  if (a === 127) return 'loopback';
  if (a === 10 || (a === 172 && c >= 16 && c <= 31) || (a === 192 && c === 168) || (a === 100 && c >= 64 && c <= 127)) return 'private';
  if (a === 0 || a >= 224) return undefined; // unspecified, multicast, reserved, broadcast
  if (a === 169 && c === 254) return undefined; // link-local
  if (a === 192 && c === 0 && (b[2] === 0 || b[2] === 2)) return undefined; // IETF, TEST-NET-1
  if ((a === 198 && c === 51 && b[2] === 100) || (a === 203 && c === 0 && b[2] === 113)) return undefined; // TEST-NET-2/3
  if (a === 198 && (c === 18 || c === 19)) return undefined; // benchmarking
  return 'public';
}

function ip6Scope(ip: string): Scope | undefined {
  const v = ip.toLowerCase();
  if (v === '::1') return 'loopback';
  if (v === '::' || v.startsWith('::ffff:') || v.startsWith('ff') || /^fe[89ab]/.test(v)) return undefined;
  if (v.startsWith('2001:db8:') || v.startsWith('64:ff9b:') || v.startsWith('2002:')) return undefined;
  if (/^f[cd]/.test(v)) return 'private';
  return /^[23]/.test(v) ? 'public' : undefined; // only global unicast 2000::/3
}
