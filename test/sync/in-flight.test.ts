/**
 * The receiving driver holds at most `maxOpsInFlight` operations and
 * `maxBytesInFlight` bytes handed to ingest and not yet answered, however
 * fast the peer sends and however slow verification is; the frames it has
 * read but not decoded wait, and the stream's end waits behind them.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Operation } from '../../src/core/index.ts';
import { inlineVerifier, storeIngest, type Verifier } from '../../src/node/inbound/index.ts';
import { SqliteStore } from '../../src/store/index.ts';
import { syncOverStream, type SyncConfig } from '../../src/sync/index.ts';
import { duplexPair } from '../../src/sync/pipe.ts';
import { fill, hashesOf, key, makeLog, TOPIC } from './helpers.ts';

/** The main-thread verifier, answering each batch only after a few turns of the event loop (a busy pool). */
function slowVerifier(onBatch: () => void): Verifier {
  return {
    async verify(operations: Operation[]) {
      onBatch();
      for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
      return inlineVerifier.verify(operations);
    },
  };
}

async function receiveWithCap(log: Operation[], config: Partial<SyncConfig>): Promise<{ maxOps: number; maxBytes: number; stored: number; same: boolean }> {
  const a = SqliteStore.open(':memory:');
  const b = SqliteStore.open(':memory:');
  fill(a, log);
  const size = (op: Operation) => op.headerBytes.length + (op.body?.length ?? 0);
  const [sa, sb] = duplexPair();
  let maxOps = 0;
  let maxBytes = 0;
  const hb = syncOverStream(b, sb, {
    ingest: storeIngest(
      b,
      slowVerifier(() => {
        // Everything received and not yet answered is in flight when a batch starts verifying.
        const s = hb.stats;
        const inFlight = log.slice(s.stored, s.received.operations);
        maxOps = Math.max(maxOps, inFlight.length);
        maxBytes = Math.max(
          maxBytes,
          inFlight.reduce((n, op) => n + size(op), 0),
        );
      }),
    ),
    role: 'acceptor',
    topic: TOPIC,
    config,
  });
  const ha = syncOverStream(a, sa, { ingest: storeIngest(a, inlineVerifier), role: 'initiator', topic: TOPIC, config: { pageSize: 64 } });
  const [, got] = await Promise.all([ha.done, hb.done]);
  return { maxOps, maxBytes, stored: got.stored, same: JSON.stringify(hashesOf(a)) === JSON.stringify(hashesOf(b)) };
}

test('a slow ingest holds the session to maxOpsInFlight decoded operations, and it still gets everything', async () => {
  const log = makeLog(key(1), 900);
  const r = await receiveWithCap(log, { maxOpsInFlight: 50, maxBatchesInFlight: 1000, batchSize: 20 });
  assert.equal(r.stored, 900);
  assert.ok(r.same);
  assert.ok(r.maxOps <= 50, `in flight ${r.maxOps} > 50`);
  assert.ok(r.maxOps > 0);
});

test('large bodies: the session holds at most maxBytesInFlight of them (plus the one that crossed it)', async () => {
  const log = makeLog(key(2), 120, { bodySize: 8000 });
  const cap = 40_000;
  const r = await receiveWithCap(log, { maxBytesInFlight: cap, maxBatchesInFlight: 1000, batchSize: 4 });
  assert.equal(r.stored, 120);
  assert.ok(r.same);
  const largest = Math.max(...log.map((op) => op.headerBytes.length + (op.body?.length ?? 0)));
  assert.ok(r.maxBytes < cap + largest, `in flight ${r.maxBytes} bytes`);
});
