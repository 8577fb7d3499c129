/**
 * Tickets: how a person invites another. `walkaway:` + base64url of CBOR
 * `[1, networkId, topic, [multiaddr, ...]]`, or for a private topic
 * `[2, networkId, topic, [multiaddr, ...], owner]` (owner: the 32-byte
 * public key whose first create on the topic's auth log is its group).
 */
import { encode } from 'cborg';
import { decodeStrictCbor, WalkawayError, type CborLimits } from '../core/index.ts';

export interface Ticket {
  networkId: Uint8Array;
  topic: Uint8Array;
  addresses: string[];
  /** A private topic's owner (hex public key). */
  owner?: string;
}

const PREFIX = 'walkaway:';
const MAX_ADDRESSES = 8;
const MAX_TEXT = 8192;

/** `[1, networkId, topic, [up to 8 addresses]]`: 13 items at depth 2. */
export const TICKET_CBOR_LIMITS: CborLimits = { maxItems: 6 + MAX_ADDRESSES, maxDepth: 2, maxBytes: (MAX_TEXT * 3) / 4 };

export function isTicket(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(PREFIX);
}

export function encodeTicket(ticket: Ticket): string {
  const addresses = ticket.addresses.slice(0, MAX_ADDRESSES);
  if (ticket.owner === undefined) return PREFIX + Buffer.from(encode([1, ticket.networkId, ticket.topic, addresses])).toString('base64url');
  if (!/^[0-9a-f]{64}$/.test(ticket.owner)) throw new WalkawayError('INVALID_ARGUMENT', 'a ticket owner is a hex public key (64 characters)');
  return PREFIX + Buffer.from(encode([2, ticket.networkId, ticket.topic, addresses, Buffer.from(ticket.owner, 'hex')])).toString('base64url');
}

export function decodeTicket(text: string): Ticket {
  if (!isTicket(text) || text.length > MAX_TEXT) throw new WalkawayError('INVALID_ARGUMENT', 'a ticket starts with "walkaway:"');
  const value = decodeStrictCbor(Buffer.from(text.slice(PREFIX.length), 'base64url'), 'ticket', TICKET_CBOR_LIMITS);
  const known = Array.isArray(value) && ((value[0] === 1 && value.length === 4) || (value[0] === 2 && value.length === 5));
  if (!known) throw new WalkawayError('MALFORMED', 'unknown ticket version');
  const [, networkId, topic, addresses, owner] = value as unknown[];
  if (!(networkId instanceof Uint8Array) || networkId.length !== 32 || !(topic instanceof Uint8Array) || topic.length !== 32) {
    throw new WalkawayError('MALFORMED', 'ticket network id and topic must be 32 bytes');
  }
  if (!Array.isArray(addresses) || !addresses.every((a) => typeof a === 'string')) throw new WalkawayError('MALFORMED', 'ticket addresses must be strings');
  if (owner !== undefined && !(owner instanceof Uint8Array && owner.length === 32)) throw new WalkawayError('MALFORMED', 'ticket owner must be a 32-byte public key');
  return { networkId: new Uint8Array(networkId), topic: new Uint8Array(topic), addresses, ...(owner ? { owner: Buffer.from(owner).toString('hex') } : {}) };
}
