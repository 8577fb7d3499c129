/**
 * The libp2p host of a node: TCP and WebSockets, Noise, yamux, identify,
 * ping, DCUtR, circuit relay (client always, server on request), mDNS on
 * request, a private-network key derived from the network id (strangers
 * cannot even finish a handshake), and allow/deny lists by public key.
 */
import '../polyfill.ts';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { circuitRelayServer, circuitRelayTransport } from '@libp2p/circuit-relay-v2';
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys';
import { dcutr } from '@libp2p/dcutr';
import { identify } from '@libp2p/identify';
import type { PeerId } from '@libp2p/interface';
import { mdns } from '@libp2p/mdns';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { ping } from '@libp2p/ping';
import { privateNetwork } from './private-network.ts';
import { tcp } from '@libp2p/tcp';
import { webSockets } from '@libp2p/websockets';
import { createLibp2p, type Libp2p } from 'libp2p';
import { concatBytes, crypto, toHex, utf8, type PrivateKey } from '../../core/index.ts';
import { publicKeyOfPeer } from './peer-ids.ts';

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
}

/** The libp2p pnet key file format, with a key derived from the network id. */
export function pnetKey(networkId: Uint8Array): Uint8Array {
  const secret = crypto().blake3(concatBytes(utf8('walkaway/pnet/v1/'), networkId));
  return utf8(`/key/swarm/psk/1.0.0/\n/base16/\n${toHex(secret)}`);
}

/** Protocol ids carry the network id, so networks never mix on one host. */
export function protocolId(networkId: Uint8Array, name: string): string {
  return `/walkaway/${toHex(networkId).slice(0, 16)}/${name}/1`;
}

/**
 * libp2p's defaults (1 s for the pnet nonces, 5-10 s for upgrades and
 * negotiation) fail between healthy peers on a busy machine or a slow link;
 * a node that walks away from infrastructure must tolerate both.
 */
export const SLOW_PEER_MS = 30_000;

/** libp2p connection-manager timeouts for slow peers (shared with bench/net's GossipSub hosts). */
export const PATIENT_CONNECTION_MANAGER = {
  dialTimeout: SLOW_PEER_MS,
  addressDialTimeout: SLOW_PEER_MS / 2,
  inboundUpgradeTimeout: SLOW_PEER_MS,
  outboundStreamProtocolNegotiationTimeout: SLOW_PEER_MS,
  inboundStreamProtocolNegotiationTimeout: SLOW_PEER_MS,
};

export async function createHost(options: HostOptions): Promise<Libp2p> {
  const libp2pKey = await generateKeyPairFromSeed('Ed25519', options.privateKey.toBytes());
  const allowed = (peer: PeerId) => isAllowed(peer, options);
  const services: Record<string, (components: any) => unknown> = {
    identify: identify({ timeout: SLOW_PEER_MS }),
    ping: ping(),
    dcutr: dcutr(),
  };
  if (options.relayServer) {
    // Relayed connections default to 2 minutes and 128 KiB: a full sync
    // needs more, and the relay serves one network id only (pnet).
    services.relay = circuitRelayServer({ reservations: { applyDefaultLimit: false, maxReservations: 256 } });
  }
  return createLibp2p({
    privateKey: libp2pKey,
    addresses: { listen: [...options.listen, '/p2p-circuit'] },
    transports: [tcp(), webSockets(), circuitRelayTransport()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionProtector: privateNetwork({ psk: pnetKey(options.networkId), timeoutMs: SLOW_PEER_MS }),
    connectionManager: PATIENT_CONNECTION_MANAGER,
    connectionGater: {
      denyDialPeer: (peer) => !allowed(peer),
      denyInboundEncryptedConnection: (peer) => !allowed(peer),
      denyOutboundEncryptedConnection: (peer) => !allowed(peer),
      // Loopback and private addresses are where LAN peers and tests live.
      denyDialMultiaddr: () => false,
    },
    peerDiscovery: options.mdns ? [mdns()] : [],
    services,
  });
}

function isAllowed(peer: PeerId, options: HostOptions): boolean {
  const key = publicKeyOfPeer(peer);
  if (!key) return false;
  if (options.deny?.includes(key) || options.isBanned?.(key)) return false;
  return !options.allow?.length || options.allow.includes(key);
}

export { peerIdFromPrivateKey };
