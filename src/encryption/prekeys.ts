/**
 * Long-term key material of a member for two-party channels: an X25519
 * identity key and a medium-term X25519 pre-key with a lifetime, published
 * as a bundle signed with the member's Ed25519 identity (the operation
 * key). The signature lives inside the bundle, so a bundle can be carried by
 * anyone (an adder publishes its invitee's bundle) and still be checked.
 * The data scheme needs no one-time pre-keys: it sends one X3DH message per
 * pair of members, then continues over HPKE (two-party.ts). The message
 * scheme adds them when it has them (`oneTimeKeys`, message-scheme/dcgka.ts).
 */
import { x25519 } from '@noble/curves/ed25519.js';
import { bytesEqual, concatBytes, PublicKey, utf8, WalkawayError, type PrivateKey } from '../core/index.ts';
import { asArray, asBytes, asUint, decodeCbor, encodeCbor } from './codec.ts';
import type { RandomSource } from './random.ts';

export const X25519_LENGTH = 32;
/** About three months, like p2panda's default; pre-keys rotate well before. */
export const DEFAULT_PREKEY_LIFETIME_MS = 84 * 24 * 3600_000;
/** A bundle starts this much before its creation, for clocks that run a little behind. */
export const PREKEY_BACKDATE_MS = 3600_000;
const BUNDLE_VERSION = 1;
const SIGNING_LABEL = utf8('walkaway/prekey-bundle/v1');
const BUNDLE_LIMITS = { maxItems: 16, maxDepth: 2, maxBytes: 512 };

export interface KeyPair {
  secret: Uint8Array;
  public: Uint8Array;
}

export interface PreKeyBundle {
  /** Ed25519 identity (operation key) of the member. */
  owner: Uint8Array;
  identityKey: Uint8Array;
  preKey: Uint8Array;
  /** Milliseconds since the epoch. */
  notBefore: number;
  notAfter: number;
  signature: Uint8Array;
}

/** What a member keeps to answer X3DH: its identity and pre-key secrets (and the previous pre-key, for messages in flight). */
export interface MemberKeys {
  owner: Uint8Array;
  identity: KeyPair;
  preKey: KeyPair & { notBefore: number; notAfter: number };
  previousPreKey?: KeyPair;
  /**
   * One-time pre-keys (the message scheme publishes one per peer): secret by
   * public key (hex), deleted once an X3DH message to it is read.
   */
  oneTimeKeys?: Map<string, Uint8Array>;
}

export function generateKeyPair(random: RandomSource): KeyPair {
  // X25519 clamps any 32 bytes into a valid secret scalar.
  const secret = random(X25519_LENGTH);
  return { secret, public: x25519.getPublicKey(secret) };
}

export function generateMemberKeys(owner: PrivateKey, random: RandomSource, now: number, lifetimeMs = DEFAULT_PREKEY_LIFETIME_MS): MemberKeys {
  return {
    owner: owner.publicKey.toBytes(),
    identity: generateKeyPair(random),
    preKey: { ...generateKeyPair(random), notBefore: now - PREKEY_BACKDATE_MS, notAfter: now + lifetimeMs },
  };
}

/** A new pre-key; the old one still answers messages sent before peers saw the new bundle. */
export function rotatePreKey(keys: MemberKeys, random: RandomSource, now: number, lifetimeMs = DEFAULT_PREKEY_LIFETIME_MS): MemberKeys {
  return {
    ...keys,
    previousPreKey: { secret: keys.preKey.secret, public: keys.preKey.public },
    preKey: { ...generateKeyPair(random), notBefore: now - PREKEY_BACKDATE_MS, notAfter: now + lifetimeMs },
  };
}

function signedBytes(b: Omit<PreKeyBundle, 'signature'>): Uint8Array {
  return concatBytes(SIGNING_LABEL, encodeCbor([b.owner, b.identityKey, b.preKey, b.notBefore, b.notAfter]));
}

export function bundleOf(keys: MemberKeys, owner: PrivateKey): PreKeyBundle {
  if (!bytesEqual(owner.publicKey.toBytes(), keys.owner)) {
    throw new WalkawayError('INVALID_ARGUMENT', 'the signing key is not the owner of these member keys');
  }
  const unsigned = {
    owner: keys.owner,
    identityKey: keys.identity.public,
    preKey: keys.preKey.public,
    notBefore: keys.preKey.notBefore,
    notAfter: keys.preKey.notAfter,
  };
  return { ...unsigned, signature: owner.sign(signedBytes(unsigned)) };
}

export function encodeBundle(b: PreKeyBundle): Uint8Array {
  return encodeCbor([BUNDLE_VERSION, b.owner, b.identityKey, b.preKey, b.notBefore, b.notAfter, b.signature]);
}

/** Decodes and verifies a bundle's shape and signature (not its lifetime: see `checkLifetime`). */
export function decodeBundle(bytes: Uint8Array): PreKeyBundle {
  const what = 'pre-key bundle';
  const [version, owner, identityKey, preKey, notBefore, notAfter, signature] = asArray(decodeCbor(bytes, what, BUNDLE_LIMITS), what, 7);
  if (version !== BUNDLE_VERSION) {
    throw new WalkawayError('UNSUPPORTED_VERSION', `pre-key bundle version ${String(version)}, expected ${BUNDLE_VERSION}`);
  }
  const bundle: PreKeyBundle = {
    owner: asBytes(owner, `${what} owner`, 32),
    identityKey: asBytes(identityKey, `${what} identity key`, X25519_LENGTH),
    preKey: asBytes(preKey, `${what} pre-key`, X25519_LENGTH),
    notBefore: asUint(notBefore, `${what} notBefore`),
    notAfter: asUint(notAfter, `${what} notAfter`),
    signature: asBytes(signature, `${what} signature`, 64),
  };
  verifyBundle(bundle);
  return bundle;
}

export function verifyBundle(b: PreKeyBundle): void {
  let ok = false;
  try {
    ok = PublicKey.fromBytes(b.owner).verify(signedBytes(b), b.signature);
  } catch {
    ok = false;
  }
  if (!ok) throw new WalkawayError('INVALID_SIGNATURE', 'pre-key bundle signature does not verify under its owner key');
  if (b.notAfter <= b.notBefore) throw new WalkawayError('MALFORMED', 'pre-key bundle ends before it starts');
}

/** KEY_EXPIRED unless `now` (ms) is within the bundle's lifetime. */
export function checkLifetime(b: PreKeyBundle, now: number): void {
  if (now < b.notBefore || now >= b.notAfter) {
    throw new WalkawayError('KEY_EXPIRED', `pre-key valid from ${b.notBefore} to ${b.notAfter}, now is ${now}`, {
      notBefore: b.notBefore,
      notAfter: b.notAfter,
      now,
    });
  }
}
