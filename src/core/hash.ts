import { bytesEqual, toHex } from './bytes.ts';
import { crypto } from './crypto.ts';
import { exactBytes, exactBytesFromHex } from './exact-bytes.ts';

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
    return new Hash(exactBytes(bytes, HASH_LENGTH, 'a hash'));
  }

  static fromHex(hex: string): Hash {
    return new Hash(exactBytesFromHex(hex, HASH_LENGTH, 'a hash'));
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
