/**
 * Strict CBOR decoding of hostile bytes: definite lengths, shortest
 * integers, no undefined/NaN/Infinity, no duplicate map keys; any failure
 * is a typed MALFORMED error naming what was being decoded.
 */
import { decode } from 'cborg';
import { WalkawayError } from './errors.ts';

export const STRICT_CBOR = {
  strict: true,
  allowIndefinite: false,
  allowUndefined: false,
  allowNaN: false,
  allowInfinity: false,
  rejectDuplicateMapKeys: true,
};

export function decodeStrictCbor(bytes: Uint8Array, what: string): unknown {
  try {
    return decode(bytes, STRICT_CBOR);
  } catch (err) {
    throw new WalkawayError('MALFORMED', `${what} is not valid CBOR: ${(err as Error).message}`);
  }
}
