/**
 * Bodies sealed under the message scheme (envelope version 1, kind 4):
 *
 *     [1][4][epoch: u32 big-endian][generation: u32 big-endian][ciphertext ‖ tag, 16]
 *
 * The epoch is the sender's control seq that opened its message ratchet (its
 * control messages are public, so this says nothing new); the generation is
 * the step of that ratchet. Key and nonce come from the ratchet, one per
 * message. Associated data: the 10-byte header ‖ topic id ‖ author, so a body
 * cannot be moved to another topic or author, nor relabelled to another step.
 */
import { concatBytes, WalkawayError } from '../../core/index.ts';
import { ENVELOPE_VERSION, TAG_LENGTH } from '../envelope.ts';

export const MESSAGE_KIND = 4;
export const MESSAGE_CONTROL_KIND = 5;
export const SEALED_MESSAGE_HEADER = 10;
const MAX_U32 = 0xffff_ffff;

export interface SealedMessage {
  epoch: number;
  generation: number;
  header: Uint8Array;
  ciphertext: Uint8Array;
}

export function messageHeader(epoch: number, generation: number): Uint8Array {
  if (epoch > MAX_U32 || generation > MAX_U32) throw new WalkawayError('INVALID_ARGUMENT', 'epoch or generation beyond 32 bits');
  const header = new Uint8Array(SEALED_MESSAGE_HEADER);
  header[0] = ENVELOPE_VERSION;
  header[1] = MESSAGE_KIND;
  const view = new DataView(header.buffer);
  view.setUint32(2, epoch);
  view.setUint32(6, generation);
  return header;
}

export function messageAad(header: Uint8Array, topic: Uint8Array, author: Uint8Array): Uint8Array {
  return concatBytes(header, topic, author);
}

/** Splits a kind-4 body; MALFORMED when too short or of another kind. */
export function decodeSealedMessage(body: Uint8Array): SealedMessage {
  if (body.length < SEALED_MESSAGE_HEADER + TAG_LENGTH || body[0] !== ENVELOPE_VERSION || body[1] !== MESSAGE_KIND) {
    throw new WalkawayError('MALFORMED', `a message-scheme body is [1][4] and at least ${SEALED_MESSAGE_HEADER + TAG_LENGTH} bytes`);
  }
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  return {
    epoch: view.getUint32(2),
    generation: view.getUint32(6),
    header: body.subarray(0, SEALED_MESSAGE_HEADER),
    ciphertext: body.subarray(SEALED_MESSAGE_HEADER),
  };
}

export function encodeMessageControl(message: Uint8Array): Uint8Array {
  return concatBytes(new Uint8Array([ENVELOPE_VERSION, MESSAGE_CONTROL_KIND]), message);
}
