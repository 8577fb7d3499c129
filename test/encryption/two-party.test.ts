import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isWalkawayError, PrivateKey, utf8 } from '../../src/core/index.ts';
import { bundleOf, decodeBundle, encodeBundle, generateMemberKeys, PREKEY_BACKDATE_MS, rotatePreKey } from '../../src/encryption/prekeys.ts';
import { seededRandom } from '../../src/encryption/random.ts';
import { newTwoPartyState, receiveTwoParty, sendTwoParty } from '../../src/encryption/two-party.ts';

const DAY = 24 * 3600_000;
const T0 = 1_800_000_000_000;

function member(random: ReturnType<typeof seededRandom>, lifetime = 30 * DAY) {
  const id = PrivateKey.fromBytes(random(32));
  const keys = generateMemberKeys(id, random, T0, lifetime);
  return { id, keys, owner: keys.owner, bundle: decodeBundle(encodeBundle(bundleOf(keys, id))) };
}

test('X3DH first, HPKE after, both directions interleaved, in order per direction', async () => {
  const random = seededRandom('2sm-interleave');
  const a = member(random);
  const b = member(random);
  const ab = newTwoPartyState();
  const ba = newTwoPartyState();
  // a and b both send first, concurrently: two X3DH messages cross.
  const m1 = await sendTwoParty(ab, a.keys, b.owner, b.bundle, utf8('a1'), random, T0);
  const n1 = await sendTwoParty(ba, b.keys, a.owner, a.bundle, utf8('b1'), random, T0);
  const m2 = await sendTwoParty(ab, a.keys, b.owner, undefined, utf8('a2'), random, T0);
  assert.deepEqual(await receiveTwoParty(ba, b.keys, a.owner, m1), utf8('a1'));
  assert.deepEqual(await receiveTwoParty(ab, a.keys, b.owner, n1), utf8('b1'));
  assert.deepEqual(await receiveTwoParty(ba, b.keys, a.owner, m2), utf8('a2'));
  for (let i = 0; i < 40; i++) {
    const fromA = random(1)[0] & 1;
    const [s, r, sender, receiver] = fromA ? [ab, ba, a, b] : [ba, ab, b, a];
    const text = utf8(`${fromA ? 'a' : 'b'} ${i}`);
    const burst = [];
    for (let k = 0; k <= (random(1)[0] & 3); k++) burst.push(await sendTwoParty(s, sender.keys, receiver.owner, undefined, text, random, T0));
    for (const m of burst) assert.deepEqual(await receiveTwoParty(r, receiver.keys, sender.owner, m), text);
  }
});

test('a pre-key outside its lifetime is KEY_EXPIRED for a first message', async () => {
  const random = seededRandom('2sm-expiry');
  const a = member(random);
  const b = member(random, 10 * DAY);
  await assert.rejects(sendTwoParty(newTwoPartyState(), a.keys, b.owner, b.bundle, utf8('late'), random, T0 + 10 * DAY), (err) => isWalkawayError(err, 'KEY_EXPIRED'));
  await assert.rejects(sendTwoParty(newTwoPartyState(), a.keys, b.owner, b.bundle, utf8('early'), random, T0 - PREKEY_BACKDATE_MS - 1), (err) =>
    isWalkawayError(err, 'KEY_EXPIRED'),
  );
  const ok = await sendTwoParty(newTwoPartyState(), a.keys, b.owner, b.bundle, utf8('in time'), random, T0 + 10 * DAY - 1);
  assert.deepEqual(await receiveTwoParty(newTwoPartyState(), b.keys, a.owner, ok), utf8('in time'));
  // A rotated pre-key still answers a message sent against the previous bundle.
  const st = newTwoPartyState();
  const inFlight = await sendTwoParty(st, a.keys, b.owner, b.bundle, utf8('in flight'), random, T0);
  const rotated = rotatePreKey(b.keys, random, T0 + DAY);
  assert.deepEqual(await receiveTwoParty(newTwoPartyState(), rotated, a.owner, inFlight), utf8('in flight'));
});

test('a bundle whose signature does not verify is rejected', () => {
  const random = seededRandom('2sm-bundle');
  const a = member(random);
  const bytes = encodeBundle(a.bundle);
  const changed = bytes.slice();
  changed[40] ^= 1;
  assert.throws(
    () => decodeBundle(changed),
    (err) => isWalkawayError(err, 'INVALID_SIGNATURE') || isWalkawayError(err, 'MALFORMED'),
  );
});

test('tampered, replayed and misaddressed messages fail without changing the state', async () => {
  const random = seededRandom('2sm-tamper');
  const a = member(random);
  const b = member(random);
  const c = member(random);
  const ab = newTwoPartyState();
  const ba = newTwoPartyState();
  const first = await sendTwoParty(ab, a.keys, b.owner, b.bundle, utf8('one'), random, T0);
  const changed = first.slice();
  changed[changed.length - 3] ^= 1;
  await assert.rejects(receiveTwoParty(ba, b.keys, a.owner, changed), (err) => isWalkawayError(err, 'DECRYPTION_FAILED'));
  await assert.rejects(receiveTwoParty(newTwoPartyState(), b.keys, c.owner, first), (err) => isWalkawayError(err, 'DECRYPTION_FAILED'), 'claimed by c');
  assert.deepEqual(await receiveTwoParty(ba, b.keys, a.owner, first), utf8('one'));
  const second = await sendTwoParty(ab, a.keys, b.owner, undefined, utf8('two'), random, T0);
  const third = await sendTwoParty(ab, a.keys, b.owner, undefined, utf8('three'), random, T0);
  await assert.rejects(receiveTwoParty(ba, b.keys, a.owner, third), (err) => isWalkawayError(err, 'DECRYPTION_FAILED'), 'out of order');
  assert.deepEqual(await receiveTwoParty(ba, b.keys, a.owner, second), utf8('two'));
  assert.deepEqual(await receiveTwoParty(ba, b.keys, a.owner, third), utf8('three'));
  await assert.rejects(receiveTwoParty(ba, b.keys, a.owner, third), (err) => isWalkawayError(err, 'DECRYPTION_FAILED'), 'replayed');
});

test('a stolen state stops reading once the victim has sent one message', async () => {
  const random = seededRandom('2sm-heal');
  const a = member(random);
  const b = member(random);
  const ab = newTwoPartyState();
  const ba = newTwoPartyState();
  await receiveTwoParty(ba, b.keys, a.owner, await sendTwoParty(ab, a.keys, b.owner, b.bundle, utf8('hello'), random, T0));
  const stolen = structuredClone(ba);
  // b sends once (fresh key, drawn after the theft); a answers under it.
  await receiveTwoParty(ab, a.keys, b.owner, await sendTwoParty(ba, b.keys, a.owner, undefined, utf8('healing'), random, T0));
  const after = await sendTwoParty(ab, a.keys, b.owner, undefined, utf8('secret after'), random, T0);
  await assert.rejects(receiveTwoParty(stolen, b.keys, a.owner, after), (err) => isWalkawayError(err, 'MISSING_KEY') || isWalkawayError(err, 'DECRYPTION_FAILED'));
  assert.deepEqual(await receiveTwoParty(ba, b.keys, a.owner, after), utf8('secret after'));
});
