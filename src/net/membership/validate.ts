import { describeValue } from '../../core/errors.ts';
import type { HyParViewMessage, PeerId } from './types.ts';

/** Largest TTL accepted from a peer; larger values are a protocol error. */
const MAX_TTL = 64;

export function isPeerId(value: unknown): value is PeerId {
  return (typeof value === 'string' && value.length > 0 && value.length <= 256) || (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0);
}

function isTtl(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_TTL;
}

function isPeerList(value: unknown, max: number): boolean {
  return Array.isArray(value) && value.length <= max && value.every(isPeerId);
}

/**
 * Checks the shape of a message that came off the wire. Returns null when it
 * is well formed, otherwise why not (the machine drops it and reports).
 */
export function checkHyParViewMessage(msg: unknown, maxPeers: number): string | null {
  if (typeof msg !== 'object' || msg === null) return 'not an object';
  const m = msg as Record<string, unknown>;
  switch (m.type) {
    case 'join':
      return null;
    case 'forward-join':
      return isPeerId(m.peer) && isTtl(m.ttl) ? null : 'forward-join needs a peer id and a ttl in 0..64';
    case 'neighbor':
      return m.priority === 'high' || m.priority === 'low' || m.priority === 'swap' ? null : 'neighbor priority must be high, low or swap';
    case 'neighbor-reply':
      return typeof m.accepted === 'boolean' ? null : 'neighbor-reply needs a boolean accepted';
    case 'disconnect':
      return typeof m.alive === 'boolean' ? null : 'disconnect needs a boolean alive';
    case 'shuffle':
      return isPeerId(m.origin) && isTtl(m.ttl) && isPeerList(m.peers, maxPeers) ? null : `shuffle needs an origin, a ttl and at most ${maxPeers} peer ids`;
    case 'shuffle-reply':
      return isPeerList(m.peers, maxPeers) ? null : `shuffle-reply needs at most ${maxPeers} peer ids`;
    default:
      return `unknown membership message type ${describeValue(m.type)}`;
  }
}

/** Narrowing helper for drivers that decode messages themselves. */
export function isHyParViewMessage<P extends PeerId>(msg: unknown, maxPeers = 64): msg is HyParViewMessage<P> {
  return checkHyParViewMessage(msg, maxPeers) === null;
}
