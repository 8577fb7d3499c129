import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Store } from '../../src/store/index.ts';
import { syncOverStream, type SyncOptions, type SyncStats } from '../../src/sync/index.ts';
import { duplexPair } from '../../src/sync/pipe.ts';
import { storeIngest } from '../../src/node/inbound/index.ts';
import { fill, hashesOf, heightsOf, key, LOG_ID, makeLog, openStore, STORE_PAIRS, testOptions, TOPIC } from './helpers.ts';

async function sync(a: Store, b: Store, extra: Partial<SyncOptions> = {}): Promise<[SyncStats, SyncStats]> {
  const [sa, sb] = duplexPair();
  const ha = syncOverStream(a, sa, { ...testOptions(a), ...extra, role: 'initiator', topic: TOPIC });
  const hb = syncOverStream(b, sb, { ...testOptions(b), ...extra, role: 'acceptor', topic: TOPIC });
  return Promise.all([ha.done, hb.done]);
}

for (const [kindA, kindB] of STORE_PAIRS) {
  describe(`sync ${kindA} <-> ${kindB} over an in-memory pipe`, () => {
    test('one way: the empty side gets the whole log, with PreSync totals and progress', async () => {
      const a = openStore(kindA);
      const b = openStore(kindB);
      fill(a, makeLog(key(1), 700));
      const [sa, sb] = duplexPair();
      const ha = syncOverStream(a, sa, { ...testOptions(a), role: 'initiator', topic: TOPIC, config: { pageSize: 64, batchSize: 200 } });
      const hb = syncOverStream(b, sb, { ...testOptions(b), role: 'acceptor', topic: TOPIC, config: { batchSize: 200 } });
      const presync: number[] = [];
      let lastStored = 0;
      let operations = 0;
      hb.on('presync', (e) => e.direction === 'receive' && presync.push(e.operations));
      hb.on('progress', (e) => (lastStored = e.progress.stored));
      hb.on('operation', () => operations++);
      const [sent, got] = await Promise.all([ha.done, hb.done]);
      assert.deepEqual(presync, [700]);
      assert.equal(lastStored, 700);
      assert.equal(operations, 700);
      assert.equal(sent.sent.operations, 700);
      assert.equal(got.stored, 700);
      assert.deepEqual(hashesOf(b), hashesOf(a));
    });

    test('both ways and many authors: each side ends with the union', async () => {
      const a = openStore(kindA);
      const b = openStore(kindB);
      const logs = Array.from({ length: 12 }, (_, i) => makeLog(key(10 + i), 40));
      logs.forEach((log, i) => {
        if (i % 3 !== 1) fill(a, log.slice(0, i % 3 === 2 ? 15 : 40));
        if (i % 3 !== 0) fill(b, log.slice(0, i % 3 === 2 ? 40 : 40));
      });
      const [sa, sb] = await sync(a, b);
      assert.deepEqual(heightsOf(a), heightsOf(b));
      assert.equal(Object.keys(heightsOf(a)).length, 12);
      assert.deepEqual(hashesOf(a), hashesOf(b));
      assert.equal(sa.stored + sb.stored, sa.received.operations + sb.received.operations);
      assert.equal(sa.duplicates + sb.duplicates, 0);
    });

    test('nothing to send: both sides finish with empty PreSyncs', async () => {
      const a = openStore(kindA);
      const b = openStore(kindB);
      const log = makeLog(key(2), 5);
      fill(a, log);
      fill(b, log);
      const [sa, sb] = await sync(a, b);
      assert.equal(sa.sent.operations + sb.sent.operations, 0);
      assert.equal(sa.expected.operations + sb.expected.operations, 0);
    });

    test('pruned logs sync from the prune point; a peer behind it gets the pruned log', async () => {
      const author = key(3);
      const log = makeLog(author, 100, { prune: [50] });
      const a = openStore(kindA);
      fill(a, log);
      a.deleteBefore(author.publicKey, LOG_ID, 50);
      const empty = openStore(kindB);
      const behind = openStore(kindB);
      fill(behind, log.slice(0, 21));
      const ahead = openStore(kindB);
      fill(ahead, log.slice(0, 71));
      const [toEmpty] = await sync(a, empty);
      assert.equal(toEmpty.sent.operations, 50);
      assert.equal(hashesOf(empty).length, 50);
      assert.equal(heightsOf(empty)[author.publicKey.toHex()], 99);
      const [toBehind] = await sync(a, behind);
      assert.equal(toBehind.sent.operations, 50);
      assert.equal(heightsOf(behind)[author.publicKey.toHex()], 99);
      const [toAhead] = await sync(a, ahead);
      assert.equal(toAhead.sent.operations, 29);
      assert.equal(heightsOf(ahead)[author.publicKey.toHex()], 99);
    });

    test('interrupted and resumed: nothing already stored is sent again', async () => {
      const a = openStore(kindA);
      const b = openStore(kindB);
      fill(a, makeLog(key(4), 1500));
      const [sa, sb] = duplexPair();
      const ha = syncOverStream(a, sa, { ...testOptions(a), role: 'initiator', topic: TOPIC, config: { batchSize: 100, pageSize: 50 } });
      const hb = syncOverStream(b, sb, { ...testOptions(b), role: 'acceptor', topic: TOPIC, config: { batchSize: 100 } });
      hb.on('progress', (e) => {
        if (e.progress.stored >= 300) sb.destroy();
      });
      const [ra, rb] = await Promise.allSettled([ha.done, hb.done]);
      assert.equal(rb.status, 'rejected');
      assert.equal((rb as PromiseRejectedResult).reason.code, 'CLOSED');
      assert.equal(ra.status, 'rejected');
      const storedFirst = hashesOf(b).length;
      assert.ok(storedFirst >= 300 && storedFirst < 1500, `stored ${storedFirst} in the first session`);
      const [second] = await sync(a, b);
      assert.equal(second.sent.operations, 1500 - storedFirst);
      assert.deepEqual(hashesOf(b), hashesOf(a));
    });

    test('fork evidence is passed on and recorded by the other store', async () => {
      const author = key(5);
      const main = makeLog(author, 6);
      const branch = makeLog(author, 2, { from: main[2], salt: 99 });
      const a = openStore(kindA);
      fill(a, main);
      const outcome = a.ingest(branch[0], TOPIC);
      assert.equal(outcome.status, 'rejected');
      assert.equal(a.forks().length, 1);
      const b = openStore(kindB);
      const c = openStore(kindB);
      fill(c, main); // c holds the other branch beyond the fork point
      const [, gotB] = await sync(a, b);
      assert.equal(b.forks().length, 1);
      assert.equal(b.forks()[0].seqNum, 3);
      assert.equal(heightsOf(b)[author.publicKey.toHex()], 2);
      assert.equal(gotB.forks, 1);
      await sync(a, c);
      assert.equal(c.forks().length, 1);
      assert.equal(heightsOf(c)[author.publicKey.toHex()], 2);
    });

    test('live mode: new operations flow after the bulk sync until close', async () => {
      const a = openStore(kindA);
      const b = openStore(kindB);
      const log = makeLog(key(6), 30);
      fill(a, log.slice(0, 20));
      const [sa, sb] = duplexPair();
      const ha = syncOverStream(a, sa, { ...testOptions(a), role: 'initiator', topic: TOPIC, live: true });
      const hb = syncOverStream(b, sb, { ...testOptions(b), role: 'acceptor', topic: TOPIC, live: true });
      await new Promise((resolve) => hb.once('synced', resolve));
      const live: number[] = [];
      const all = new Promise<void>((resolve) =>
        hb.on('operation', (e) => {
          if (e.live) live.push(e.operation.header.seqNum);
          if (live.length === 10) resolve();
        }),
      );
      for (const op of log.slice(20)) {
        fill(a, [op]);
        ha.publish(op);
      }
      await all;
      ha.close();
      const [sta, stb] = await Promise.all([ha.done, hb.done]);
      assert.deepEqual(live, [20, 21, 22, 23, 24, 25, 26, 27, 28, 29]);
      assert.equal(sta.sent.live, 10);
      assert.equal(stb.live, true);
      assert.deepEqual(hashesOf(b), hashesOf(a));
    });
  });
}

test('live mode stays off unless both sides ask for it', async () => {
  const a = openStore('memory');
  const b = openStore('memory');
  fill(a, makeLog(key(7), 3));
  const [sa, sb] = await sync(a, b, { live: false });
  assert.equal(sa.live, false);
  assert.equal(sb.live, false);
});

test('the worker verify pool and tips mode give the same result as verifying on the main thread', async () => {
  const log = makeLog(key(8), 1200);
  for (const verify of ['all', 'tips'] as const) {
    const a = openStore('sqlite');
    const b = openStore('sqlite');
    fill(a, log);
    const [sa, sb] = duplexPair();
    const ha = syncOverStream(a, sa, { ingest: storeIngest(a), role: 'initiator', topic: TOPIC });
    const hb = syncOverStream(b, sb, { ingest: storeIngest(b), role: 'acceptor', topic: TOPIC, config: { verify } });
    const [, got] = await Promise.all([ha.done, hb.done]);
    assert.equal(got.stored, 1200, verify);
    assert.deepEqual(hashesOf(b), hashesOf(a));
  }
});
