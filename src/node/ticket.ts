/**
 * Tickets: how a person invites another. `walkaway:` + base64url of CBOR:
 *   version 1  `[1, networkId, topic, [multiaddr, ...]]`: a topic in clear;
 *   version 2  `[2, networkId, topic, [multiaddr, ...], owner | null, topicKey?]`
 *   version 3  `[3, networkId, topic, [multiaddr, ...], owner, 'message']`: a private
 *              topic under the message scheme (forward secrecy); older builds refuse it
 * owner: the 32-byte public key whose first create on a private topic's auth
 * log is its group; topicKey: the 32-byte pre-shared key of a room encrypted
 * with a topic key. A ticket with neither is written as version 1, so older
 * builds still read it. The topic key travels only inside the ticket, which
 * is handed over out of band: nodes join by topic id and never send it.
 */
import { encode } from 'cborg';
import { bytesEqual, decodeStrictCbor, topicId, WalkawayError, type CborLimits } from '../core/index.ts';

export interface Ticket {
  networkId: Uint8Array;
  topic: Uint8Array;
  addresses: string[];
  /** A private topic's owner (hex public key). */
  owner?: string;
  /** The topic key of a room encrypted with one (32 bytes). */
  key?: Uint8Array;
  /** A private topic encrypted with the message scheme (chosen when it was created). */
  scheme?: 'message';
}

const PREFIX = 'walkaway:';
const MAX_ADDRESSES = 8;
const MAX_TEXT = 8192;
const KEY_LENGTH = 32;

/** `[2, networkId, topic, [up to 8 addresses], owner, key]`: 15 items at depth 2. */
export const TICKET_CBOR_LIMITS: CborLimits = { maxItems: 7 + MAX_ADDRESSES, maxDepth: 2, maxBytes: (MAX_TEXT * 3) / 4 };

export function isTicket(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(PREFIX);
}

export function encodeTicket(ticket: Ticket): string {
  const addresses = ticket.addresses.slice(0, MAX_ADDRESSES);
  const { owner, key } = ticket;
  if (owner !== undefined && !/^[0-9a-f]{64}$/.test(owner)) throw new WalkawayError('INVALID_ARGUMENT', 'a ticket owner is a hex public key (64 characters)');
  if (key !== undefined && key.length !== KEY_LENGTH) throw new WalkawayError('INVALID_ARGUMENT', `a ticket's topic key is ${KEY_LENGTH} bytes`);
  let value: unknown[] = [1, ticket.networkId, ticket.topic, addresses];
  if (ticket.scheme !== undefined) {
    if (ticket.scheme !== 'message' || owner === undefined || key !== undefined) {
      throw new WalkawayError('INVALID_ARGUMENT', "a ticket's scheme is 'message', for a private topic without a topic key");
    }
    value = [3, ticket.networkId, ticket.topic, addresses, Buffer.from(owner, 'hex'), ticket.scheme];
  } else if (owner !== undefined || key !== undefined) {
    value = [2, ticket.networkId, ticket.topic, addresses, owner === undefined ? null : Buffer.from(owner, 'hex')];
    if (key !== undefined) value.push(key);
  }
  return PREFIX + Buffer.from(encode(value)).toString('base64url');
}

export function decodeTicket(text: string): Ticket {
  if (!isTicket(text) || text.length > MAX_TEXT) throw new WalkawayError('INVALID_ARGUMENT', 'a ticket starts with "walkaway:"');
  const value = decodeStrictCbor(Buffer.from(text.slice(PREFIX.length), 'base64url'), 'ticket', TICKET_CBOR_LIMITS);
  const known =
    Array.isArray(value) &&
    ((value[0] === 1 && value.length === 4) || (value[0] === 2 && (value.length === 5 || value.length === 6)) || (value[0] === 3 && value.length === 6));
  if (!known) throw new WalkawayError('MALFORMED', 'unknown ticket version');
  const v3 = value[0] === 3;
  const [, networkId, topic, addresses, owner] = value as unknown[];
  const key = v3 ? undefined : (value as unknown[])[5];
  if (v3 && (value[5] !== 'message' || !(owner instanceof Uint8Array)))
    throw new WalkawayError('MALFORMED', "a version-3 ticket names an owner and the scheme 'message'");
  if (!(networkId instanceof Uint8Array) || networkId.length !== 32 || !(topic instanceof Uint8Array) || topic.length !== 32) {
    throw new WalkawayError('MALFORMED', 'ticket network id and topic must be 32 bytes');
  }
  if (!Array.isArray(addresses) || !addresses.every((a) => typeof a === 'string')) throw new WalkawayError('MALFORMED', 'ticket addresses must be strings');
  if (addresses.length > MAX_ADDRESSES) {
    throw new WalkawayError('TOO_LARGE', `ticket: more than ${MAX_ADDRESSES} addresses`, { unit: 'items', limit: MAX_ADDRESSES, actual: addresses.length });
  }
  if (owner !== undefined && owner !== null && !(owner instanceof Uint8Array && owner.length === 32)) {
    throw new WalkawayError('MALFORMED', 'ticket owner must be a 32-byte public key');
  }
  if (key !== undefined && !(key instanceof Uint8Array && key.length === KEY_LENGTH))
    throw new WalkawayError('MALFORMED', `a ticket's topic key must be ${KEY_LENGTH} bytes`);
  const ticket: Ticket = { networkId: new Uint8Array(networkId), topic: new Uint8Array(topic), addresses };
  if (owner instanceof Uint8Array) ticket.owner = Buffer.from(owner).toString('hex');
  if (key instanceof Uint8Array) ticket.key = new Uint8Array(key);
  if (v3) ticket.scheme = 'message';
  return ticket;
}

/** The topic a name or a ticket stands for, and a ticket's addresses (INVALID_ARGUMENT for another network's ticket). */
export function topicOf(topicOrTicket: string | Uint8Array, networkId: Uint8Array): { topic: Uint8Array; addresses?: string[] } {
  if (!isTicket(topicOrTicket)) return { topic: topicId(topicOrTicket) };
  const ticket = decodeTicket(topicOrTicket as string);
  if (!bytesEqual(ticket.networkId, networkId)) throw new WalkawayError('INVALID_ARGUMENT', 'the ticket is for another network id');
  return { topic: ticket.topic, addresses: ticket.addresses };
}
