/**
 * Shape checks for the CBOR this layer reads off the wire. Decoding itself
 * goes through core's strict, bounded decoder; these only say, with a typed
 * MALFORMED error, that a decoded value is the shape a message needs.
 */
import { encode } from 'cborg';
import { decodeStrictCbor, WalkawayError, type CborLimits } from '../core/index.ts';

/** A plain Uint8Array: on Node cborg returns a pooled Buffer, whose `slice` is a view, not a copy. */
export function encodeCbor(value: unknown): Uint8Array {
  return new Uint8Array(encode(value));
}

export function decodeCbor(bytes: Uint8Array, what: string, limits: CborLimits): unknown {
  return decodeStrictCbor(bytes, what, limits);
}

export function malformed(what: string, expected: string): WalkawayError {
  return new WalkawayError('MALFORMED', `${what}: expected ${expected}`);
}

export function asArray(value: unknown, what: string, min: number, max = min): unknown[] {
  if (!Array.isArray(value) || value.length < min || value.length > max) {
    throw malformed(what, min === max ? `an array of ${min}` : `an array of ${min} to ${max}`);
  }
  return value;
}

export function asBytes(value: unknown, what: string, length?: number): Uint8Array {
  if (!(value instanceof Uint8Array) || (length !== undefined && value.length !== length)) {
    throw malformed(what, length === undefined ? 'a byte string' : `${length} bytes`);
  }
  return value;
}

export function asUint(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw malformed(what, 'an unsigned integer');
  return value;
}

export function asString<T extends string>(value: unknown, what: string, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !allowed.includes(value as T)) throw malformed(what, `one of ${allowed.join(', ')}`);
  return value as T;
}
