import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ed25519 } from '@noble/curves/ed25519.js';
import * as nodeCrypto from 'node:crypto';
import {
  createOperation,
  crypto,
  decodeOperation,
  decodeOperationUnverified,
  encodeHeader,
  fromHex,
  isWalkawayError,
  nobleCrypto,
  PrivateKey,
  PublicKey,
  toHex,
  VerifyPool,
  withSignature,
  type Crypto,
} from '../../src/core/index.ts';
import { isCanonicalPointEncoding, isSmallOrderEncoding, smallOrderEncodings } from '../../src/core/ed25519-strict.ts';

const node = crypto();
const backends: Crypto[] = [node, nobleCrypto];

/**
 * The 12 edge cases of "Taming the many EdDSAs" (Chalkias, Garillot,
 * Nikolaenko 2020), as published in ed25519-speccheck. `strict` is what
 * ed25519-dalek's verify_strict (p2panda-core 0.7) answers: only case 3,
 * mixed-order A and R with the cofactorless equation holding, verifies.
 */
const TAMING: { what: string; msg: string; pk: string; sig: string; strict: boolean }[] = [
  {
    what: '0: S = 0, small A, small R',
    msg: '8c93255d71dcab10e8f379c26200f3c7bd5f09d9bc3068d3ef4edeb4853022b6',
    pk: 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
    sig: 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a0000000000000000000000000000000000000000000000000000000000000000',
    strict: false,
  },
  {
    what: '1: 0 < S < L, small A, mixed R',
    msg: '9bd9f44f4dcc75bd531b56b2cd280b0bb38fc1cd6d1230e14861d861de092e79',
    pk: 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
    sig: 'f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43a5bb704786be79fc476f91d3f3f89b03984d8068dcf1bb7dfc6637b45450ac04',
    strict: false,
  },
  {
    what: '2: 0 < S < L, mixed A, small R',
    msg: 'aebf3f2601a0c8c5d39cc7d8911642f740b78168218da8471772b35f9d35b9ab',
    pk: 'f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43',
    sig: 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa8c4bd45aecaca5b24fb97bc10ac27ac8751a7dfe1baff8b953ec9f5833ca260e',
    strict: false,
  },
  {
    what: '3: 0 < S < L, mixed A, mixed R, cofactorless holds',
    msg: '9bd9f44f4dcc75bd531b56b2cd280b0bb38fc1cd6d1230e14861d861de092e79',
    pk: 'cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d',
    sig: '9046a64750444938de19f227bb80485e92b83fdb4b6506c160484c016cc1852f87909e14428a7a1d62e9f22f3d3ad7802db02eb2e688b6c52fcd6648a98bd009',
    strict: true,
  },
  {
    what: '4: mixed A, mixed R, only the cofactored equation holds',
    msg: 'e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec4011eaccd55b53f56c',
    pk: 'cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d',
    sig: '160a1cb0dc9c0258cd0a7d23e94d8fa878bcb1925f2c64246b2dee1796bed5125ec6bc982a269b723e0668e540911a9a6a58921d6925e434ab10aa7940551a09',
    strict: false,
  },
  {
    what: '5: mixed A, mixed R, only the cofactored equation holds (2)',
    msg: 'e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec4011eaccd55b53f56c',
    pk: 'cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d',
    sig: '21122a84e0b5fca4052f5b1235c80a537878b38f3142356b2c2384ebad4668b7e40bc836dac0f71076f9abe3a53f9c03c1ceeeddb658d0030494ace586687405',
    strict: false,
  },
  {
    what: '6: S > L',
    msg: '85e241a07d148b41e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec40',
    pk: '442aad9f089ad9e14647b1ef9099a1ff4798d78589e66f28eca69c11f582a623',
    sig: 'e96f66be976d82e60150baecff9906684aebb1ef181f67a7189ac78ea23b6c0e547f7690a0e2ddcd04d87dbc3490dc19b3b3052f7ff0538cb68afb369ba3a514',
    strict: false,
  },
  {
    what: '7: S >> L',
    msg: '85e241a07d148b41e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec40',
    pk: '442aad9f089ad9e14647b1ef9099a1ff4798d78589e66f28eca69c11f582a623',
    sig: '8ce5b96c8f26d0ab6c47958c9e68b937104cd36e13c33566acd2fe8d38aa19427e71f98a473474f2f13f06f97c20d58cc3f54b8bd0d272f42b695dd7e89a8c22',
    strict: false,
  },
  {
    what: '8: non-canonical small-order R',
    msg: '9bedc267423725d473888631ebf45988bad3db83851ee85c85e241a07d148b41',
    pk: 'f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43',
    sig: 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff03be9678ac102edcd92b0210bb34d7428d12ffc5df5f37e359941266a4e35f0f',
    strict: false,
  },
  {
    what: '9: non-canonical small-order R (2)',
    msg: '9bedc267423725d473888631ebf45988bad3db83851ee85c85e241a07d148b41',
    pk: 'f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43',
    sig: 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffca8c5b64cd208982aa38d4936621a4775aa233aa0505711d8fdcfdaa943d4908',
    strict: false,
  },
  {
    what: '10: non-canonical small-order A',
    msg: 'e96b7021eb39c1a163b6da4e3093dcd3f21387da4cc4572be588fafae23c155b',
    pk: 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
    sig: 'a9d55260f765261eb9b84e106f665e00b867287a761990d7135963ee0a7d59dca5bb704786be79fc476f91d3f3f89b03984d8068dcf1bb7dfc6637b45450ac04',
    strict: false,
  },
  {
    what: '11: non-canonical small-order A (2)',
    msg: '39a591f5321bbe07fd5a23dc2f39d025d74526615746727ceefd6e82ae65c06f',
    pk: 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
    sig: 'a9d55260f765261eb9b84e106f665e00b867287a761990d7135963ee0a7d59dca5bb704786be79fc476f91d3f3f89b03984d8068dcf1bb7dfc6637b45450ac04',
    strict: false,
  },
];

for (const c of TAMING) {
  test(`Taming the many EdDSAs, case ${c.what}: both backends answer ${c.strict} like verify_strict`, () => {
    for (const impl of backends) {
      assert.equal(impl.verify(fromHex(c.pk), fromHex(c.msg), fromHex(c.sig)), c.strict, impl.name);
    }
  });
}

test('the small-order list holds exactly the encodings that decode to a point of small order', () => {
  const listed = new Set(smallOrderEncodings().map(toHex));
  assert.equal(listed.size, 14);
  for (const e of smallOrderEncodings()) {
    assert.ok(ed25519.Point.fromBytes(e, true).isSmallOrder(), toHex(e));
  }
  // Every torsion point: the multiples of an order-8 point.
  const t8 = ed25519.Point.fromBytes(smallOrderEncodings()[6], true);
  let p = t8;
  for (let i = 0; i < 8; i++, p = p.add(t8)) assert.ok(listed.has(toHex(p.toBytes())), `${i + 1}·T8`);
  // Every other encoding of them: y + p fits in 255 bits only for y < 19, and
  // the sign bit on x = 0. Try all y < 19 and y + p, with both sign bits.
  const P = (1n << 255n) - 19n;
  for (let y = 0n; y < 19n; y++) {
    for (const value of [y, y + P, P - 1n]) {
      for (const sign of [0, 0x80]) {
        const bytes = new Uint8Array(32);
        let v = value;
        for (let i = 0; i < 32; i++, v >>= 8n) bytes[i] = Number(v & 0xffn);
        bytes[31] |= sign;
        let small = false;
        try {
          small = ed25519.Point.fromBytes(bytes, true).isSmallOrder();
        } catch {}
        assert.equal(isSmallOrderEncoding(bytes), small || listed.has(toHex(bytes)), toHex(bytes));
      }
    }
  }
});

test('canonical point encodings: y < p', () => {
  assert.ok(isCanonicalPointEncoding(fromHex('ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f')));
  assert.ok(!isCanonicalPointEncoding(fromHex('edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f')));
  assert.ok(!isCanonicalPointEncoding(fromHex('f0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff')));
});

const seed = new Uint8Array(32).fill(9);
const message = new TextEncoder().encode('walkaway edge');

test('a small-order key is refused for any message, in both backends and the verify pool', async () => {
  // The identity key with R = identity and S = 0 satisfies [S]B = R + [k]A for every message.
  const identity = fromHex('0100000000000000000000000000000000000000000000000000000000000000');
  const sig = new Uint8Array(64);
  sig.set(identity, 0);
  for (const impl of backends) assert.equal(impl.verify(identity, message, sig), false, impl.name);
  for (const e of smallOrderEncodings()) {
    const s = new Uint8Array(64);
    s.set(e, 0);
    for (const impl of backends) assert.equal(impl.verify(e, message, s), false, `${impl.name} ${toHex(e)}`);
  }
});

test('S >= L is refused by both backends even where S - L would verify', () => {
  const pk = node.publicKeyOf(seed);
  const sig = node.sign(seed, message);
  for (const impl of backends) assert.equal(impl.verify(pk, message, sig), true);
  // S + L, still < 2^256 for almost every S: the same point equation, a non-canonical scalar.
  const L = 2n ** 252n + 27742317777372353535851937790883648493n;
  let s = 0n;
  for (let i = 31; i >= 0; i--) s = (s << 8n) | BigInt(sig[32 + i]);
  let sl = s + L;
  const bumped = new Uint8Array(sig);
  for (let i = 0; i < 32; i++, sl >>= 8n) bumped[32 + i] = Number(sl & 0xffn);
  for (const impl of backends) assert.equal(impl.verify(pk, message, bumped), false, impl.name);
});

test('a non-canonical encoding of an honest R (y + p does not fit) and a flipped sign bit are refused', () => {
  const pk = node.publicKeyOf(seed);
  const sig = node.sign(seed, message);
  const flipped = new Uint8Array(sig);
  flipped[31] ^= 0x80;
  for (const impl of backends) assert.equal(impl.verify(pk, message, flipped), false, impl.name);
});

test('an operation signed by the identity key: OpenSSL alone would accept it; decode and the verify pool refuse it', async () => {
  const identity = fromHex('0100000000000000000000000000000000000000000000000000000000000000');
  const signature = new Uint8Array(64);
  signature.set(identity, 0); // R = identity, S = 0: [S]B = R + [k]A for any k
  const unsigned = encodeHeader({ version: 1, publicKey: PublicKey.fromBytes(identity), payloadSize: 0, seqNum: 0 });
  const headerBytes = withSignature(unsigned, signature);
  // What node:crypto says without the strict rules: the forgery verifies.
  const raw = nodeCrypto.verify(
    null,
    unsigned,
    nodeCrypto.createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), identity]), format: 'der', type: 'spki' }),
    signature,
  );
  assert.equal(raw, true, 'OpenSSL accepts the identity key');
  assert.throws(
    () => decodeOperation(headerBytes),
    (e: unknown) => isWalkawayError(e, 'INVALID_SIGNATURE'),
  );
  const op = decodeOperationUnverified(headerBytes);
  const honest = createOperation({ privateKey: PrivateKey.fromBytes(seed), seqNum: 0 });
  const pool = await VerifyPool.create({ threads: 1 });
  try {
    assert.deepEqual(await pool.verify([op, honest]), [false, true]);
  } finally {
    await pool.close();
  }
});
