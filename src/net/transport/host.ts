/**
 * The libp2p host of a node: TCP and WebSockets (loaded on first use:
 * lazy-websockets.ts), Noise, yamux, identify,
 * ping, DCUtR (TCP hole punching with a dial port: hole-punch.ts), circuit
 * relay (client always, server on request), mDNS on
 * request, a private-network key derived from the network id (strangers
 * cannot even finish a handshake), and allow/deny lists by public key.
 * Bounded: connections, pending inbound connections, parallel dials, the dial
 * queue; peer-store addresses expire. Addresses that peers told us about
 * never enter libp2p's peer store before a dial: a peer router asks the
 * node's own address source (address book + dial gate, src/net/connections.ts)
 * when libp2p dials a peer it has no address for.
 */
import '../polyfill.ts';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { circuitRelayServer, circuitRelayTransport } from '@libp2p/circuit-relay-v2';
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys';
import { dcutr } from '@libp2p/dcutr';
import { identify } from '@libp2p/identify';
import type { PeerId, PeerInfo, PeerRouting } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { ping } from '@libp2p/ping';
import { liveness } from './liveness.ts';
import { privateNetwork } from './private-network.ts';
import { freePort, holePunchingDcutr, ObservedAddresses, portReusingTcp, ResponderDials } from './hole-punch.ts';
import { tcp } from '@libp2p/tcp';
import { createLibp2p, type Libp2p } from 'libp2p';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import { createLog } from '../../core/log.ts';
import { concatBytes, crypto, toHex, utf8, type PrivateKey } from '../../core/index.ts';
import { isWebSocketAddress, lazyWebSockets, loadWebSockets } from './lazy-websockets.ts';
import { publicKeyOfPeer } from './peer-ids.ts';
import { KEEPALIVE, SLOW_PEER_MS } from './keepalive.ts';

export interface HostOptions {
  privateKey: PrivateKey;
  /** 32-byte network id (see core/topic.ts `networkId`). */
  networkId: Uint8Array;
  /** Multiaddrs to listen on, e.g. `/ip4/127.0.0.1/tcp/0`. */
  listen: string[];
  mdns?: boolean;
  /** Serve as a circuit relay for this network. */
  relayServer?: boolean;
  /** Hex public keys allowed to connect; all when empty or absent. */
  allow?: string[];
  /** Hex public keys never connected to. */
  deny?: string[];
  /** Hex public keys kept out for now (the gossip service's bans), asked on every connection. */
  isBanned?: (peer: string) => boolean;
  /**
   * Every TCP dial leaves from this local port (0: a free one chosen at
   * start), and observed outside addresses are announced once two peers
   * agree: what TCP hole punching across NATs needs (hole-punch.ts). Off when absent.
   */
  dialPort?: number;
}

/** The libp2p pnet key file format, with a key derived from the network id. */
export function pnetKey(networkId: Uint8Array): Uint8Array {
  const secret = crypto().blake3(concatBytes(utf8('walkaway/pnet/v1/'), networkId));
  return utf8(`/key/swarm/psk/1.0.0/\n/base16/\n${toHex(secret)}`);
}

export { protocolId } from './protocol.ts';

/**
 * libp2p's defaults (1 s for the pnet nonces, 5-10 s for upgrades and
 * negotiation) fail between healthy peers on a busy machine or a slow link;
 * a node that walks away from infrastructure must tolerate both.
 */
export { SLOW_PEER_MS };

/** libp2p connection-manager timeouts for slow peers (shared with bench/net's GossipSub hosts). */
export const PATIENT_CONNECTION_MANAGER = {
  dialTimeout: SLOW_PEER_MS,
  addressDialTimeout: KEEPALIVE.dialTimeoutMs,
  inboundUpgradeTimeout: SLOW_PEER_MS,
  outboundStreamProtocolNegotiationTimeout: SLOW_PEER_MS,
  inboundStreamProtocolNegotiationTimeout: SLOW_PEER_MS,
};

/**
 * Limits on what libp2p itself holds and does (its defaults are 300
 * connections, 100 parallel dials, a queue of 500 dials, 25 addresses per peer).
 */
export function boundedConnectionManager(relayServer = false) {
  return {
    ...PATIENT_CONNECTION_MANAGER,
    maxConnections: relayServer ? 512 : 128,
    maxParallelDials: 16,
    maxDialQueueLength: 64,
    maxPeerAddrsToDial: 8,
    maxIncomingPendingConnections: 16,
    // Inbound connections per second from one IP address (libp2p's default).
    inboundConnectionThreshold: 5,
  };
}

/** Peer-store addresses expire after 10 minutes, address-less peers after an hour. */
export const PEER_STORE_LIMITS = { maxAddressAge: 10 * 60_000, maxPeerAge: 60 * 60_000 };

/** Where a host looks up addresses of a peer it dials by id and has none for. */
export type AddressSource = (peer: string) => Multiaddr[];

const addressSources = new WeakMap<Libp2p, { source?: AddressSource }>();

/** Installs the address source of a host (the node's address book behind its dial gate). */
export function setAddressSource(host: Libp2p, source: AddressSource): void {
  const slot = addressSources.get(host);
  if (slot) slot.source = source;
}

const dialLog = createLog('walkaway:dial');

const observedAddresses = new WeakMap<Libp2p, ObservedAddresses>();

/** The outside addresses a host with a dial port has learned (offered to DCUtR only), or undefined without one. */
export function observedAddressesOf(host: Libp2p): ObservedAddresses | undefined {
  return observedAddresses.get(host);
}

export async function createHost(options: HostOptions): Promise<Libp2p> {
  const libp2pKey = await generateKeyPairFromSeed('Ed25519', options.privateKey.toBytes());
  const allowed = (peer: PeerId) => isAllowed(peer, options);
  // biome-ignore lint/suspicious/noExplicitAny: libp2p types each service factory with its own components type
  const services: Record<string, (components: any) => unknown> = {
    identify: identify({ timeout: SLOW_PEER_MS }),
    ping: ping(),
    liveness: liveness(),
  };
  const dialPort = options.dialPort === 0 ? await freePort() : options.dialPort;
  const observed = dialPort === undefined ? undefined : new ObservedAddresses();
  const responders = new ResponderDials();
  services.dcutr = observed ? holePunchingDcutr(observed, responders) : dcutr();
  if (options.relayServer) {
    // Relayed connections default to 2 minutes and 128 KiB: a full sync
    // needs more, and the relay serves one network id only (pnet).
    services.relay = circuitRelayServer({ reservations: { applyDefaultLimit: false, maxReservations: 256 } });
  }
  // Optional parts load only when asked for (each costs RSS an idle node would keep).
  const webSockets = lazyWebSockets(options.listen.some((a) => isWebSocketAddress(multiaddr(a))) ? await loadWebSockets() : undefined);
  const peerDiscovery = options.mdns ? [(await import('@libp2p/mdns')).mdns()] : [];
  const slot: { source?: AddressSource } = {};
  const router: PeerRouting = {
    async findPeer(peerId: PeerId): Promise<PeerInfo> {
      const key = publicKeyOfPeer(peerId);
      const multiaddrs = key && slot.source ? slot.source(key) : [];
      if (multiaddrs.length === 0) throw new Error('no dialable address known');
      return { id: peerId, multiaddrs };
    },
    // No DHT: nothing is ever found. It waits until aborted, because an empty
    // answer makes libp2p's random walk (relay discovery) spin in a hot loop.
    async *getClosestPeers(_key, options) {
      const signal = options?.signal;
      if (signal && !signal.aborted) await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    },
  };
  const host = await createLibp2p({
    privateKey: libp2pKey,
    addresses: { listen: [...options.listen, '/p2p-circuit'] },
    transports: [dialPort === undefined ? tcp() : portReusingTcp(dialPort, responders), webSockets, circuitRelayTransport()],
    connectionEncrypters: [noise()],
    // yamux grows a stream's receive window up to 16 MiB, but libp2p aborts a
    // stream whose unread buffer passes 4 MiB: a paused reader (sync ingest
    // behind on a busy machine) lost its session. yamux grants window for
    // data buffered but not yet read, so the buffer can reach about two
    // windows (a 100k-operation sync overflowed at 2 MiB): 1 MiB keeps it under.
    streamMuxers: [yamux({ streamOptions: { maxStreamWindowSize: 1024 * 1024 } })],
    connectionProtector: privateNetwork({ psk: pnetKey(options.networkId), timeoutMs: SLOW_PEER_MS }),
    connectionManager: boundedConnectionManager(options.relayServer),
    // Replaced by services.liveness, which keeps a connection whose data still arrives (liveness.ts).
    connectionMonitor: { enabled: false },
    peerStore: PEER_STORE_LIMITS,
    peerRouters: [() => router],
    connectionGater: {
      denyDialPeer: (peer) => !allowed(peer),
      denyInboundEncryptedConnection: (peer) => !allowed(peer),
      denyOutboundEncryptedConnection: (peer) => !allowed(peer),
      // Loopback and private addresses are where LAN peers and tests live;
      // what peers may make us dial is filtered before (address-filter.ts).
      // libp2p asks here before it dials an address (with /p2p/<id> when it
      // dials a peer) and when it checks one is dialable: DEBUG=walkaway:dial.
      denyDialMultiaddr: (address) => {
        dialLog(`dial ${address.toString()}`);
        return false;
      },
    },
    peerDiscovery,
    services,
  });
  addressSources.set(host, slot);
  if (observed) observedAddresses.set(host, observed);
  return host;
}

function isAllowed(peer: PeerId, options: HostOptions): boolean {
  const key = publicKeyOfPeer(peer);
  if (!key) return false;
  if (options.deny?.includes(key) || options.isBanned?.(key)) return false;
  return !options.allow?.length || options.allow.includes(key);
}

export { peerIdFromPrivateKey };
