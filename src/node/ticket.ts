/**
 * Tickets: how a person invites another. `walkaway:` + base64url of CBOR
 * `[1, networkId, topic, [multiaddr, ...]]`.
 */
import { encode } from 'cborg';
import { decodeStrictCbor, WalkawayError, type CborLimits } from '../core/index.ts';

export interface Ticket {
  networkId: Uint8Array;
  topic: Uint8Array;
  addresses: string[];
}

const PREFIX = 'walkaway:';
const MAX_ADDRESSES = 8;
const MAX_TEXT = 8192;

/** `[1, networkId, topic, [up to 8 addresses]]`: 13 items at depth 2. */
export const TICKET_CBOR_LIMITS: CborLimits = { maxItems: 5 + MAX_ADDRESSES, maxDepth: 2, maxBytes: (MAX_TEXT * 3) / 4 };

export function isTicket(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(PREFIX);
}

export function encodeTicket(ticket: Ticket): string {
  return PREFIX + Buffer.from(encode([1, ticket.networkId, ticket.topic, ticket.addresses.slice(0, MAX_ADDRESSES)])).toString('base64url');
}

export function decodeTicket(text: string): Ticket {
  if (!isTicket(text) || text.length > MAX_TEXT) throw new WalkawayError('INVALID_ARGUMENT', 'a ticket starts with "walkaway:"');
  const value = decodeStrictCbor(Buffer.from(text.slice(PREFIX.length), 'base64url'), 'ticket', TICKET_CBOR_LIMITS);
  if (!Array.isArray(value) || value[0] !== 1 || value.length !== 4) throw new WalkawayError('MALFORMED', 'unknown ticket version');
  const [, networkId, topic, addresses] = value;
  if (!(networkId instanceof Uint8Array) || networkId.length !== 32 || !(topic instanceof Uint8Array) || topic.length !== 32) {
    throw new WalkawayError('MALFORMED', 'ticket network id and topic must be 32 bytes');
  }
  if (!Array.isArray(addresses) || !addresses.every((a) => typeof a === 'string')) throw new WalkawayError('MALFORMED', 'ticket addresses must be strings');
  return { networkId: new Uint8Array(networkId), topic: new Uint8Array(topic), addresses };
}
