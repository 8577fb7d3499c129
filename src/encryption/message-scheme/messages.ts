/**
 * Control messages of the message scheme (DCGKA, Weidner et al. CCS 2021),
 * operation bodies in clear under envelope kind 5, version 1:
 *
 *     [1, type, seq, subject | null, ackSeq | null, members | null, [[recipient, 2SM message], ...]]
 *
 *     bundle   subject = a signed pre-key bundle (seq 0)
 *     one-time-keys  subject = CBOR [[peer, one-time pre-key], ...] the author will answer X3DH from that peer with (seq 0)
 *     create   members = the initial members; a seed for each other one
 *     update   a seed for each other member
 *     remove   subject = the removed member; a seed for each who stays
 *     add      subject = the newcomer; its welcome
 *     ack      subject, ackSeq = the control message acknowledged; forwards to members its author did not know
 *     add-ack  subject, ackSeq = the add acknowledged; the acker's outer ratchet for the newcomer
 *
 * `seq` numbers the author's control messages (1, 2, ...): acks name what
 * they acknowledge by (author, seq), and a newcomer skips what its adder had
 * read. A seed message's recipients are the recipients of its direct
 * messages. Decoding is bounded (items, depth, bytes) before anything else.
 */
import { WalkawayError } from '../../core/index.ts';
import { asArray, asBytes, asString, asUint, decodeCbor, encodeCbor } from '../codec.ts';
import { X25519_LENGTH } from '../prekeys.ts';
import { MAX_TWO_PARTY_BYTES } from '../two-party.ts';

const VERSION = 1;
/** Most members of one group (and recipients of one control message). */
export const MAX_MEMBERS = 512;
const ID = 32;
const MAX_BUNDLE = 512;

export const CONTROL_TYPES = ['bundle', 'one-time-keys', 'create', 'update', 'remove', 'add', 'ack', 'add-ack'] as const;
export type ControlType = (typeof CONTROL_TYPES)[number];

export interface Direct {
  recipient: Uint8Array;
  message: Uint8Array;
}

export type SchemeMessage =
  | { type: 'bundle'; seq: 0; bundle: Uint8Array }
  | { type: 'one-time-keys'; seq: 0; keys: { peer: Uint8Array; key: Uint8Array }[] }
  | { type: 'create'; seq: number; members: Uint8Array[]; directs: Direct[] }
  | { type: 'update'; seq: number; directs: Direct[] }
  | { type: 'remove' | 'add'; seq: number; member: Uint8Array; directs: Direct[] }
  | { type: 'ack' | 'add-ack'; seq: number; ackSender: Uint8Array; ackSeq: number; directs: Direct[] };

export function encodeSchemeMessage(m: SchemeMessage): Uint8Array {
  const directs = (d: Direct[]) => d.map((x) => [x.recipient, x.message]);
  switch (m.type) {
    case 'bundle':
      return encodeCbor([VERSION, m.type, 0, m.bundle, null, null, []]);
    case 'one-time-keys':
      return encodeCbor([VERSION, m.type, 0, encodeCbor(m.keys.map((k) => [k.peer, k.key])), null, null, []]);
    case 'create':
      return encodeCbor([VERSION, m.type, m.seq, null, null, m.members, directs(m.directs)]);
    case 'update':
      return encodeCbor([VERSION, m.type, m.seq, null, null, null, directs(m.directs)]);
    case 'remove':
    case 'add':
      return encodeCbor([VERSION, m.type, m.seq, m.member, null, null, directs(m.directs)]);
    case 'ack':
    case 'add-ack':
      return encodeCbor([VERSION, m.type, m.seq, m.ackSender, m.ackSeq, null, directs(m.directs)]);
  }
}

const LIMITS = { maxItems: 16 + 4 * MAX_MEMBERS, maxDepth: 3, maxBytes: MAX_MEMBERS * (MAX_TWO_PARTY_BYTES / 16) };
/** A direct message carries at most a welcome: the members with their adders and seqs. */
const MAX_DIRECT = MAX_TWO_PARTY_BYTES + 256;

export function decodeSchemeMessage(bytes: Uint8Array): SchemeMessage {
  const what = 'message-scheme control message';
  const f = asArray(decodeCbor(bytes, what, LIMITS), what, 7);
  if (f[0] !== VERSION) throw new WalkawayError('UNSUPPORTED_VERSION', `${what} version ${String(f[0])}, expected ${VERSION}`);
  const type = asString(f[1], `${what} type`, CONTROL_TYPES);
  const seq = asUint(f[2], `${what} seq`);
  const directs = asArray(f[6], `${what} direct messages`, 0, MAX_MEMBERS).map((d) => {
    const [recipient, message] = asArray(d, `${what} direct message`, 2);
    const m = asBytes(message, `${what} direct message body`);
    if (m.length > MAX_DIRECT) throw new WalkawayError('TOO_LARGE', `a direct message is ${m.length} bytes, at most ${MAX_DIRECT}`);
    return { recipient: asBytes(recipient, `${what} recipient`, ID), message: m };
  });
  const none = (i: number) => {
    if (f[i] !== null) throw new WalkawayError('MALFORMED', `${what} ${type}: field ${i} must be null`);
  };
  if (type !== 'bundle' && type !== 'one-time-keys' && seq === 0) throw new WalkawayError('MALFORMED', `${what} ${type}: seq starts at 1`);
  switch (type) {
    case 'bundle': {
      const bundle = asBytes(f[3], `${what} bundle`);
      if (bundle.length > MAX_BUNDLE) throw new WalkawayError('TOO_LARGE', `a bundle is ${bundle.length} bytes`);
      none(4);
      none(5);
      return { type, seq: 0, bundle };
    }
    case 'one-time-keys': {
      none(4);
      none(5);
      const list = decodeCbor(asBytes(f[3], `${what} one-time keys`), `${what} one-time keys`, { maxItems: 4 + 3 * MAX_MEMBERS, maxDepth: 2 });
      const keys = asArray(list, `${what} one-time keys`, 1, MAX_MEMBERS).map((k) => {
        const [peer, key] = asArray(k, `${what} one-time key`, 2);
        return { peer: asBytes(peer, `${what} one-time key peer`, ID), key: asBytes(key, `${what} one-time key`, X25519_LENGTH) };
      });
      return { type, seq: 0, keys };
    }
    case 'create':
      none(3);
      none(4);
      return { type, seq, members: asArray(f[5], `${what} members`, 1, MAX_MEMBERS).map((m) => asBytes(m, `${what} member`, ID)), directs };
    case 'update':
      none(3);
      none(4);
      none(5);
      return { type, seq, directs };
    case 'remove':
    case 'add':
      none(4);
      none(5);
      return { type, seq, member: asBytes(f[3], `${what} member`, ID), directs };
    case 'ack':
    case 'add-ack':
      none(5);
      return { type, seq, ackSender: asBytes(f[3], `${what} acknowledged author`, ID), ackSeq: asUint(f[4], `${what} acknowledged seq`), directs };
  }
}

/** What a welcome (the newcomer's direct message in an add) carries: the adder's outer ratchet and its view of the group. */
export interface Welcome {
  ratchet: Uint8Array;
  /** Members (the adder included), who added each (undefined: a founder) and the last control seq of each the adder read. */
  members: { id: Uint8Array; adder?: Uint8Array; lastSeq: number }[];
}

export function encodeWelcome(w: Welcome): Uint8Array {
  return encodeCbor([w.ratchet, w.members.map((m) => [m.id, m.adder ?? null, m.lastSeq])]);
}

export function decodeWelcome(bytes: Uint8Array): Welcome {
  const what = 'welcome';
  const [ratchet, members] = asArray(decodeCbor(bytes, what, { maxItems: 8 + 4 * MAX_MEMBERS, maxDepth: 3 }), what, 2);
  return {
    ratchet: asBytes(ratchet, `${what} ratchet`, X25519_LENGTH),
    members: asArray(members, `${what} members`, 1, MAX_MEMBERS).map((m) => {
      const [id, adder, lastSeq] = asArray(m, `${what} member`, 3);
      return {
        id: asBytes(id, `${what} member id`, ID),
        adder: adder === null ? undefined : asBytes(adder, `${what} adder`, ID),
        lastSeq: asUint(lastSeq, `${what} seq`),
      };
    }),
  };
}

/** A 32-byte secret carried in a direct message (a seed, a member secret, an outer ratchet). */
export function asSecret(bytes: Uint8Array, what: string): Uint8Array {
  return asBytes(bytes, what, 32);
}
