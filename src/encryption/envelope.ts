/**
 * The body format of an encrypted topic (version 1). Every body of such a
 * topic starts with the format version and a kind byte; nothing else is
 * accepted, so a clear body slipped into an encrypted topic is rejected
 * rather than shown as if it were a message.
 *
 *     sealed:   [1][kind 1=topic key | 2=group secret][key id, 16 bytes][nonce, 24 bytes][ciphertext ‖ tag]
 *     control:  [1][3][CBOR of the group control message, in clear]
 *
 * The associated data of a sealed body is its first 18 bytes (version,
 * kind, key id) plus the topic id and the author's public key. See
 * docs/encryption.md for why the context stops there.
 */
import { concatBytes, WalkawayError } from '../core/index.ts';

export const ENVELOPE_VERSION = 1;
export const KEY_ID_LENGTH = 16;
export const NONCE_LENGTH = 24;
export const TAG_LENGTH = 16;
const SEALED_HEADER = 2 + KEY_ID_LENGTH;
const SEALED_MIN = SEALED_HEADER + NONCE_LENGTH + TAG_LENGTH;

/** 4 and 5: the message scheme's sealed bodies and control messages (message-scheme/sealed.ts). */
export const BODY_KIND = { topicKey: 1, group: 2, control: 3, message: 4, messageControl: 5 } as const;
export type SealedKind = typeof BODY_KIND.topicKey | typeof BODY_KIND.group;

export type Envelope =
  | { kind: SealedKind; keyId: Uint8Array; nonce: Uint8Array; ciphertext: Uint8Array; header: Uint8Array }
  | { kind: typeof BODY_KIND.control | typeof BODY_KIND.messageControl; message: Uint8Array }
  /** A message-scheme body, whole: MessageGroup.open reads its header. */
  | { kind: typeof BODY_KIND.message; body: Uint8Array };

export function sealedHeader(kind: SealedKind, keyId: Uint8Array): Uint8Array {
  return concatBytes(new Uint8Array([ENVELOPE_VERSION, kind]), keyId);
}

export function encodeControl(message: Uint8Array): Uint8Array {
  return concatBytes(new Uint8Array([ENVELOPE_VERSION, BODY_KIND.control]), message);
}

/** The bytes a sealed body authenticates beside its ciphertext. */
export function associatedData(header: Uint8Array, topic: Uint8Array, author: Uint8Array): Uint8Array {
  return concatBytes(header, topic, author);
}

/** Splits a body of an encrypted topic; MALFORMED or UNSUPPORTED_VERSION otherwise. */
export function decodeEnvelope(body: Uint8Array): Envelope {
  if (body.length < 2) throw new WalkawayError('MALFORMED', `an encrypted body is at least 2 bytes, got ${body.length}`);
  if (body[0] !== ENVELOPE_VERSION) {
    throw new WalkawayError('UNSUPPORTED_VERSION', `encrypted body format ${body[0]}, expected ${ENVELOPE_VERSION}`, { version: body[0] });
  }
  const kind = body[1];
  if (kind === BODY_KIND.control || kind === BODY_KIND.messageControl) return { kind, message: body.subarray(2) };
  if (kind === BODY_KIND.message) return { kind, body };
  if (kind !== BODY_KIND.topicKey && kind !== BODY_KIND.group) {
    throw new WalkawayError('MALFORMED', `encrypted body kind ${kind} is none of 1 to 5`);
  }
  if (body.length < SEALED_MIN) {
    throw new WalkawayError('MALFORMED', `a sealed body is at least ${SEALED_MIN} bytes, got ${body.length}`);
  }
  return {
    kind,
    header: body.subarray(0, SEALED_HEADER),
    keyId: body.subarray(2, SEALED_HEADER),
    nonce: body.subarray(SEALED_HEADER, SEALED_HEADER + NONCE_LENGTH),
    ciphertext: body.subarray(SEALED_HEADER + NONCE_LENGTH),
  };
}
