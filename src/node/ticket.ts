/**
 * Tickets: how a person invites another. `walkaway:` + base64url of CBOR
 * `[1, networkId, topic, [multiaddr, ...]]`.
 */
import { encode } from 'cborg';
import { decodeStrictCbor, WalkawayError } from '../core/index.ts';

export interface Ticket {
  networkId: Uint8Array;
  topic: Uint8Array;
  addresses: string[];
}

const PREFIX = 'walkaway:';

export function isTicket(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(PREFIX);
}

export function encodeTicket(ticket: Ticket): string {
  return PREFIX + Buffer.from(encode([1, ticket.networkId, ticket.topic, ticket.addresses.slice(0, 8)])).toString('base64url');
}

export function decodeTicket(text: string): Ticket {
  if (!isTicket(text) || text.length > 8192) throw new WalkawayError('INVALID_ARGUMENT', 'a ticket starts with "walkaway:"');
  const value = decodeStrictCbor(Buffer.from(text.slice(PREFIX.length), 'base64url'), 'ticket');
  if (!Array.isArray(value) || value[0] !== 1 || value.length !== 4) throw new WalkawayError('MALFORMED', 'unknown ticket version');
  const [, networkId, topic, addresses] = value;
  if (!(networkId instanceof Uint8Array) || networkId.length !== 32 || !(topic instanceof Uint8Array) || topic.length !== 32) {
    throw new WalkawayError('MALFORMED', 'ticket network id and topic must be 32 bytes');
  }
  if (!Array.isArray(addresses) || !addresses.every((a) => typeof a === 'string')) throw new WalkawayError('MALFORMED', 'ticket addresses must be strings');
  return { networkId: new Uint8Array(networkId), topic: new Uint8Array(topic), addresses };
}
