import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createOperation, decodeOperationUnverified, Hash, PrivateKey, unsignedBytesOf, VerifyPool, type Operation } from '../../src/core/index.ts';

function ops(): Operation[] {
  const out: Operation[] = [];
  for (let a = 0; a < 3; a++) {
    const key = PrivateKey.generate();
    let backlink: Hash | undefined;
    for (let seq = 0; seq < 5; seq++) {
      const previous = Array.from({ length: seq }, (_, i) => Hash.digest(new Uint8Array([a, i])));
      const op = createOperation({
        privateKey: key,
        body: seq % 2 ? new Uint8Array(seq * 10).fill(seq) : undefined,
        seqNum: seq,
        backlink,
        extensions:
          a === 2
            ? undefined
            : a === 1
              ? { variant: 'causal', logId: new Uint8Array(32).fill(1), timestamp: seq, previous }
              : { variant: 'basic', logId: new Uint8Array(32), timestamp: 2 ** 40 + seq, pruneFlag: false },
      });
      backlink = op.hash;
      out.push(decodeOperationUnverified(op.headerBytes, op.body));
    }
  }
  return out;
}

/** A copy of the operation whose header bytes carry one flipped bit at `index`. */
function tampered(op: Operation, index: number): Operation {
  const bytes = new Uint8Array(op.headerBytes);
  bytes[index] ^= 1;
  return decodeOperationUnverified(bytes);
}

test('VerifyPool: agrees with verification on this thread, good and tampered signatures and messages', async () => {
  const pool = await VerifyPool.create({ threads: 2 });
  try {
    const good = ops();
    const bad = [tampered(good[0], 40), tampered(good[6], good[6].headerBytes.length - 3), tampered(good[12], 120)];
    const all = [...good.slice(0, 5), bad[0], ...good.slice(5, 10), bad[1], ...good.slice(10), bad[2]];
    const expected = all.map((op) => op.header.publicKey.verify(unsignedBytesOf(op.headerBytes), op.header.signature));
    assert.deepEqual(await pool.verify(all), expected);
    assert.equal(expected.filter((ok) => !ok).length, 3);
    assert.deepEqual(await pool.verify([]), []);
  } finally {
    await pool.close();
  }
});

test('VerifyPool: idle workers stop, and start again for the next batch', async () => {
  const pool = await VerifyPool.create({ threads: 2, idleMs: 20 });
  try {
    const good = ops();
    const expected = good.map(() => true);
    assert.deepEqual(await pool.verify(good), expected);
    for (let i = 0; i < 500 && pool.running > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(pool.running, 0);
    assert.deepEqual(await pool.verify(good), expected);
    assert.equal(pool.running, 2);
  } finally {
    await pool.close();
  }
});

test('VerifyPool: inline while the workers start gives the same verdicts as the workers', async () => {
  const pool = await VerifyPool.create({ threads: 2, inlineWhileStarting: true });
  try {
    const good = ops();
    const all = [...good.slice(0, 7), tampered(good[7], 40), ...good.slice(8), tampered(good[1], good[1].headerBytes.length - 3)];
    const expected = all.map((op) => op.header.publicKey.verify(unsignedBytesOf(op.headerBytes), op.header.signature));
    assert.equal(expected.filter((ok) => !ok).length, 2);
    // Right after create the workers are still starting: this batch is checked here.
    assert.deepEqual(await pool.verify(all), expected);
    // And by the workers once they are up.
    for (let i = 0; i < 3000 && !pool.started; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.ok(pool.started);
    assert.deepEqual(await pool.verify(all), expected);
  } finally {
    await pool.close();
  }
});

test('VerifyPool: a caller that only ever awaits verify still hands over to the workers once they are up', async () => {
  const pool = await VerifyPool.create({ threads: 2, inlineWhileStarting: true });
  try {
    const good = ops();
    const expected = good.map(() => true);
    // No timer, no I/O: only the pool's own waits let the workers' start be seen
    // (a bulk ingest fed from memory, as a benchmark or an import does).
    let batches = 0;
    while (!pool.started && batches < 100_000) {
      assert.deepEqual(await pool.verify(good), expected);
      batches++;
    }
    assert.ok(pool.started, `still starting after ${batches} batches`);
    assert.deepEqual(await pool.verify(good), expected);
    // Every batch counted once, on one side; the last ones by the workers.
    const { inline, workers } = pool.verified;
    assert.equal(inline + workers, (batches + 1) * good.length);
    assert.ok(workers >= good.length);
  } finally {
    await pool.close();
  }
});
