/**
 * One-time pre-keys for the message scheme's two-party channels. A member
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
import { fromHex, toHex } from '../../core/index.ts';
import { generateKeyPair } from '../prekeys.ts';
import type { RandomSource } from '../random.ts';
import { MAX_ONE_TIME_KEYS } from '../two-party.ts';
import type { DcgkaState } from './dcgka.ts';
import type { SchemeMessage } from './messages.ts';

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

/** The key `peer` published for me, for a first message; taken (one use). */
export function takeOneTimeKey(state: DcgkaState, peer: string): Uint8Array | undefined {
  if (state.channels.get(peer)?.sendTo) return undefined;
  const key = state.peerOneTimeKeys.get(peer);
  state.peerOneTimeKeys.delete(peer);
  return key;
}

function trim<K, V>(collection: Map<K, V> | Set<K>, max: number, wipe?: (value: V) => void): void {
  for (const key of collection.keys()) {
    if (collection.size <= max) return;
    if (collection instanceof Map && wipe) wipe(collection.get(key) as V);
    collection.delete(key);
  }
}
