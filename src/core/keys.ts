import { bytesEqual, fromHex, toHex } from './bytes.ts';
import { crypto } from './crypto.ts';
import { WalkawayError } from './errors.ts';
import { describe } from './hash.ts';

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
    if (!(bytes instanceof Uint8Array) || bytes.length !== PUBLIC_KEY_LENGTH) {
      throw new WalkawayError('MALFORMED', `a public key is ${PUBLIC_KEY_LENGTH} bytes, got ${describe(bytes)}`);
    }
    return new PublicKey(new Uint8Array(bytes));
  }

  static fromHex(hex: string): PublicKey {
    try {
      return PublicKey.fromBytes(fromHex(hex));
    } catch (err) {
      throw new WalkawayError('MALFORMED', `a public key is 64 hex characters: ${(err as Error).message}`);
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
    if (!(bytes instanceof Uint8Array) || bytes.length !== 32) {
      throw new WalkawayError('MALFORMED', `a private key is a 32-byte seed, got ${describe(bytes)}`);
    }
    return new PrivateKey(new Uint8Array(bytes));
  }

  toBytes(): Uint8Array {
    return new Uint8Array(this.#seed);
  }

  sign(message: Uint8Array): Uint8Array {
    return crypto().sign(this.#seed, message);
  }
}
