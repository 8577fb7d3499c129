/**
 * Strings to bytes (DESIGN.md appendix): a topic string is BLAKE3(utf8(name)),
 * a network id string BLAKE3(utf8("walkaway/network/" + id)); 32-byte arrays
 * are used as they are. A topic's default log id is BLAKE3(topic).
 */
import { utf8 } from './bytes.ts';
import { crypto } from './crypto.ts';
import { WalkawayError } from './errors.ts';

export const DEFAULT_NETWORK_ID = 'walkaway';

export function topicId(topic: string | Uint8Array): Uint8Array {
  return toId(topic, '');
}

export function networkId(id: string | Uint8Array = DEFAULT_NETWORK_ID): Uint8Array {
  return toId(id, 'walkaway/network/');
}

export function logIdForTopic(topic: Uint8Array): Uint8Array {
  return crypto().blake3(topic);
}

function toId(value: string | Uint8Array, prefix: string): Uint8Array {
  if (typeof value === 'string') return crypto().blake3(utf8(prefix + value));
  if (value instanceof Uint8Array && value.length === 32) return new Uint8Array(value);
  throw new WalkawayError('INVALID_ARGUMENT', 'an id is a string or 32 bytes');
}
