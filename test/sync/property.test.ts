import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { createOperation, decodeOperationUnverified, unsignedBytesOf } from '../../src/core/index.ts';
import { FrameDecoder, encodeFrames, syncOverStream, type IngestRequest, type SyncMessage } from '../../src/sync/index.ts';
import { decodeMessage, encodeMessage } from '../../src/sync/messages.ts';
import { duplexPair } from '../../src/sync/pipe.ts';
import { inlineVerifier, verifyTips } from '../../src/node/inbound/index.ts';
import { fill, hashesOf, key, makeLog, openStore, testOptions, TOPIC } from './helpers.ts';

const LOGS = Array.from({ length: 4 }, (_, i) => makeLog(key(60 + i), 25));

test('after sync both peers hold the union of their operations', async () => {
  const prefix = fc.integer({ min: 0, max: 25 });
  await fc.assert(
    fc.asyncProperty(fc.array(fc.tuple(prefix, prefix), { minLength: 4, maxLength: 4 }), fc.boolean(), async (split, flip) => {
      const a = openStore(flip ? 'memory' : 'sqlite');
      const b = openStore(flip ? 'sqlite' : 'memory');
      split.forEach(([na, nb], i) => {
        fill(a, LOGS[i].slice(0, na));
        fill(b, LOGS[i].slice(0, nb));
      });
      const union = LOGS.flatMap((log, i) => log.slice(0, Math.max(...split[i])))
        .map((o) => o.hash.toHex())
        .sort();
      const [sa, sb] = duplexPair();
      const ha = syncOverStream(a, sa, { ...testOptions(a), role: 'initiator', topic: TOPIC, config: { pageSize: 7, batchSize: 9 } });
      const hb = syncOverStream(b, sb, { ...testOptions(b), role: 'acceptor', topic: TOPIC, config: { pageSize: 5, batchSize: 13 } });
      await Promise.all([ha.done, hb.done]);
      assert.deepEqual(hashesOf(a), union);
      assert.deepEqual(hashesOf(b), union);
    }),
    { seed: 424242, numRuns: 30 },
  );
});

test('messages survive encode -> frame -> decode', () => {
  const bytes = fc.uint8Array({ maxLength: 64 });
  const b32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
  const message: fc.Arbitrary<SyncMessage> = fc.oneof(
    fc.record({ type: fc.constant('hello' as const), version: fc.nat(), topic: b32, live: fc.boolean() }),
    fc.record({ type: fc.constant('have' as const), logs: fc.array(fc.record({ author: b32, logId: b32, seqNum: fc.nat() }), { maxLength: 5 }), last: fc.boolean() }),
    fc.record({ type: fc.constant('presync' as const), operations: fc.nat(), bytes: fc.nat() }),
    fc.record({ type: fc.constant('operation' as const), header: bytes, body: fc.option(fc.uint8Array({ minLength: 1, maxLength: 300 }), { nil: undefined }) }),
    fc.record({ type: fc.constant('fork' as const), headers: fc.tuple(bytes, bytes) }),
    fc.record({ type: fc.constant('done' as const) }),
    fc.record({ type: fc.constant('ping' as const) }),
    fc.record({ type: fc.constant('close' as const), code: fc.string({ maxLength: 10 }), reason: fc.string({ maxLength: 20 }) }),
  );
  fc.assert(
    fc.property(fc.array(message, { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 50 }), (messages, cut) => {
      const wire = encodeFrames(messages.map(encodeMessage));
      const decoder = new FrameDecoder(1 << 20);
      const got: SyncMessage[] = [];
      for (let i = 0; i < wire.length; i += cut) {
        for (const f of decoder.push(wire.subarray(i, i + cut))) got.push(decodeMessage(f, { maxHaveEntries: 100 }));
      }
      const clean = (m: SyncMessage) => JSON.parse(JSON.stringify(m, (_k, v) => (v instanceof Uint8Array ? [...v] : v)));
      assert.deepEqual(got.map(clean), messages.map(clean));
    }),
    { seed: 7, numRuns: 200 },
  );
});

test('tips mode: a failed tip is pinpointed exactly as in all mode; a committed header counts as endorsed', async () => {
  const log = makeLog(key(70), 8);
  const req = (i: number, headerBytes = log[i].headerBytes): IngestRequest => ({
    operation: decodeOperationUnverified(headerBytes, log[i].body),
    topic: TOPIC,
    kind: 'sync',
  });
  const honest = log.map((_, i) => req(i));
  assert.deepEqual(
    await verifyTips(inlineVerifier, honest),
    log.map(() => true),
  );
  // A forged signature on the last entry: only that one fails.
  const forged = new Uint8Array(log[7].headerBytes);
  forged[40] ^= 1;
  const withBadTip = [...honest.slice(0, 7), req(7, forged)];
  assert.deepEqual(await verifyTips(inlineVerifier, withBadTip), [true, true, true, true, true, true, true, false]);
  assert.deepEqual(await inlineVerifier.verify(withBadTip.map((r) => r.operation)), [true, true, true, true, true, true, true, false]);
  // The author signs a header whose backlink commits to an earlier header with a
  // garbage signature: under VERIFY.md's rule the earlier one is endorsed.
  const sk = key(71);
  const first = createOperation({ privateKey: sk, seqNum: 0, body: new Uint8Array([1]) });
  const garbage = new Uint8Array(first.headerBytes);
  garbage[40] ^= 1;
  const decodedGarbage = decodeOperationUnverified(garbage, first.body);
  const second = createOperation({ privateKey: sk, seqNum: 1, backlink: decodedGarbage.hash, body: new Uint8Array([2]) });
  const chain: IngestRequest[] = [decodedGarbage, second].map((operation) => ({ operation, topic: TOPIC, kind: 'sync' }));
  assert.equal(sk.publicKey.verify(unsignedBytesOf(garbage), decodedGarbage.header.signature), false);
  assert.deepEqual(await verifyTips(inlineVerifier, chain), [true, true]);
});
