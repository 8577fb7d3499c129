import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encode as cborEncode } from 'cborg';
import fc from 'fast-check';
import { isWalkawayError, type Operation } from '../../src/core/index.ts';
import { syncOverStream, type SyncConfig, type SyncMessage } from '../../src/sync/index.ts';
import { duplexPair } from '../../src/sync/pipe.ts';
import { frames, hashesOf, hello, key, LOG_ID, makeLog, openStore, testOptions, TOPIC } from './helpers.ts';
import { SYNC_PROTOCOL_VERSION } from '../../src/sync/index.ts';

const author = key(40);
const log = makeLog(author, 12);

function have(seqNum = 11, who = author): SyncMessage {
  return { type: 'have', logs: [{ author: who.publicKey.bytes, logId: LOG_ID, seqNum }], last: true };
}

function op(o: Operation, body = o.body): SyncMessage {
  return { type: 'operation', header: o.headerBytes, body };
}

const opening = (): SyncMessage[] => [hello(), have(), { type: 'presync', operations: 12, bytes: 0 }];

/** Runs an honest acceptor against a peer that writes `bytes`, returns its error and store. */
async function against(bytes: Buffer[], config: Partial<SyncConfig> = {}, end = false) {
  const store = openStore('sqlite');
  const [honest, raw] = duplexPair();
  raw.resume(); // the hostile peer never reads what it is told
  const handle = syncOverStream(store, honest, { ...testOptions(store), role: 'acceptor', topic: TOPIC, config: { stallTimeoutMs: 2000, ...config } });
  for (const b of bytes) raw.write(b);
  if (end) raw.end();
  const error = await handle.done.then(
    () => assert.fail('the session should fail'),
    (err: unknown) => err,
  );
  assert.ok(isWalkawayError(error), `a typed error, got ${error}`);
  return { error, store, stats: error.data.stats as { stored: number } };
}

test('a malformed frame ends the session with MALFORMED and keeps what came before', async () => {
  const { error, store } = await against([frames(...opening(), ...log.slice(0, 5).map((o) => op(o))), Buffer.from([0, 0, 0, 2, 0xff, 0x00])]);
  assert.equal(error.code, 'MALFORMED');
  assert.deepEqual(
    hashesOf(store),
    log
      .slice(0, 5)
      .map((o) => o.hash.toHex())
      .sort(),
  );
});

test('an oversized frame ends the session with TOO_LARGE as soon as its length is read', async () => {
  const big = Buffer.alloc(4);
  big.writeUInt32BE(3 * 1024 * 1024);
  const { error, store } = await against([frames(...opening(), op(log[0]), op(log[1])), big]);
  assert.equal(error.code, 'TOO_LARGE');
  assert.equal(hashesOf(store).length, 2);
});

test('an out-of-order operation ends the session with SEQ_GAP', async () => {
  const { error, store } = await against([frames(...opening(), ...log.slice(0, 5).map((o) => op(o)), op(log[6]))]);
  assert.equal(error.code, 'SEQ_GAP');
  assert.equal(hashesOf(store).length, 5);
});

test('a bad signature ends the session with INVALID_SIGNATURE and keeps the valid ones before it', async () => {
  const header = new Uint8Array(log[5].headerBytes);
  header[40] ^= 0x01; // a byte inside the signature: still canonical CBOR
  const { error, store } = await against([frames(...opening(), ...log.slice(0, 5).map((o) => op(o)), { type: 'operation', header, body: log[5].body })]);
  assert.equal(error.code, 'INVALID_SIGNATURE');
  assert.equal(hashesOf(store).length, 5);
});

test('a body that does not match its header ends the session with PAYLOAD_MISMATCH', async () => {
  const { error, store } = await against([frames(...opening(), op(log[0]), op(log[1], new Uint8Array(24)))]);
  assert.equal(error.code, 'PAYLOAD_MISMATCH');
  assert.equal(hashesOf(store).length, 1);
});

test('an unknown message ends the session with PROTOCOL', async () => {
  const unknown = Buffer.from(cborEncode([42, 'hi']));
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32BE(unknown.length);
  const { error } = await against([frames(...opening()), prefix, unknown]);
  assert.equal(error.code, 'PROTOCOL');
});

test('an operation of a log the peer did not announce ends the session with PROTOCOL', async () => {
  const stranger = makeLog(key(41), 1);
  const { error } = await against([frames(...opening(), op(stranger[0]))]);
  assert.equal(error.code, 'PROTOCOL');
});

test('messages out of protocol order end the session with PROTOCOL', async () => {
  const { error } = await against([frames(hello(), op(log[0]))]);
  assert.equal(error.code, 'PROTOCOL');
});

test('another topic or protocol version is refused', async () => {
  const other: SyncMessage = { type: 'hello', version: SYNC_PROTOCOL_VERSION, topic: new Uint8Array(32).fill(9), live: false };
  assert.equal((await against([frames(other)])).error.code, 'PROTOCOL');
  // Version 1 (before compact operations) and a future version.
  for (const version of [1, SYNC_PROTOCOL_VERSION + 1]) {
    const mismatch: SyncMessage = { type: 'hello', version, topic: TOPIC, live: false };
    assert.equal((await against([frames(mismatch)])).error.code, 'PROTOCOL');
  }
});

test('a peer that stalls ends the session with TIMEOUT after the configured bound', async () => {
  const { error, store } = await against([frames(...opening(), ...log.slice(0, 3).map((o) => op(o)))], { stallTimeoutMs: 150 });
  assert.equal(error.code, 'TIMEOUT');
  assert.equal(hashesOf(store).length, 3);
});

test('a peer that hangs up in the middle ends the session with CLOSED and keeps what came', async () => {
  const { error, store } = await against([frames(...opening(), ...log.slice(0, 4).map((o) => op(o)))], {}, true);
  assert.equal(error.code, 'CLOSED');
  assert.equal(hashesOf(store).length, 4);
});

test('random bytes from a peer never crash: the session ends with a typed error', async () => {
  await fc.assert(
    fc.asyncProperty(fc.boolean(), fc.uint8Array({ minLength: 1, maxLength: 300 }), async (afterOpening, garbage) => {
      const bytes = afterOpening ? [frames(...opening()), Buffer.from(garbage)] : [Buffer.from(garbage)];
      const { error } = await against(bytes, { stallTimeoutMs: 100 }, true);
      assert.ok(['MALFORMED', 'PROTOCOL', 'TOO_LARGE', 'CLOSED', 'TIMEOUT', 'SEQ_GAP', 'PAYLOAD_MISMATCH', 'UNSUPPORTED_VERSION'].includes(error.code), error.code);
    }),
    { seed: 20260501, numRuns: 60 },
  );
});
