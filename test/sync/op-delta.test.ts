import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { createOperation, Hash, isWalkawayError, MAX_PREVIOUS, type Operation } from '../../src/core/index.ts';
import { syncOverStream, type SyncConfig, type SyncMessage } from '../../src/sync/index.ts';
import { decodeMessage, encodeMessage } from '../../src/sync/messages.ts';
import { compactOf, decodeNext, encodeNext, headerOfNext, type NextOperation } from '../../src/sync/op-delta.ts';
import { duplexPair } from '../../src/sync/pipe.ts';
import { fill, frames, hashesOf, hello, key, LOG_ID, makeLog, openStore, testOptions, TOPIC } from './helpers.ts';

const LIMITS = { maxHaveEntries: 4096 };

/** A causal log: each operation names its backlink and, every other one, an operation of another author. */
function causalLog(count: number): Operation[] {
  const other = makeLog(key(90), 1)[0];
  const out: Operation[] = [];
  for (let seq = 0; seq < count; seq++) {
    const prev = out[seq - 1];
    const previous = [...(prev ? [prev.hash] : []), ...(seq % 2 ? [other.hash] : [])];
    out.push(
      createOperation({
        privateKey: key(91),
        seqNum: seq,
        backlink: prev?.hash,
        body: seq % 3 === 0 ? undefined : new Uint8Array(seq * 7).fill(seq),
        extensions: { variant: 'causal', logId: LOG_ID, timestamp: 1_700_000_000_000_000 + seq * 1_000_003, previous },
      }),
    );
  }
  return out;
}

/** What goes on the wire for `ops` in order, through the message codec and back. */
function roundTrip(ops: Operation[]): { headers: Uint8Array[]; nexts: number } {
  let prevSent: Operation | undefined;
  let prevReceived: Operation | undefined;
  let nexts = 0;
  const headers: Uint8Array[] = [];
  for (const op of ops) {
    const next = compactOf(prevSent, op);
    const message: SyncMessage = next ? { type: 'next', ...next } : { type: 'operation', header: op.headerBytes, body: op.body };
    prevSent = op;
    const got = decodeMessage(encodeMessage(message), LIMITS);
    if (got.type === 'next') nexts++;
    const header = got.type === 'next' ? headerOfNext(prevReceived!, got) : (got as { header: Uint8Array }).header;
    headers.push(header);
    prevReceived = { ...op, headerBytes: header, hash: Hash.digest(header) };
  }
  return { headers, nexts };
}

test('compact operations rebuild the exact signed header bytes: basic (prune flags, empty bodies) and causal logs', () => {
  const basic = makeLog(key(1), 40, { prune: [7, 8] });
  const empty = makeLog(key(2), 5, { bodySize: 0 });
  for (const log of [basic, empty, causalLog(30)]) {
    const { headers, nexts } = roundTrip(log);
    assert.equal(nexts, log.length - 1, 'every operation after the first is compact');
    headers.forEach((h, i) => assert.deepEqual(h, log[i].headerBytes, `seq ${i}`));
  }
});

test('compact operations are much smaller than whole ones', () => {
  const log = makeLog(key(3), 100, { bodySize: 100 });
  const whole = log.reduce((n, op) => n + encodeMessage({ type: 'operation', header: op.headerBytes, body: op.body }).length, 0);
  const compact = log.reduce((n, op, i) => {
    const next = compactOf(log[i - 1], op);
    return n + encodeMessage(next ? { type: 'next', ...next } : { type: 'operation', header: op.headerBytes, body: op.body }).length;
  }, 0);
  // Per operation: ~320 bytes whole, ~172 compact (signature, delta, flag, body).
  assert.ok(compact < whole * 0.6, `${compact} vs ${whole}`);
});

test('operations that do not follow their predecessor go whole', () => {
  const log = makeLog(key(4), 4);
  const other = makeLog(key(5), 4);
  assert.equal(compactOf(undefined, log[0]), undefined, 'first of a session');
  assert.equal(compactOf(log[0], log[2]), undefined, 'a gap');
  assert.equal(compactOf(other[0], log[1]), undefined, 'another author');
  assert.equal(compactOf(log[0], { ...log[1], body: undefined }), undefined, 'body deleted (payload hash not recomputable)');
  const earlier = createOperation({
    privateKey: key(4),
    seqNum: 1,
    backlink: log[0].hash,
    body: new Uint8Array([1]),
    extensions: { variant: 'basic', logId: LOG_ID, timestamp: 1, pruneFlag: false },
  });
  assert.equal(compactOf(log[0], earlier), undefined, 'timestamp going back');
  assert.ok(compactOf(log[0], log[1]));
});

test('the next decoder refuses non-canonical and oversized input with typed errors', () => {
  const next = compactOf(...(makeLog(key(6), 2) as [Operation, Operation]))!;
  const good = encodeNext(next);
  assert.deepEqual(decodeNext(good), { ...next, signature: next.signature, body: next.body });
  const code = (bytes: Uint8Array) => {
    try {
      decodeMessage(bytes, LIMITS);
      return 'ok';
    } catch (err) {
      assert.ok(isWalkawayError(err), String(err));
      return err.code;
    }
  };
  assert.equal(code(new Uint8Array([...good, 0])), 'MALFORMED', 'trailing byte');
  assert.equal(code(good.subarray(0, good.length - 1)), 'MALFORMED', 'cut short');
  const longDelta = encodeNext({ ...next, timestampDelta: 0 });
  // delta 0 written as 0x18 0x00 (not shortest)
  const padded = new Uint8Array([...longDelta.subarray(0, 68), 0x18, 0x00, ...longDelta.subarray(69)]);
  assert.equal(code(padded), 'MALFORMED', 'non-shortest integer');
  const tooMany: NextOperation = { ...next, ext: Array.from({ length: MAX_PREVIOUS + 1 }, () => null) };
  assert.equal(code(encodeNext(tooMany)), 'TOO_LARGE');
  assert.equal(code(encodeNext({ ...next, body: undefined }).map((b, i) => (i === 0 ? 0x85 : b))), 'MALFORMED', 'missing body');
  fc.assert(
    fc.property(fc.integer({ min: 0, max: good.length - 1 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 3 }), (at, value, cut) => {
      const bytes = good.slice(0, good.length - cut);
      bytes[at % bytes.length] = value;
      assert.notEqual(code(bytes), 'untyped');
    }),
    { seed: 21, numRuns: 2000 },
  );
});

/** An honest acceptor against a peer that writes `bytes`. */
async function against(bytes: Buffer, config: Partial<SyncConfig> = {}) {
  const store = openStore('sqlite');
  const [honest, raw] = duplexPair();
  raw.resume();
  const handle = syncOverStream(store, honest, { ...testOptions(store), role: 'acceptor', topic: TOPIC, config: { stallTimeoutMs: 2000, ...config } });
  raw.write(bytes);
  const error = await handle.done.then(
    () => assert.fail('the session should fail'),
    (err: unknown) => err,
  );
  assert.ok(isWalkawayError(error));
  return { error, store };
}

const author = key(7);
const log = makeLog(author, 6);
const opening = (): SyncMessage[] => [
  hello(),
  { type: 'have', logs: [{ author: author.publicKey.bytes, logId: LOG_ID, seqNum: 5 }], last: true },
  { type: 'presync', operations: 6, bytes: 0 },
];
const whole = (op: Operation): SyncMessage => ({ type: 'operation', header: op.headerBytes, body: op.body });
const nextOf = (i: number, change: Partial<NextOperation> = {}): SyncMessage => ({ type: 'next', ...compactOf(log[i - 1], log[i])!, ...change });

test('a next message before any operation ends the session with PROTOCOL', async () => {
  const { error } = await against(frames(...opening(), nextOf(1)));
  assert.equal(error.code, 'PROTOCOL');
});

for (const verify of ['all', 'tips'] as const) {
  test(`a forged compact operation is refused by its signature and nothing after it is stored (verify ${verify})`, async () => {
    const body = new Uint8Array(log[3].body!).fill(0xee);
    const badSig = new Uint8Array(64).fill(1);
    for (const forged of [nextOf(3, { body }), nextOf(3, { signature: badSig })]) {
      const run = await against(frames(...opening(), whole(log[0]), nextOf(1), nextOf(2), forged, nextOf(4), nextOf(5)), { verify, batchSize: 3 });
      assert.equal(run.error.code, 'INVALID_SIGNATURE');
      assert.deepEqual(
        hashesOf(run.store),
        log
          .slice(0, 3)
          .map((o) => o.hash.toHex())
          .sort(),
      );
    }
  });
}

test('sync with and without compact operations stores the same operations', async () => {
  for (const compact of [true, false]) {
    const a = openStore('memory');
    const b = openStore('sqlite');
    fill(a, [...makeLog(key(8), 300, { prune: [120] }).slice(120), ...causalLog(50)]);
    const [sa, sb] = duplexPair();
    const ha = syncOverStream(a, sa, { ...testOptions(a), role: 'initiator', topic: TOPIC, config: { compact } });
    const hb = syncOverStream(b, sb, { ...testOptions(b), role: 'acceptor', topic: TOPIC, config: { compact } });
    const [, got] = await Promise.all([ha.done, hb.done]);
    assert.equal(got.stored, 230, `compact ${compact}`);
    assert.deepEqual(hashesOf(b), hashesOf(a));
  }
});
