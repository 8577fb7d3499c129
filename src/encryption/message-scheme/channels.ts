/**
 * The message scheme's two-party channels (two-party.ts: X3DH, then HPKE),
 * and their one-time pre-keys. A member
 * publishes, for every member of its view it has no channel with yet, one
 * X25519 key meant for that member alone (`one-time-keys` control message,
 * in its own signed operation, so no inner signature is needed). Whoever
 * sends the first message of a channel adds it to X3DH as a fourth DH; the
 * receiver deletes its secret once read. Addressed keys never collide: only
 * the peer they name uses them. Without one (not published yet, or used),
 * X3DH falls back to the signed pre-key alone, as Signal's does.
 *
 * Bounded: at most MAX_ONE_TIME_KEYS secrets kept, and as many peers' keys.
 */
import { fromHex, toHex, WalkawayError } from '../../core/index.ts';
import { generateKeyPair } from '../prekeys.ts';
import type { RandomSource } from '../random.ts';
import { MAX_ONE_TIME_KEYS, newTwoPartyState, receiveTwoParty, sendTwoParty } from '../two-party.ts';
import type { DcgkaState } from './dcgka.ts';
import type { Direct, SchemeMessage } from './messages.ts';

/** Sends `plaintext` to `recipient` over its channel (X3DH with its one-time key for me, when it is a first message). */
export async function sendOver(state: DcgkaState, random: RandomSource, recipient: string, plaintext: Uint8Array, now: number): Promise<Uint8Array> {
  const channel = state.channels.get(recipient) ?? newTwoPartyState();
  const oneTime = channel.sendTo ? undefined : state.peerOneTimeKeys.get(recipient);
  const message = await sendTwoParty(channel, state.keys, fromHex(recipient), state.bundles.get(recipient), plaintext, random, now, oneTime);
  if (oneTime) state.peerOneTimeKeys.delete(recipient);
  state.channels.set(recipient, channel);
  return message;
}

/** The same to each recipient; those it cannot be sent to (no bundle, expired pre-key) are reported, not thrown. */
export async function sendOverAll(
  state: DcgkaState,
  random: RandomSource,
  recipients: readonly string[],
  plaintext: Uint8Array,
  now: number,
): Promise<{ directs: Direct[]; failed: { member: string; error: WalkawayError }[] }> {
  const directs: Direct[] = [];
  const failed: { member: string; error: WalkawayError }[] = [];
  for (const r of recipients) {
    try {
      directs.push({ recipient: fromHex(r), message: await sendOver(state, random, r, plaintext, now) });
    } catch (err) {
      if (!(err instanceof WalkawayError)) throw err;
      failed.push({ member: r, error: err });
    }
  }
  return { directs, failed };
}

export async function receiveOver(state: DcgkaState, sender: string, message: Uint8Array): Promise<Uint8Array> {
  const channel = state.channels.get(sender) ?? newTwoPartyState();
  const plaintext = await receiveTwoParty(channel, state.keys, fromHex(sender), message);
  state.channels.set(sender, channel);
  return plaintext;
}

/** Keys for the members of my view I have no channel with and published none for yet; undefined when there are none. */
export function oneTimeKeysToPublish(state: DcgkaState, me: string, random: RandomSource): SchemeMessage | undefined {
  if (!state.joined || state.removed) return undefined;
  const peers = [...state.members.keys()].filter((m) => m !== me && !state.channels.has(m) && !state.oneTimeFor.has(m));
  if (peers.length === 0) return undefined;
  state.keys.oneTimeKeys ??= new Map();
  const keys = peers.map((peer) => {
    const pair = generateKeyPair(random);
    state.keys.oneTimeKeys!.set(toHex(pair.public), pair.secret);
    state.oneTimeFor.add(peer);
    return { peer: fromHex(peer), key: pair.public };
  });
  trim(state.keys.oneTimeKeys, MAX_ONE_TIME_KEYS, (secret) => secret.fill(0));
  trim(state.oneTimeFor, MAX_ONE_TIME_KEYS);
  return { type: 'one-time-keys', seq: 0, keys };
}

/** Keeps the keys `author` published for me. */
export function learnOneTimeKeys(state: DcgkaState, me: string, author: string, keys: { peer: Uint8Array; key: Uint8Array }[]): void {
  const mine = keys.find((k) => toHex(k.peer) === me);
  if (!mine || author === me || state.channels.has(author)) return;
  state.peerOneTimeKeys.set(author, mine.key);
  trim(state.peerOneTimeKeys, MAX_ONE_TIME_KEYS);
}

function trim<K, V>(collection: Map<K, V> | Set<K>, max: number, wipe?: (value: V) => void): void {
  for (const key of collection.keys()) {
    if (collection.size <= max) return;
    if (collection instanceof Map && wipe) wipe(collection.get(key) as V);
    collection.delete(key);
  }
}
