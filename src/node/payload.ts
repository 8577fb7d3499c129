/**
 * What a topic's gossip carries: operations (header and body, verified and
 * stored by every receiver) and ephemeral messages (signed, never stored).
 * `[0, headerBytes, body | null]` or `[1, ephemeralBytes]`.
 */
import { encode } from 'cborg';
import { decodeStrictCbor, WalkawayError } from '../core/index.ts';

export type GossipPayload =
  | { kind: 'operation'; headerBytes: Uint8Array; body?: Uint8Array }
  | { kind: 'ephemeral'; bytes: Uint8Array };

export function encodePayload(payload: GossipPayload): Uint8Array {
  return payload.kind === 'operation'
    ? encode([0, payload.headerBytes, payload.body ?? null])
    : encode([1, payload.bytes]);
}

export function decodePayload(bytes: Uint8Array): GossipPayload {
  const value = decodeStrictCbor(bytes, 'gossip payload');
  if (Array.isArray(value) && value[0] === 0 && value.length === 3 && value[1] instanceof Uint8Array) {
    const body = value[2];
    if (body !== null && !(body instanceof Uint8Array)) throw new WalkawayError('MALFORMED', 'operation body must be bytes or null');
    return { kind: 'operation', headerBytes: value[1], body: body ?? undefined };
  }
  if (Array.isArray(value) && value[0] === 1 && value.length === 2 && value[1] instanceof Uint8Array) {
    return { kind: 'ephemeral', bytes: value[1] };
  }
  throw new WalkawayError('MALFORMED', 'unknown gossip payload');
}
