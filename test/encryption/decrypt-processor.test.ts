import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createOperation, topicId, utf8, type Operation } from '../../src/core/index.ts';
import { GroupEncryption } from '../../src/encryption/data-scheme.ts';
import { DecryptProcessor, type DecryptMode } from '../../src/encryption/decrypt-processor.ts';
import { seededRandom } from '../../src/encryption/random.ts';
import { TopicKey } from '../../src/encryption/topic-key.ts';
import type { GroupMembership } from '../../src/encryption/types.ts';
import type { OrderedOperation, ProcessorReport } from '../../src/processors/index.ts';
import { basic, keyFor, logIdFor } from '../helpers/ops.ts';

const topic = topicId('walkaway/test/decrypt');
const T0 = 1_800_000_000_000;

/** A log writer: each call signs the next operation of `key`'s log `log`. */
function writer(n: number, log = 1) {
  const key = keyFor(n);
  let last: Operation | undefined;
  return {
    key,
    author: key.publicKey.toBytes(),
    next(body?: Uint8Array): OrderedOperation {
      const seq = last ? last.header.seqNum + 1 : 0;
      last = createOperation({ privateKey: key, body, seqNum: seq, backlink: last?.hash, extensions: basic(logIdFor(log), seq) });
      return { operation: { ...last, localSeq: 0 }, lamport: seq };
    },
  };
}

function harness(mode: DecryptMode, limits: { maxPending?: number; maxPendingBytes?: number; pendingTtlMs?: number } = {}) {
  const reports: ProcessorReport[] = [];
  const clock = { now: T0 };
  const published: Uint8Array[] = [];
  const processor = new DecryptProcessor({ mode, now: () => clock.now, onReport: (r) => reports.push(r), onPublish: (b) => published.push(b), ...limits });
  return { processor, reports, clock, published };
}

const text = (ops: OrderedOperation[]) => ops.map((o) => (o.operation.body ? new TextDecoder().decode(o.operation.body) : '<no body>'));

test('topic key: plaintext out, anything that does not open is reported and dropped', async () => {
  const random = seededRandom('decrypt-topic-key');
  const key = TopicKey.fromBytes(random(32), topic);
  const { processor, reports } = harness({ type: 'topic-key', key });
  const alice = writer(1);
  const bob = writer(2);
  const out = [
    ...(await processor.process(alice.next(key.seal(utf8('hello'), alice.author, random)))),
    // bob copies alice's sealed body into his own operation: bound to alice, it does not open for bob.
    ...(await processor.process(bob.next(key.seal(utf8('x'), alice.author, random)))),
    ...(await processor.process(alice.next(utf8('a clear body in an encrypted topic')))),
    ...(await processor.process(alice.next(TopicKey.fromBytes(random(32), topic).seal(utf8('other key'), alice.author, random)))),
    ...(await processor.process(alice.next())),
    ...(await processor.process(alice.next(key.seal(utf8('still fine'), alice.author, random)))),
  ];
  assert.deepEqual(text(out), ['hello', '<no body>', 'still fine']);
  assert.deepEqual(
    reports.map((r) => (r.type === 'rejected' ? r.error.code : r.type)),
    ['DECRYPTION_FAILED', 'UNSUPPORTED_VERSION', 'MISSING_KEY'],
  );
  assert.equal(processor.stats().opened, 2);
});

async function groupOf(seed: string) {
  const random = seededRandom(seed);
  const alice = writer(1, 1);
  const bob = writer(2, 1);
  const readers = [alice.author, bob.author];
  const membership: GroupMembership = { readers: () => readers, managersAt: () => [alice.author] };
  const a = GroupEncryption.create({ identity: alice.key, topic, membership, random }, T0);
  const b = GroupEncryption.create({ identity: bob.key, topic, membership, random }, T0);
  a.learnBundle(b.bundle());
  b.learnBundle(a.bundle());
  return { random, alice, bob, a, b };
}

test('group: bodies sealed under a secret not held yet wait, with what depends on them, until it arrives', async () => {
  const { alice, a, b } = await groupOf('decrypt-group');
  const created = await a.create(new Uint8Array(32), T0);
  const control = alice.next(created.publish[0]);
  // alice's own copy of her control message gives her the secret.
  const aliceSide = harness({ type: 'group', group: a });
  assert.deepEqual(await aliceSide.processor.process(control), []);
  // alice writes two bodies in another log; bob sees them before her control message.
  const chat = writer(1, 2);
  const m1 = chat.next(a.seal(utf8('first')));
  const m2 = chat.next(a.seal(utf8('second')));
  const m3 = chat.next(); // no body, but after m2: waits too
  const { processor, reports } = harness({ type: 'group', group: b });
  assert.deepEqual(await processor.process(m1), []);
  assert.deepEqual(await processor.process(m2), []);
  assert.deepEqual(await processor.process(m3), []);
  assert.equal(processor.stats().waiting, 3);
  assert.deepEqual(text(await processor.process(control)), ['first', 'second', '<no body>']);
  assert.equal(processor.stats().waiting, 0);
  assert.deepEqual(reports, []);
});

test('group: waiting is bounded by count and bytes, and expires', async () => {
  const { alice, a, b } = await groupOf('decrypt-bounds');
  const created = await a.create(new Uint8Array(32), T0);
  const control = alice.next(created.publish[0]);
  await harness({ type: 'group', group: a }).processor.process(control);
  const chat = writer(1, 2);
  const { processor, reports, clock } = harness({ type: 'group', group: b }, { maxPending: 3, maxPendingBytes: 1000, pendingTtlMs: 60_000 });
  await processor.process(chat.next(a.seal(utf8('one'))));
  await processor.process(chat.next(a.seal(utf8('two'))));
  const big = writer(1, 3);
  await processor.process(big.next(a.seal(new Uint8Array(2000))));
  assert.deepEqual(
    reports.map((r) => r.type),
    ['overflow'],
    'over the byte cap',
  );
  clock.now += 30_000;
  const other = writer(1, 4);
  await processor.process(other.next(a.seal(utf8('three'))));
  await processor.process(other.next(a.seal(utf8('four: no room'))));
  assert.deepEqual(
    reports.map((r) => r.type),
    ['overflow', 'overflow'],
    'over the count cap',
  );
  assert.equal(processor.stats().waiting, 3);
  clock.now += 30_000; // the first two are now 60 s old
  const late = writer(1, 5);
  await processor.process(late.next(a.seal(utf8('late'))));
  assert.equal(processor.stats().expired, 2);
  assert.equal(processor.stats().waiting, 2);
  // Only those that did not expire open when the secret comes.
  assert.deepEqual(text(await processor.process(control)), ['three', 'late']);
  assert.ok(reports.filter((r) => r.type === 'rejected').every((r) => r.type === 'rejected' && r.error.code === 'MISSING_KEY'));
});

test('group: a changed control message or body is reported, never passed on', async () => {
  const { alice, a, b } = await groupOf('decrypt-tamper');
  const created = await a.create(new Uint8Array(32), T0);
  const body = created.publish[0].slice();
  body[body.length - 5] ^= 1;
  const { processor, reports } = harness({ type: 'group', group: b });
  assert.deepEqual(await processor.process(alice.next(body)), []);
  assert.equal(reports.length, 1);
  assert.equal(reports[0].type === 'rejected' && reports[0].error.code, 'DECRYPTION_FAILED');
  const garbage = writer(5, 2);
  assert.deepEqual(await processor.process(garbage.next(new Uint8Array([1, 2, 0, 0]))), []);
  assert.equal(reports.length, 2);
});

test('topic key: the slot stays synchronous, so the chain does not queue behind it', () => {
  const random = seededRandom('decrypt-sync');
  const key = TopicKey.fromBytes(random(32), topic);
  const { processor } = harness({ type: 'topic-key', key });
  const alice = writer(1);
  const out = processor.process(alice.next(key.seal(utf8('now'), alice.author, random)));
  assert.ok(Array.isArray(out));
  assert.deepEqual(text(out), ['now']);
});

test('group: a replayed topic (the chain replays through its slots) is read again without errors', async () => {
  const { alice, a, b } = await groupOf('decrypt-replay');
  const created = await a.create(new Uint8Array(32), T0);
  const control = alice.next(created.publish[0]);
  await harness({ type: 'group', group: a }).processor.process(control);
  const chat = writer(1, 2);
  const m1 = chat.next(a.seal(utf8('once')));
  const { processor, reports } = harness({ type: 'group', group: b });
  assert.deepEqual(text(await processor.processAll([control, m1])), ['once']);
  // The replay: the same operations again, from the start.
  assert.deepEqual(text(await processor.processAll([control, m1])), ['once']);
  assert.deepEqual(reports, []);
});
