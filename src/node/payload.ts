/**
 * What a topic's gossip carries: operations (header and body, verified and
 * stored by every receiver) and ephemeral messages (signed, never stored).
 * `[0, headerBytes, body | null]` or `[1, ephemeralBytes]`.
 */
import { encode } from 'cborg';
import { decodeStrictCbor, DEFAULT_LIMITS, WalkawayError, type CborLimits } from '../core/index.ts';

export type GossipPayload = { kind: 'operation'; headerBytes: Uint8Array; body?: Uint8Array } | { kind: 'ephemeral'; bytes: Uint8Array };

/** `[0, header, body | null]` or `[1, bytes]`: 4 items, flat; a header and a body at their limits. */
export const PAYLOAD_CBOR_LIMITS: CborLimits = {
  maxItems: 4,
  maxDepth: 1,
  maxBytes: DEFAULT_LIMITS.maxHeaderBytes + DEFAULT_LIMITS.maxBodyBytes + 16,
};

export function encodePayload(payload: GossipPayload): Uint8Array {
  return payload.kind === 'operation' ? encode([0, payload.headerBytes, payload.body ?? null]) : encode([1, payload.bytes]);
}

export function decodePayload(bytes: Uint8Array): GossipPayload {
  const value = decodeStrictCbor(bytes, 'gossip payload', PAYLOAD_CBOR_LIMITS);
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
