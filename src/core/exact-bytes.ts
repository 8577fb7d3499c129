/** Fixed-length byte values (hashes, keys) from untrusted input: a copy, or a MALFORMED error. */
import { fromHex } from './bytes.ts';
import { WalkawayError } from './errors.ts';

export function exactBytes(bytes: Uint8Array, length: number, what: string): Uint8Array {
  if (!(bytes instanceof Uint8Array) || bytes.length !== length) {
    const got = bytes instanceof Uint8Array ? `${bytes.length} bytes` : bytes === null ? 'null' : typeof bytes;
    throw new WalkawayError('MALFORMED', `${what} is ${length} bytes, got ${got}`);
  }
  return new Uint8Array(bytes);
}

export function exactBytesFromHex(hex: string, length: number, what: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = fromHex(hex);
  } catch (err) {
    throw new WalkawayError('MALFORMED', `${what} is ${length * 2} hex characters: ${(err as Error).message}`);
  }
  return exactBytes(bytes, length, what);
}
