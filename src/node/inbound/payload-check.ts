/**
 * The check a gossip payload passes before the overlay caches, forwards or
 * delivers it: it decodes (bounded: payload.ts, core limits), and an
 * operation's signature (which its hash covers) or an ephemeral message's
 * signature verifies. Backlink and seq are the store's to check.
 */
import { decodeOperationUnverified, WalkawayError, type Operation } from '../../core/index.ts';
import { verifyEphemeral, type EphemeralMessage } from '../ephemeral.ts';
import { decodePayload } from '../payload.ts';
import { signatureValid } from '../../core/index.ts';

export type CheckedPayload = { kind: 'operation'; op: Operation } | { kind: 'ephemeral'; message: EphemeralMessage; bytes: Uint8Array };

/** Throws a WalkawayError naming what is wrong. */
export function checkPayload(bytes: Uint8Array): CheckedPayload {
  const payload = decodePayload(bytes);
  if (payload.kind === 'ephemeral') return { kind: 'ephemeral', message: verifyEphemeral(payload.bytes), bytes: payload.bytes };
  const op = decodeOperationUnverified(payload.headerBytes, payload.body);
  if (!signatureValid(op)) throw new WalkawayError('INVALID_SIGNATURE', `signature of gossip operation ${op.hash.toHex()} does not verify`);
  return { kind: 'operation', op };
}
