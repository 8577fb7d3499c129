/**
 * The encoding rules of ed25519-dalek's `verify_strict` (what p2panda-core
 * 0.7 uses), checked before either backend verifies: S is canonical (< L),
 * A and R are canonical encodings (y < p) and neither is a point of small
 * order. node:crypto (OpenSSL) alone accepts a small-order key, which makes
 * a signature that verifies for any message; both backends accept a
 * small-order R. With these checks in front they agree with each other and
 * with verify_strict on every edge case (test/core/ed25519-edge.test.ts).
 *
 * The small-order points are the 8 torsion points; their 32-byte encodings,
 * canonical and not (y + p where that fits in 255 bits; the sign bit set on
 * x = 0), are listed below. The test decodes each with @noble/curves to
 * confirm it is of small order and that no other encoding decodes to one.
 */
import { fromHex } from './bytes.ts';

const SMALL_ORDER_ENCODINGS: Uint8Array[] = [
  // order 1 (identity, y = 1) and its "-0" encoding
  '0100000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000080',
  // order 2 (y = -1) and its "-0" encoding
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
  // order 4 (y = 0, both signs of x)
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0000000000000000000000000000000000000000000000000000000000000080',
  // order 8 (two y values, both signs of x)
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
  // non-canonical: y = p (order 4) and y = p + 1 (identity), both sign bits
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
].map((hex) => fromHex(hex));

/** The first bytes of the list: most keys and R values are ruled out by one lookup. */
const FIRST_BYTES = new Set(SMALL_ORDER_ENCODINGS.map((e) => e[0]));

/** L = 2^252 + 27742317777372353535851937790883648493, little-endian. */
const L_BYTES = fromHex('edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010');

export function smallOrderEncodings(): Uint8Array[] {
  return SMALL_ORDER_ENCODINGS.map((e) => new Uint8Array(e));
}

/** One of the encodings of a small-order point, at `offset` in `bytes`. */
export function isSmallOrderEncoding(bytes: Uint8Array, offset = 0): boolean {
  if (!FIRST_BYTES.has(bytes[offset])) return false;
  outer: for (const e of SMALL_ORDER_ENCODINGS) {
    for (let i = 0; i < 32; i++) if (bytes[offset + i] !== e[i]) continue outer;
    return true;
  }
  return false;
}

/** y (the low 255 bits, little-endian) is below p = 2^255 - 19. */
export function isCanonicalPointEncoding(bytes: Uint8Array, offset = 0): boolean {
  if ((bytes[offset + 31] & 0x7f) !== 0x7f) return true;
  for (let i = 30; i >= 1; i--) if (bytes[offset + i] !== 0xff) return true;
  return bytes[offset] < 0xed;
}

/** S (signature bytes 32..63, little-endian) is below the group order L. */
export function isCanonicalScalar(signature: Uint8Array): boolean {
  for (let i = 31; i >= 0; i--) {
    const s = signature[32 + i];
    if (s !== L_BYTES[i]) return s < L_BYTES[i];
  }
  return false;
}

/** A usable key: 32 bytes, canonical, not of small order. */
export function isStrictPublicKey(publicKey: Uint8Array): boolean {
  return publicKey.length === 32 && isCanonicalPointEncoding(publicKey) && !isSmallOrderEncoding(publicKey);
}

/** The signature's R is canonical and not of small order, S < L. */
export function isStrictSignature(signature: Uint8Array): boolean {
  return signature.length === 64 && isCanonicalScalar(signature) && isCanonicalPointEncoding(signature, 0) && !isSmallOrderEncoding(signature, 0);
}
