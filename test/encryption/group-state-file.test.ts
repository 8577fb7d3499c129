import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { serialize } from 'node:v8';
import { isWalkawayError, PrivateKey, topicId, utf8 } from '../../src/core/index.ts';
import {
  decodeEnvelope,
  decodeGroupState,
  encodeGroupState,
  GroupEncryption,
  groupStateFile,
  openGroupState,
  seededRandom,
  type GroupMembership,
} from '../../src/encryption/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'walkaway-group-state-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const topic = topicId('walkaway/test/group-state');
const random = seededRandom('group-state-file');
const alice = PrivateKey.fromBytes(random(32));
const bob = PrivateKey.fromBytes(random(32));
const membership: GroupMembership = { readers: () => [alice.publicKey.toBytes(), bob.publicKey.toBytes()], managersAt: () => [alice.publicKey.toBytes()] };
const T0 = Date.UTC(2026, 11, 6);

/** Feeds control bodies (as the topic would carry them, at Lamport `lamport`) to `to`. */
async function deliver(to: GroupEncryption, author: PrivateKey, bodies: Uint8Array[], lamport: number): Promise<void> {
  for (const body of bodies) {
    const envelope = decodeEnvelope(body);
    assert.equal(envelope.kind, 3);
    if (envelope.kind === 3) await to.receive({ author: author.publicKey.toBytes(), lamport, message: envelope.message }, T0);
  }
}

const open = (member: GroupEncryption, body: Uint8Array) => {
  const envelope = decodeEnvelope(body);
  assert.notEqual(envelope.kind, 3);
  if (envelope.kind === 3) throw new Error('unreachable');
  return new TextDecoder().decode(member.open(alice.publicKey.toBytes(), envelope));
};

test('a member restored from its state file reads old and fresh secrets over its kept channel', async () => {
  const a = GroupEncryption.create({ identity: alice, topic, membership, random }, T0);
  const file = groupStateFile(dir, topic);
  const first = openGroupState(file, { identity: bob, topic, membership, random }, T0);
  assert.equal(first.restored, false);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  a.learnBundle(first.group.bundle());
  first.group.learnBundle(a.bundle());
  const created = await a.create(new Uint8Array(32).fill(1), T0);
  await deliver(a, alice, created.publish, 1);
  await deliver(first.group, alice, created.publish, 1);
  first.save();
  const before = a.seal(utf8('before'));

  // The process ends; a new one opens the same file.
  const again = openGroupState(file, { identity: bob, topic, membership, random }, T0 + 1000);
  assert.equal(again.restored, true);
  assert.deepEqual(again.group.bundle(), first.group.bundle(), 'the same keys');
  assert.equal(again.group.latestSecretId(), a.latestSecretId());
  assert.equal(open(again.group, before), 'before');
  // A replay of the create (not acknowledged before the restart) changes nothing.
  await deliver(again.group, alice, created.publish, 1);
  const updated = await a.update(new Uint8Array(32).fill(2), T0 + 2000);
  await deliver(a, alice, updated.publish, 2);
  await deliver(again.group, alice, updated.publish, 2);
  // A replay of a message over the channel (its receiving key is used up): read before, nothing to do.
  await deliver(again.group, alice, updated.publish, 2);
  assert.equal(again.group.latestSecretId(), a.latestSecretId());
  assert.equal(open(again.group, a.seal(utf8('after the update'))), 'after the update');
});

test('a state file of another topic or member, another version, or garbage is a typed error', () => {
  const member = GroupEncryption.create({ identity: alice, topic, membership, random }, T0);
  const bytes = encodeGroupState(topic, alice.publicKey.toBytes(), member.exportState());
  assert.deepEqual(decodeGroupState(bytes, topic, alice.publicKey.toBytes()), member.exportState());
  const cases: [Uint8Array, Uint8Array, Uint8Array, string][] = [
    [bytes, topicId('other'), alice.publicKey.toBytes(), 'MALFORMED'],
    [bytes, topic, bob.publicKey.toBytes(), 'MALFORMED'],
    [new Uint8Array([1, 2, 3]), topic, alice.publicKey.toBytes(), 'MALFORMED'],
    [new Uint8Array(serialize({ format: 'walkaway/group-state', version: 2 })), topic, alice.publicKey.toBytes(), 'UNSUPPORTED_VERSION'],
    [
      new Uint8Array(serialize({ format: 'walkaway/group-state', version: 1, topic, member: alice.publicKey.toBytes(), state: { keys: {} } })),
      topic,
      alice.publicKey.toBytes(),
      'MALFORMED',
    ],
  ];
  for (const [b, t, m, code] of cases)
    assert.throws(
      () => decodeGroupState(b, t, m),
      (err) => isWalkawayError(err, code as never),
    );
  // A damaged file is refused, not replaced (the keys in it would be lost).
  const file = join(dir, 'damaged');
  writeFileSync(file, 'not a state');
  assert.throws(
    () => openGroupState(file, { identity: alice, topic, membership, random }, T0),
    (err) => isWalkawayError(err, 'MALFORMED'),
  );
});
