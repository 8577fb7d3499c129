import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isWalkawayError, PrivateKey, toHex, topicId, utf8 } from '../../src/core/index.ts';
import { BODY_KIND, decodeEnvelope, NONCE_LENGTH } from '../../src/encryption/envelope.ts';
import { seededRandom } from '../../src/encryption/random.ts';
import { TopicKey } from '../../src/encryption/topic-key.ts';

const random = seededRandom('topic-key');
const topic = topicId('walkaway/test/encrypted');
const key = TopicKey.generateBytes(random);
const alice = PrivateKey.fromBytes(random(32)).publicKey.toBytes();
const bob = PrivateKey.fromBytes(random(32)).publicKey.toBytes();

test('a topic key seals and opens bodies of every size', () => {
  const tk = TopicKey.fromBytes(key, topic);
  for (const size of [0, 1, 63, 64, 65, 1024, 70_000]) {
    const plaintext = random(size);
    const body = tk.seal(plaintext, alice, random);
    assert.equal(body.length, size + 2 + 16 + NONCE_LENGTH + 16, 'fixed overhead of 58 bytes');
    assert.deepEqual(TopicKey.fromBytes(key, topic).open(body, alice), plaintext);
  }
});

test('a changed byte anywhere in a sealed body is DECRYPTION_FAILED, never garbage', () => {
  const tk = TopicKey.fromBytes(key, topic);
  const body = tk.seal(utf8('meet at noon'), alice, random);
  for (let i = 18; i < body.length; i++) {
    const changed = body.slice();
    changed[i] ^= 0x01;
    assert.throws(
      () => tk.open(changed, alice),
      (err) => isWalkawayError(err, 'DECRYPTION_FAILED'),
      `byte ${i}`,
    );
  }
  // The key id part names another key: the body is not for this key.
  const renamed = body.slice();
  renamed[5] ^= 0x01;
  assert.throws(
    () => tk.open(renamed, alice),
    (err) => isWalkawayError(err, 'MISSING_KEY'),
  );
  const reversioned = body.slice();
  reversioned[0] = 2;
  assert.throws(
    () => tk.open(reversioned, alice),
    (err) => isWalkawayError(err, 'UNSUPPORTED_VERSION'),
  );
  assert.throws(
    () => tk.open(body.subarray(0, 40), alice),
    (err) => isWalkawayError(err, 'MALFORMED'),
  );
});

test('a body is bound to its author and its topic', () => {
  const tk = TopicKey.fromBytes(key, topic);
  const body = tk.seal(utf8('signed by alice'), alice, random);
  assert.throws(
    () => tk.open(body, bob),
    (err) => isWalkawayError(err, 'DECRYPTION_FAILED'),
    'copied into an operation by bob',
  );
  const other = TopicKey.fromBytes(key, topicId('walkaway/test/other'));
  assert.throws(
    () => other.open(body, alice),
    (err) => isWalkawayError(err, 'MISSING_KEY'),
    'other topic derives another key',
  );
  const wrongKey = TopicKey.fromBytes(random(32), topic);
  assert.throws(
    () => wrongKey.open(body, alice),
    (err) => isWalkawayError(err, 'MISSING_KEY'),
  );
});

test('keys differ per topic and per purpose', () => {
  const a = TopicKey.fromBytes(key, topic);
  const b = TopicKey.fromBytes(key, topicId('walkaway/test/other'));
  assert.notDeepEqual(a.keyId, b.keyId);
  const body = a.seal(utf8('x'), alice, random);
  assert.equal(decodeEnvelope(body).kind, BODY_KIND.topicKey);
});

test('nonces do not repeat over 20000 bodies from one source, nor across two sources', () => {
  const tk = TopicKey.fromBytes(key, topic);
  const seen = new Set<string>();
  const sources = [seededRandom('nonce-a'), seededRandom('nonce-b')];
  for (let i = 0; i < 20_000; i++) {
    const envelope = decodeEnvelope(tk.seal(utf8(`message ${i}`), alice, sources[i % 2]));
    assert.ok('nonce' in envelope);
    seen.add(toHex(envelope.nonce));
  }
  assert.equal(seen.size, 20_000);
});

test('a topic key is exactly 32 bytes', () => {
  assert.throws(
    () => TopicKey.fromBytes(new Uint8Array(31), topic),
    (err) => isWalkawayError(err, 'INVALID_ARGUMENT'),
  );
  assert.throws(
    () => TopicKey.fromHex('00', topic),
    (err) => isWalkawayError(err, 'INVALID_ARGUMENT'),
  );
});
