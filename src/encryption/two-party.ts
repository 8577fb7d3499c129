/**
 * Two-party secure messaging (2SM) between two members, after Weidner et
 * al., "Key Agreement for Decentralized Secure Group Messaging with Strong
 * Security Guarantees" (CCS 2021), as p2panda-encryption's data scheme uses
 * it. The first message to a peer is an X3DH message against the peer's
 * signed pre-key bundle; every later one is HPKE (RFC 9180, @hpke/core:
 * DHKEM-X25519, HKDF-SHA256, ChaCha20-Poly1305) to the newest key the
 * sender knows for the receiver.
 *
 * Every message carries two fresh keys: a public key the sender will be
 * addressed under next (its secret stays with the sender), and a secret key
 * for the receiver (the sender keeps only its public half). A used receive
 * key is deleted. So a member whose state was stolen heals as soon as it
 * sends one message: its peers then address it under a key drawn after the
 * theft. Messages of one direction must be received in the order sent; an
 * author's log gives that order.
 *
 * The state is plain data (structured-clonable) and changes only when a
 * call succeeds: a message that fails to decrypt leaves it as it was.
 */
import { Chacha20Poly1305 } from '@hpke/chacha20poly1305';
import { CipherSuite, HkdfSha256 } from '@hpke/core';
import { DhkemX25519HkdfSha256 } from '@hpke/dhkem-x25519';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { bytesEqual, concatBytes, toHex, WalkawayError } from '../core/index.ts';
import { asArray, asBytes, asUint, decodeCbor, encodeCbor } from './codec.ts';
import { NONCE_LENGTH } from './envelope.ts';
import { deriveKey } from './kdf.ts';
import { checkLifetime, generateKeyPair, X25519_LENGTH, type MemberKeys, type PreKeyBundle } from './prekeys.ts';
import type { RandomSource } from './random.ts';

const VERSION = 1;
const KIND_X3DH = 0;
const KIND_HPKE = 1;
/** X3DH with the receiver's one-time pre-key as a fourth DH (message scheme). */
const KIND_X3DH_ONE_TIME = 2;
/** The key was drawn by the sender of the message (and its secret sent to the receiver earlier). */
const ORIGIN_SENDER = 0;
/** The key was announced by the receiver, under this index of its own table. */
const ORIGIN_RECEIVER = 1;
/** A 2SM message carries one group control payload; 64 KiB covers a welcome with a long history. */
export const MAX_TWO_PARTY_BYTES = 64 * 1024;
const MESSAGE_LIMITS = { maxItems: 16, maxDepth: 2, maxBytes: MAX_TWO_PARTY_BYTES + 256 };
/** One-time pre-key secrets a member keeps (the oldest go first). */
export const MAX_ONE_TIME_KEYS = 1024;
const X3DH_PAD = new Uint8Array(32).fill(0xff);

const suite = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Chacha20Poly1305() });

export interface TwoPartyState {
  /** Where the next message to the peer goes; absent until the first message either way (then X3DH). */
  sendTo?: { key: Uint8Array; origin: typeof ORIGIN_SENDER | typeof ORIGIN_RECEIVER; index: number };
  /** Secrets of keys this side announced, by index; the peer may address any not yet superseded. */
  mySecrets: Map<number, Uint8Array>;
  nextIndex: number;
  /** The secret the peer drew for this side in its latest message. */
  receivedSecret?: Uint8Array;
}

export function newTwoPartyState(): TwoPartyState {
  return { mySecrets: new Map(), nextIndex: 1 };
}

/** Pair context: both Ed25519 identities, sender first, so a message cannot be replayed into another pair. */
function pairContext(sender: Uint8Array, receiver: Uint8Array): Uint8Array {
  return concatBytes(sender, receiver);
}

/**
 * Encrypts `plaintext` for the peer and advances `state`. `peerBundle` is
 * needed (and its lifetime checked against `now`, KEY_EXPIRED) only for the
 * first message, and so is `oneTimeKey`, a one-time pre-key the peer
 * published for this sender (optional: without it, X3DH uses the signed
 * pre-key alone). Returns the message bytes.
 */
export async function sendTwoParty(
  state: TwoPartyState,
  me: MemberKeys,
  peer: Uint8Array,
  peerBundle: PreKeyBundle | undefined,
  plaintext: Uint8Array,
  random: RandomSource,
  now: number,
  oneTimeKey?: Uint8Array,
): Promise<Uint8Array> {
  if (plaintext.length > MAX_TWO_PARTY_BYTES) {
    throw new WalkawayError('TOO_LARGE', `a two-party payload is at most ${MAX_TWO_PARTY_BYTES} bytes, got ${plaintext.length}`);
  }
  const mine = generateKeyPair(random);
  const theirs = generateKeyPair(random);
  const index = state.nextIndex;
  const payload = encodeCbor([plaintext, index, mine.public, theirs.secret]);
  const context = pairContext(me.owner, peer);
  let message: Uint8Array;
  if (!state.sendTo) {
    if (!peerBundle || !bytesEqual(peerBundle.owner, peer)) {
      throw new WalkawayError('MISSING_KEY', 'no pre-key bundle of the peer for a first message');
    }
    checkLifetime(peerBundle, now);
    const ephemeral = generateKeyPair(random);
    const ikm = concatBytes(
      X3DH_PAD,
      x25519.getSharedSecret(me.identity.secret, peerBundle.preKey),
      x25519.getSharedSecret(ephemeral.secret, peerBundle.identityKey),
      x25519.getSharedSecret(ephemeral.secret, peerBundle.preKey),
      oneTimeKey ? x25519.getSharedSecret(ephemeral.secret, oneTimeKey) : new Uint8Array(0),
    );
    const ad = concatBytes(context, me.identity.public, peerBundle.identityKey, peerBundle.preKey, oneTimeKey ?? new Uint8Array(0));
    const key = deriveKey(ikm, 'x3dh', ad);
    const nonce = random(NONCE_LENGTH);
    const ciphertext = xchacha20poly1305(key, nonce, ad).encrypt(payload);
    message = oneTimeKey
      ? encodeCbor([VERSION, KIND_X3DH_ONE_TIME, me.identity.public, ephemeral.public, peerBundle.preKey, nonce, ciphertext, oneTimeKey])
      : encodeCbor([VERSION, KIND_X3DH, me.identity.public, ephemeral.public, peerBundle.preKey, nonce, ciphertext]);
  } else {
    const { key, origin, index: keyIndex } = state.sendTo;
    const recipientPublicKey = await suite.kem.importKey('raw', ownBuffer(key), true);
    const aad = concatBytes(context, new Uint8Array([origin]), encodeCbor(keyIndex));
    const sealed = await suite.seal({ recipientPublicKey, ekm: random(X25519_LENGTH) }, payload, aad);
    message = encodeCbor([VERSION, KIND_HPKE, origin, keyIndex, new Uint8Array(sealed.enc), new Uint8Array(sealed.ct)]);
  }
  // Only now that the message exists does the state move on.
  state.mySecrets.set(index, mine.secret);
  state.nextIndex = index + 1;
  state.sendTo = { key: theirs.public, origin: ORIGIN_SENDER, index: 0 };
  return message;
}

/**
 * Decrypts a message from `peer` and advances `state`. MALFORMED for a
 * message of the wrong shape, MISSING_KEY when it names a key this side no
 * longer (or never) held, DECRYPTION_FAILED when it does not authenticate.
 */
export async function receiveTwoParty(state: TwoPartyState, me: MemberKeys, peer: Uint8Array, message: Uint8Array): Promise<Uint8Array> {
  const what = 'two-party message';
  const fields = asArray(decodeCbor(message, what, MESSAGE_LIMITS), what, 6, 8);
  if (fields[0] !== VERSION) throw new WalkawayError('UNSUPPORTED_VERSION', `${what} version ${String(fields[0])}, expected ${VERSION}`);
  const context = pairContext(peer, me.owner);
  let payload: Uint8Array;
  let usedIndex: number | undefined;
  let usedOneTime: string | undefined;
  if ((fields[1] === KIND_X3DH && fields.length === 7) || (fields[1] === KIND_X3DH_ONE_TIME && fields.length === 8)) {
    const senderIdentity = asBytes(fields[2], `${what} identity key`, X25519_LENGTH);
    const ephemeral = asBytes(fields[3], `${what} ephemeral key`, X25519_LENGTH);
    const preKeyPublic = asBytes(fields[4], `${what} pre-key`, X25519_LENGTH);
    const nonce = asBytes(fields[5], `${what} nonce`, NONCE_LENGTH);
    const ciphertext = asBytes(fields[6], `${what} ciphertext`);
    const oneTimePublic = fields.length === 8 ? asBytes(fields[7], `${what} one-time pre-key`, X25519_LENGTH) : undefined;
    const preKey = [me.preKey, me.previousPreKey].find((k) => k && bytesEqual(k.public, preKeyPublic));
    if (!preKey) throw new WalkawayError('MISSING_KEY', 'X3DH message for a pre-key this member no longer holds');
    usedOneTime = oneTimePublic && toHex(oneTimePublic);
    const oneTime = usedOneTime === undefined ? undefined : me.oneTimeKeys?.get(usedOneTime);
    if (usedOneTime !== undefined && !oneTime) throw new WalkawayError('MISSING_KEY', 'X3DH message for a one-time pre-key used already, or never held');
    payload = failClosed(() => {
      const ikm = concatBytes(
        X3DH_PAD,
        x25519.getSharedSecret(preKey.secret, senderIdentity),
        x25519.getSharedSecret(me.identity.secret, ephemeral),
        x25519.getSharedSecret(preKey.secret, ephemeral),
        oneTime ? x25519.getSharedSecret(oneTime, ephemeral) : new Uint8Array(0),
      );
      const ad = concatBytes(context, senderIdentity, me.identity.public, preKeyPublic, oneTimePublic ?? new Uint8Array(0));
      return xchacha20poly1305(deriveKey(ikm, 'x3dh', ad), nonce, ad).decrypt(ciphertext);
    });
  } else if (fields[1] === KIND_HPKE && fields.length === 6) {
    const origin = asUint(fields[2], `${what} origin`);
    const keyIndex = asUint(fields[3], `${what} key index`);
    const enc = asBytes(fields[4], `${what} encapsulated key`, X25519_LENGTH);
    const ciphertext = asBytes(fields[5], `${what} ciphertext`);
    const secret = origin === ORIGIN_SENDER ? state.receivedSecret : origin === ORIGIN_RECEIVER ? state.mySecrets.get(keyIndex) : undefined;
    if (!secret) throw new WalkawayError('MISSING_KEY', `two-party message under key ${origin}/${keyIndex}, which this member does not hold`);
    const aad = concatBytes(context, new Uint8Array([origin]), encodeCbor(keyIndex));
    try {
      const recipientKey = await suite.kem.importKey('raw', ownBuffer(secret), false);
      payload = new Uint8Array(await suite.open({ recipientKey, enc }, ciphertext, aad));
    } catch {
      throw decryptionFailed();
    }
    if (origin === ORIGIN_RECEIVER) usedIndex = keyIndex;
  } else {
    throw new WalkawayError('MALFORMED', `${what} kind ${String(fields[1])} with ${fields.length} fields`);
  }
  const inner = asArray(decodeCbor(payload, `${what} payload`, MESSAGE_LIMITS), `${what} payload`, 4);
  const plaintext = asBytes(inner[0], `${what} plaintext`);
  const theirIndex = asUint(inner[1], `${what} next index`);
  const theirKey = asBytes(inner[2], `${what} next key`, X25519_LENGTH);
  const mySecret = asBytes(inner[3], `${what} secret for the receiver`, X25519_LENGTH);
  if (usedIndex !== undefined) {
    for (const i of state.mySecrets.keys()) if (i < usedIndex) state.mySecrets.delete(i);
  }
  if (usedOneTime !== undefined) {
    // Used once, then gone: a later theft of this state cannot open the message again (forward secrecy).
    me.oneTimeKeys?.get(usedOneTime)?.fill(0);
    me.oneTimeKeys?.delete(usedOneTime);
  }
  state.sendTo = { key: theirKey, origin: ORIGIN_RECEIVER, index: theirIndex };
  state.receivedSecret = mySecret;
  return plaintext;
}

function failClosed(open: () => Uint8Array): Uint8Array {
  try {
    return open();
  } catch {
    throw decryptionFailed();
  }
}

function decryptionFailed(): WalkawayError {
  return new WalkawayError('DECRYPTION_FAILED', 'two-party message does not authenticate under the key it names');
}

/** A copy in its own ArrayBuffer, the type WebCrypto-style key import takes. */
function ownBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.slice().buffer as ArrayBuffer;
}
