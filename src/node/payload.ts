/**
 * What a topic's gossip carries: operations (header and body, verified and
 * stored by every receiver) and ephemeral messages (signed, never stored).
 * `[0, headerBytes, body | null]` or `[1, ephemeralBytes]`.
 */
import { decodeStrictCbor, DEFAULT_LIMITS, WalkawayError, type CborLimits } from '../core/index.ts';

export type GossipPayload = { kind: 'operation'; headerBytes: Uint8Array; body?: Uint8Array } | { kind: 'ephemeral'; bytes: Uint8Array };

/** `[0, header, body | null]` or `[1, bytes]`: 4 items, flat; a header and a body at their limits. */
export const PAYLOAD_CBOR_LIMITS: CborLimits = {
  maxItems: 4,
  maxDepth: 1,
  maxBytes: DEFAULT_LIMITS.maxHeaderBytes + DEFAULT_LIMITS.maxBodyBytes + 16,
};

/**
 * Written by hand (every publish and forward encodes one): the same
 * canonical bytes a CBOR encoder makes, one allocation, no intermediate
 * chunks. test/node/wire.test.ts checks it against cborg.
 */
export function encodePayload(payload: GossipPayload): Uint8Array {
  if (payload.kind === 'ephemeral') {
    const out = new Uint8Array(2 + bytesHeadLength(payload.bytes.length) + payload.bytes.length);
    out[0] = 0x82;
    out[1] = 1;
    putBytes(out, 2, payload.bytes);
    return out;
  }
  const { headerBytes, body } = payload;
  const bodyLength = body ? bytesHeadLength(body.length) + body.length : 1;
  const out = new Uint8Array(2 + bytesHeadLength(headerBytes.length) + headerBytes.length + bodyLength);
  out[0] = 0x83;
  out[1] = 0;
  const at = putBytes(out, 2, headerBytes);
  if (body) putBytes(out, at, body);
  else out[at] = 0xf6; // null
  return out;
}

/** Length of a CBOR byte string's head (major type 2) for `n` bytes. */
function bytesHeadLength(n: number): number {
  return n < 24 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
}

/** Writes `bytes` as a CBOR byte string at `offset`; returns the offset after it. */
function putBytes(out: Uint8Array, offset: number, bytes: Uint8Array): number {
  const n = bytes.length;
  if (n < 24) out[offset++] = 0x40 | n;
  else if (n < 0x100) {
    out[offset++] = 0x58;
    out[offset++] = n;
  } else if (n < 0x10000) {
    out[offset++] = 0x59;
    out[offset++] = n >>> 8;
    out[offset++] = n & 0xff;
  } else {
    out[offset++] = 0x5a;
    new DataView(out.buffer, out.byteOffset).setUint32(offset, n);
    offset += 4;
  }
  out.set(bytes, offset);
  return offset + n;
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
