/**
 * Gossip frames between two hosts: one CBOR array per length-prefixed frame.
 *   [0, topic, message]   an overlay message (HyParView or PlumTree) of one topic
 *   [1, [[peer, [multiaddr, ...]], ...]]   addresses of peers named in overlay messages
 * Every field is checked here; the machines check the messages themselves.
 */
import { encode } from 'cborg';
import { decodeStrictCbor, WalkawayError, type CborLimits } from '../../core/index.ts';
import type { OverlayMessage } from '../overlay/index.ts';

export type GossipFrame = { kind: 'overlay'; topic: Uint8Array; message: OverlayMessage<string> } | { kind: 'addresses'; peers: [string, string[]][] };

const MAX_PEERS = 64;
const MAX_ADDRS = 16;

/**
 * What one gossip frame may hold, checked while scanning: an `ihave` of 256
 * ids and hops (~520 items) or an address frame of 64 peers with 16
 * addresses each (~1160 items); depth 4 is `[1, [[peer, [addr]]]]`. The
 * bytes are the frame limit of the gossip stream.
 */
export const GOSSIP_CBOR_LIMITS: CborLimits = { maxItems: 2048, maxDepth: 4, maxBytes: 64 * 1024 };

export function encodeGossipFrame(frame: GossipFrame): Uint8Array {
  if (frame.kind === 'overlay') return encode([0, frame.topic, frame.message]);
  // Within what receivers decode (GOSSIP_CBOR_LIMITS): at most 64 peers of 16 addresses.
  return encode([1, frame.peers.slice(0, MAX_PEERS).map(([peer, addrs]) => [peer, addrs.slice(0, MAX_ADDRS)])]);
}

export function decodeGossipFrame(bytes: Uint8Array): GossipFrame {
  const value = decodeStrictCbor(bytes, 'gossip frame', GOSSIP_CBOR_LIMITS);
  if (!Array.isArray(value)) throw new WalkawayError('MALFORMED', 'gossip frame must be an array');
  if (value[0] === 0 && value.length === 3) {
    const [, topic, message] = value;
    if (!(topic instanceof Uint8Array) || topic.length !== 32) throw new WalkawayError('MALFORMED', 'gossip topic must be 32 bytes');
    if (typeof message !== 'object' || message === null || Array.isArray(message)) {
      throw new WalkawayError('MALFORMED', 'overlay message must be a map');
    }
    return { kind: 'overlay', topic, message: message as OverlayMessage<string> };
  }
  if (value[0] === 1 && value.length === 2 && Array.isArray(value[1]) && value[1].length <= MAX_PEERS) {
    const peers: [string, string[]][] = [];
    for (const entry of value[1]) {
      if (!Array.isArray(entry) || typeof entry[0] !== 'string' || !/^[0-9a-f]{64}$/.test(entry[0])) continue;
      if (!Array.isArray(entry[1])) continue;
      const addrs = entry[1].filter((a: unknown): a is string => typeof a === 'string' && a.length < 512).slice(0, MAX_ADDRS);
      peers.push([entry[0], addrs]);
    }
    return { kind: 'addresses', peers };
  }
  throw new WalkawayError('PROTOCOL', 'unknown gossip frame');
}

/** Peer ids an overlay message names (the receiver may need their addresses). */
export function peersNamedIn(message: OverlayMessage<string>): string[] {
  switch (message.type) {
    case 'forward-join':
      return [message.peer];
    case 'shuffle':
      return [message.origin, ...message.peers];
    case 'shuffle-reply':
      return message.peers;
    default:
      return [];
  }
}
