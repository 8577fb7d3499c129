/**
 * Tickets: how a person invites another. `walkaway:` + base64url of CBOR
 * `[2, networkId, topic, [multiaddr, ...], topicKey | null]` (version 2);
 * version 1 `[1, networkId, topic, [multiaddr, ...]]` still decodes. The
 * topic key (32 bytes) of an encrypted topic travels only inside the ticket,
 * which is handed over out of band: nodes join by topic id and never send it.
 */
import { encode } from 'cborg';
import { decodeStrictCbor, WalkawayError, type CborLimits } from '../core/index.ts';

export interface Ticket {
  networkId: Uint8Array;
  topic: Uint8Array;
  addresses: string[];
  /** The topic key of an encrypted topic (32 bytes); absent for a topic in clear. */
  key?: Uint8Array;
}

const PREFIX = 'walkaway:';
const MAX_ADDRESSES = 8;
const MAX_TEXT = 8192;
const KEY_LENGTH = 32;

/** `[2, networkId, topic, [up to 8 addresses], key]`: 14 items at depth 2. */
export const TICKET_CBOR_LIMITS: CborLimits = { maxItems: 6 + MAX_ADDRESSES, maxDepth: 2, maxBytes: (MAX_TEXT * 3) / 4 };

export function isTicket(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(PREFIX);
}

export function encodeTicket(ticket: Ticket): string {
  if (ticket.key !== undefined && ticket.key.length !== KEY_LENGTH) throw new WalkawayError('INVALID_ARGUMENT', `a ticket's topic key is ${KEY_LENGTH} bytes`);
  const value = [2, ticket.networkId, ticket.topic, ticket.addresses.slice(0, MAX_ADDRESSES), ticket.key ?? null];
  return PREFIX + Buffer.from(encode(value)).toString('base64url');
}

export function decodeTicket(text: string): Ticket {
  if (!isTicket(text) || text.length > MAX_TEXT) throw new WalkawayError('INVALID_ARGUMENT', 'a ticket starts with "walkaway:"');
  const value = decodeStrictCbor(Buffer.from(text.slice(PREFIX.length), 'base64url'), 'ticket', TICKET_CBOR_LIMITS);
  const ok = Array.isArray(value) && ((value[0] === 1 && value.length === 4) || (value[0] === 2 && value.length === 5));
  if (!ok) throw new WalkawayError('MALFORMED', 'unknown ticket version');
  const [, networkId, topic, addresses, key] = value;
  if (!(networkId instanceof Uint8Array) || networkId.length !== 32 || !(topic instanceof Uint8Array) || topic.length !== 32) {
    throw new WalkawayError('MALFORMED', 'ticket network id and topic must be 32 bytes');
  }
  if (!Array.isArray(addresses) || !addresses.every((a) => typeof a === 'string')) throw new WalkawayError('MALFORMED', 'ticket addresses must be strings');
  if (key !== undefined && key !== null && !(key instanceof Uint8Array && key.length === KEY_LENGTH)) {
    throw new WalkawayError('MALFORMED', `a ticket's topic key must be ${KEY_LENGTH} bytes`);
  }
  const ticket: Ticket = { networkId: new Uint8Array(networkId), topic: new Uint8Array(topic), addresses };
  if (key instanceof Uint8Array) ticket.key = new Uint8Array(key);
  return ticket;
}
