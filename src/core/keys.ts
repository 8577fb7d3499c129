import { bytesEqual, toHex } from './bytes.ts';
import { crypto } from './crypto.ts';
import { exactBytes, exactBytesFromHex } from './exact-bytes.ts';

export const PUBLIC_KEY_LENGTH = 32;
export const SIGNATURE_LENGTH = 64;

/** An Ed25519 public key: an author's identity and a node's peer id. */
export class PublicKey {
  readonly bytes: Uint8Array;
  #hex: string | undefined;

  private constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  static fromBytes(bytes: Uint8Array): PublicKey {
    return new PublicKey(exactBytes(bytes, PUBLIC_KEY_LENGTH, 'a public key'));
  }

  static fromHex(hex: string): PublicKey {
    return new PublicKey(exactBytesFromHex(hex, PUBLIC_KEY_LENGTH, 'a public key'));
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

  equals(other: PublicKey): boolean {
    return bytesEqual(this.bytes, other.bytes);
  }

  verify(message: Uint8Array, signature: Uint8Array): boolean {
    return crypto().verify(this.bytes, message, signature);
  }
}

/** An Ed25519 private key (its 32-byte seed). */
export class PrivateKey {
  readonly #seed: Uint8Array;
  readonly publicKey: PublicKey;

  private constructor(seed: Uint8Array) {
    this.#seed = seed;
    this.publicKey = PublicKey.fromBytes(crypto().publicKeyOf(seed));
  }

  static generate(): PrivateKey {
    const seed = new Uint8Array(32);
    globalThis.crypto.getRandomValues(seed);
    return new PrivateKey(seed);
  }

  static fromBytes(bytes: Uint8Array): PrivateKey {
    return new PrivateKey(exactBytes(bytes, 32, 'a private key seed'));
  }

  toBytes(): Uint8Array {
    return new Uint8Array(this.#seed);
  }

  sign(message: Uint8Array): Uint8Array {
    return crypto().sign(this.#seed, message);
  }
}
