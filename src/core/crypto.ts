/**
 * The one crypto interface of the stack: Ed25519 and BLAKE3. On Node it is
 * node:crypto (cached KeyObjects) and hash-wasm; elsewhere the pure-JS
 * @noble libraries. Both give identical bytes (tested).
 */

export interface Crypto {
  readonly name: string;
  blake3(data: Uint8Array): Uint8Array;
  /** Ed25519 public key of a 32-byte seed. */
  publicKeyOf(seed: Uint8Array): Uint8Array;
  sign(seed: Uint8Array, message: Uint8Array): Uint8Array;
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
}

const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

async function loadDefault(): Promise<Crypto> {
  if (isNode) {
    const { createNodeCrypto } = await import('./crypto-node.ts');
    return createNodeCrypto();
  }
  const { nobleCrypto } = await import('./crypto-noble.ts');
  return nobleCrypto;
}

let active: Crypto = await loadDefault();

export function crypto(): Crypto {
  return active;
}

/** Swap the implementation (tests, browsers with a faster backend). */
export function setCrypto(impl: Crypto): void {
  active = impl;
}
