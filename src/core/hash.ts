import { bytesEqual, fromHex, toHex } from './bytes.ts';
import { crypto } from './crypto.ts';
import { WalkawayError } from './errors.ts';

export const HASH_LENGTH = 32;

/** A 32-byte BLAKE3 digest: operation ids, payload hashes, log ids. */
export class Hash {
  readonly bytes: Uint8Array;
  #hex: string | undefined;

  private constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  static digest(data: Uint8Array): Hash {
    return new Hash(crypto().blake3(data));
  }

  static fromBytes(bytes: Uint8Array): Hash {
    if (!(bytes instanceof Uint8Array) || bytes.length !== HASH_LENGTH) {
      throw new WalkawayError('MALFORMED', `a hash is ${HASH_LENGTH} bytes, got ${describe(bytes)}`);
    }
    return new Hash(new Uint8Array(bytes));
  }

  static fromHex(hex: string): Hash {
    try {
      return Hash.fromBytes(fromHex(hex));
    } catch (err) {
      throw new WalkawayError('MALFORMED', `a hash is 64 hex characters: ${(err as Error).message}`);
    }
  }

  toBytes(): Uint8Array {
    return this.bytes;
  }

  toHex(): string {
    return (this.#hex ??= toHex(this.bytes));
  }

  toString(): string {
    return this.toHex();
  }

  equals(other: Hash | Uint8Array): boolean {
    return bytesEqual(this.bytes, other instanceof Hash ? other.bytes : other);
  }
}

export function describe(value: unknown): string {
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  return value === null ? 'null' : typeof value;
}
