/**
 * Group control messages (operation bodies in clear, envelope kind 3),
 * version 1:
 *
 *     [1, 'bundle', bundle]                       a member's signed pre-key bundle
 *     [1, 'secret', reason, state, secretId, newcomer | null, [[recipient, 2SM message], ...]]
 *     [1, 'ack', state, member]                   a manager confirms an add (the hazard rule)
 *
 * A secret message gives one fresh secret to each recipient over its 2SM
 * channel; a welcome's box for the newcomer also carries the history the
 * policy allows. Boxes are decoded within bounds before anything is tried.
 */
import { WalkawayError } from '../core/index.ts';
import { asArray, asBytes, asString, asUint, decodeCbor, encodeCbor } from './codec.ts';
import { KEY_ID_LENGTH } from './envelope.ts';
import { MAX_TWO_PARTY_BYTES } from './two-party.ts';

const VERSION = 1;
/** The most recipients of one secret message (members of a group). */
export const MAX_RECIPIENTS = 1024;
/** The most secrets a welcome carries. */
export const MAX_HISTORY = 1024;
const ID = 32;

export const SECRET_REASONS = ['create', 'update', 'remove', 'welcome'] as const;
export type SecretReason = (typeof SECRET_REASONS)[number];

export type ControlMessage =
  | { type: 'bundle'; bundle: Uint8Array }
  | {
      type: 'secret';
      reason: SecretReason;
      state: Uint8Array;
      secretId: Uint8Array;
      newcomer?: Uint8Array;
      boxes: { recipient: Uint8Array; message: Uint8Array }[];
    }
  | { type: 'ack'; state: Uint8Array; member: Uint8Array };

export function encodeControlMessage(m: ControlMessage): Uint8Array {
  switch (m.type) {
    case 'bundle':
      return encodeCbor([VERSION, m.type, m.bundle]);
    case 'secret':
      return encodeCbor([VERSION, m.type, m.reason, m.state, m.secretId, m.newcomer ?? null, m.boxes.map((b) => [b.recipient, b.message])]);
    case 'ack':
      return encodeCbor([VERSION, m.type, m.state, m.member]);
  }
}

const LIMITS = { maxItems: 8 + 3 * MAX_RECIPIENTS, maxDepth: 3 };

export function decodeControlMessage(bytes: Uint8Array): ControlMessage {
  const what = 'group control message';
  const fields = asArray(decodeCbor(bytes, what, LIMITS), what, 3, 7);
  if (fields[0] !== VERSION) throw new WalkawayError('UNSUPPORTED_VERSION', `${what} version ${String(fields[0])}, expected ${VERSION}`);
  const type = asString(fields[1], `${what} type`, ['bundle', 'secret', 'ack'] as const);
  if (type === 'bundle') {
    asArray(fields, what, 3);
    return { type, bundle: asBytes(fields[2], 'bundle') };
  }
  if (type === 'ack') {
    asArray(fields, what, 4);
    return { type, state: asBytes(fields[2], 'ack state', ID), member: asBytes(fields[3], 'ack member', ID) };
  }
  asArray(fields, what, 7);
  const boxes = asArray(fields[6], 'secret boxes', 0, MAX_RECIPIENTS).map((b) => {
    const [recipient, message] = asArray(b, 'secret box', 2);
    const m = asBytes(message, 'secret box message');
    if (m.length > MAX_TWO_PARTY_BYTES + 256) throw new WalkawayError('TOO_LARGE', `a secret box is ${m.length} bytes`);
    return { recipient: asBytes(recipient, 'secret box recipient', ID), message: m };
  });
  return {
    type,
    reason: asString(fields[2], 'secret reason', SECRET_REASONS),
    state: asBytes(fields[3], 'secret state', ID),
    secretId: asBytes(fields[4], 'secret id', KEY_ID_LENGTH),
    newcomer: fields[5] === null ? undefined : asBytes(fields[5], 'secret newcomer', ID),
    boxes,
  };
}

/** What a box carries to one recipient: the fresh secret, and for a newcomer the history with Lamport times. */
export interface BoxContent {
  secret: Uint8Array;
  history: { secret: Uint8Array; lamport: number }[];
}

export function encodeBox(c: BoxContent): Uint8Array {
  return encodeCbor([c.secret, c.history.map((h) => [h.secret, h.lamport])]);
}

export function decodeBox(bytes: Uint8Array): BoxContent {
  const what = 'secret box content';
  const [secret, history] = asArray(decodeCbor(bytes, what, { maxItems: 4 + 3 * MAX_HISTORY, maxDepth: 3 }), what, 2);
  return {
    secret: asBytes(secret, `${what} secret`, 32),
    history: asArray(history, `${what} history`, 0, MAX_HISTORY).map((h) => {
      const [s, lamport] = asArray(h, `${what} history entry`, 2);
      return { secret: asBytes(s, `${what} history secret`, 32), lamport: asUint(lamport, `${what} history lamport`) };
    }),
  };
}
