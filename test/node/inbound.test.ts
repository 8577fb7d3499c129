/**
 * The inbound machine (src/node/inbound): every operation, whatever carried
 * it, is checked once, stored through store actions, buffered when it came
 * early, and handed on; gaps and anti-entropy become sync requests; forks
 * are reported once with both headers. The machine runs here without any
 * store (its actions answered by hand) and through its store driver.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createOperation, logIdOf, type Operation } from '../../src/core/index.ts';
import { SplitMix32 } from '../../src/net/membership/random.ts';
import { Inbound, InboundStoreDriver, inlineVerifier, type ForkReport, type InboundOutput } from '../../src/node/inbound/index.ts';
import { encodePayload } from '../../src/node/payload.ts';
import { MemoryStore, type IngestOutcome, type StoredOperation } from '../../src/store/index.ts';
import type { IngestResult } from '../../src/sync/index.ts';
import { basic, keyFor, logIdFor, makeLog } from '../helpers/ops.ts';

const TOPIC = new Uint8Array(32).fill(3);
const PEER = 'peer-a';

const gossip = (op: Operation) => encodePayload({ kind: 'operation', headerBytes: op.headerBytes, body: op.body });
const ofType = <T extends InboundOutput['type']>(out: InboundOutput[], type: T) => out.filter((o): o is Extract<InboundOutput, { type: T }> => o.type === type);
const seqs = (ops: { header: { seqNum: number } }[]) => ops.map((o) => o.header.seqNum);
/** Gossip operations are committed together once the work at hand is done (group commit): let those rounds run. */
const settle = async () => {
  for (let i = 0; i < 8; i++) await new Promise((resolve) => setImmediate(resolve));
};

function tampered(op: Operation): Operation {
  const other = makeLog(keyFor(99), 1)[0];
  // The header of one author with the signature of another: decodes, does not verify.
  const headerBytes = new Uint8Array(op.headerBytes);
  headerBytes.set(other.header.signature.slice(0, 8), headerBytes.length - 8);
  return { ...op, headerBytes };
}

/** A node's inbound path over a memory store, recording what it hands on. */
function driven() {
  const store = MemoryStore.create();
  const stored: StoredOperation[] = [];
  const forks: ForkReport[] = [];
  const syncs: string[] = [];
  const driver = new InboundStoreDriver({
    store,
    verifier: inlineVerifier,
    seed: 7,
    config: { gapGraceMs: 3_600_000, antiEntropyMs: 3_600_000 },
    onStored: (_topic, op) => stored.push(op),
    onFork: (fork) => forks.push(fork),
    onRequestSync: (peer, _topic, reason) => syncs.push(`${peer}:${reason}`),
  });
  driver.feed({ type: 'join', topic: TOPIC });
  driver.feed({ type: 'neighbor-up', topic: TOPIC, peer: PEER });
  return { store, stored, forks, syncs, driver };
}

test('inbound machine: a gossip operation becomes a store action; what the store answers decides what is handed on', () => {
  const machine = new Inbound(new SplitMix32(1));
  machine.handle({ type: 'join', topic: TOPIC }, 0);
  machine.handle({ type: 'neighbor-up', topic: TOPIC, peer: PEER }, 0);
  const [op] = makeLog(keyFor(1), 1);
  const payload = gossip(op);
  assert.deepEqual(ofType(machine.handle({ type: 'check', payload }, 0), 'verdict'), [{ type: 'verdict', ok: true }]);
  const out = machine.handle({ type: 'gossip', topic: TOPIC, from: PEER, payload }, 1);
  assert.equal(ofType(out, 'holds')[0].peer, PEER, 'a neighbour that sent a verified operation holds it');
  const [write] = ofType(out, 'store-ingest');
  assert.equal(write.items[0].operation.hash.toHex(), op.hash.toHex(), 'the machine asks; it does not store');
  const inserted: IngestOutcome = { status: 'inserted', operation: { ...op, localSeq: 1 } };
  const after = machine.handle({ type: 'ingested', job: write.job, outcomes: [inserted] }, 2);
  assert.deepEqual(
    ofType(after, 'stored').map((s) => [s.via, s.operation.localSeq]),
    [['gossip', 1]],
  );
});

test('inbound machine: a payload whose signature does not verify is refused before it travels and never stored', () => {
  const machine = new Inbound(new SplitMix32(1));
  machine.handle({ type: 'join', topic: TOPIC }, 0);
  const payload = gossip(tampered(makeLog(keyFor(1), 1)[0]));
  assert.deepEqual(ofType(machine.handle({ type: 'check', payload }, 0), 'verdict'), [{ type: 'verdict', ok: false }]);
  const out = machine.handle({ type: 'gossip', topic: TOPIC, from: PEER, payload }, 0);
  assert.equal(ofType(out, 'store-ingest').length, 0);
  assert.equal(ofType(out, 'log').length, 1);
});

test('inbound: early arrivals wait for their backlink, then follow it in log order', async () => {
  const { driver, stored, store, syncs } = driven();
  const log = makeLog(keyFor(2), 4);
  for (const op of [log[3], log[2], log[1]]) driver.feed({ type: 'gossip', topic: TOPIC, from: PEER, payload: gossip(op) });
  await settle();
  assert.equal(stored.length, 0);
  assert.deepEqual(driver.machine.sizes(TOPIC).ahead, 3);
  assert.equal(driver.machine.gapSyncs, 1, 'one gap sync pending for the sender, not one per operation');
  driver.feed({ type: 'gossip', topic: TOPIC, from: PEER, payload: gossip(log[0]) });
  await settle();
  assert.deepEqual(seqs(stored), [0, 1, 2, 3]);
  assert.equal(store.latest(log[0].header.publicKey, logIdOf(log[0].header))?.header.seqNum, 3);
  assert.equal(driver.machine.sizes(TOPIC).ahead, 0);
  // The grace period ends with nothing missing: no sync is asked for.
  driver.feed({ type: 'timer', timer: { kind: 'gap', peer: PEER, topic: Buffer.from(TOPIC).toString('hex') } });
  assert.deepEqual(syncs, []);
  driver.stop();
});

test('inbound: a gap still open when the grace period ends asks its sender for a sync; a sync that fills it drains the buffer', async () => {
  const { driver, stored, syncs, store } = driven();
  const log = makeLog(keyFor(3), 3);
  driver.feed({ type: 'gossip', topic: TOPIC, from: PEER, payload: gossip(log[2]) });
  await settle();
  driver.feed({ type: 'timer', timer: { kind: 'gap', peer: PEER, topic: Buffer.from(TOPIC).toString('hex') } });
  await settle();
  assert.deepEqual(syncs, [`${PEER}:gap`]);
  // Sync stores the gap (through its own session) and ends: the early arrival follows.
  const results: IngestResult[] = [];
  const session = driver.open({ mode: 'all', batchSize: 10, onResults: (r) => results.push(...r), onBacklog: () => {} });
  for (const op of log.slice(0, 2)) session.push({ operation: op, topic: TOPIC, kind: 'sync' });
  await session.idle();
  session.close();
  assert.deepEqual(
    results.map((r) => r.outcome.status),
    ['inserted', 'inserted'],
  );
  driver.feed({ type: 'sync-ended', topic: TOPIC });
  await settle();
  assert.deepEqual(seqs(stored), [0, 1, 2]);
  assert.equal(store.latest(log[0].header.publicKey, logIdOf(log[0].header))?.header.seqNum, 2);
  driver.stop();
});

test('inbound: sync batches store everything before the first bad signature and nothing after it', async () => {
  const { driver, stored } = driven();
  const log = makeLog(keyFor(4), 6);
  const results: IngestResult[] = [];
  const session = driver.open({ mode: 'tips', batchSize: 4, onResults: (r) => results.push(...r), onBacklog: () => {} });
  const sent = [...log.slice(0, 3), tampered(log[3]), ...log.slice(4)];
  for (const op of sent) session.push({ operation: op, topic: TOPIC, kind: 'sync' });
  await session.idle();
  session.close();
  assert.deepEqual(
    results.map((r) => (r.outcome.status === 'rejected' ? r.outcome.error.code : r.outcome.status)),
    ['inserted', 'inserted', 'inserted', 'INVALID_SIGNATURE'],
  );
  assert.deepEqual(seqs(stored), [0, 1, 2]);
  driver.stop();
});

test('inbound: multicast operations are checked like any other; a local publish is stored and handed on', async () => {
  const { driver, stored } = driven();
  const log = makeLog(keyFor(5), 2);
  const outcomes: string[] = [];
  driver.ingest('multicast', TOPIC, tampered(log[0]), (r) => outcomes.push(r.outcome.status === 'rejected' ? r.outcome.error.code : r.outcome.status));
  driver.ingest('multicast', TOPIC, log[0], (r) => outcomes.push(r.outcome.status));
  driver.ingest('local', TOPIC, log[1], (r) => outcomes.push(r.outcome.status));
  // A local publish is committed with the others of its turn (group commit), in a microtask.
  assert.deepEqual(outcomes, ['INVALID_SIGNATURE', 'inserted']);
  await Promise.resolve();
  assert.deepEqual(outcomes, ['INVALID_SIGNATURE', 'inserted', 'inserted']);
  assert.deepEqual(seqs(stored), [0, 1]);
  driver.stop();
});

test('inbound: local publishes of one turn share one store transaction and are answered after it', async () => {
  const { driver, store, stored } = driven();
  const log = makeLog(keyFor(6), 5);
  const batches: number[] = [];
  const ingestBatch = store.ingestBatch.bind(store);
  store.ingestBatch = (items) => {
    batches.push(items.length);
    return ingestBatch(items);
  };
  const outcomes: string[] = [];
  // The third is signed over a seqNum the log does not reach: rejected on its own, the rest stored.
  const gap = createOperation({ privateKey: keyFor(6), body: new Uint8Array(1), seqNum: 9, backlink: log[4].hash, extensions: basic(logIdOf(log[0].header), 9) });
  for (const op of [log[0], log[1], gap, log[2]])
    driver.ingest('local', TOPIC, op, (r) => outcomes.push(r.outcome.status === 'rejected' ? r.outcome.error.code : r.outcome.status));
  assert.deepEqual(outcomes, []);
  await Promise.resolve();
  assert.deepEqual(batches, [4]);
  assert.deepEqual(outcomes, ['inserted', 'inserted', 'SEQ_GAP', 'inserted']);
  assert.deepEqual(seqs(stored), [0, 1, 2]);
  driver.stop();
});

test('inbound: two operations of one author at one seqNum are reported once as a fork, with both headers', async () => {
  const { driver, forks } = driven();
  const key = keyFor(6);
  const logId = logIdFor(1);
  const [first] = makeLog(key, 1);
  const second = createOperation({ privateKey: key, body: new TextEncoder().encode('the other branch'), seqNum: 0, extensions: basic(logId, 0) });
  driver.feed({ type: 'gossip', topic: TOPIC, from: PEER, payload: gossip(first) });
  driver.feed({ type: 'gossip', topic: TOPIC, from: PEER, payload: gossip(second) });
  await settle();
  driver.feed({ type: 'gossip', topic: TOPIC, from: PEER, payload: gossip(second) });
  await settle();
  assert.equal(forks.length, 1);
  const [fork] = forks;
  assert.equal(fork.author.toHex(), key.publicKey.toHex());
  assert.equal(fork.seqNum, 0);
  assert.equal(fork.via, 'gossip');
  const headers = new Set(fork.headers.map((h) => Buffer.from(h).toString('hex')));
  assert.deepEqual(headers, new Set([first, second].map((o) => Buffer.from(o.headerBytes).toString('hex'))));
  driver.stop();
});

test('inbound machine: anti-entropy is a timer value; each tick asks one seeded-random neighbour of every topic', () => {
  const run = (seed: number) => {
    const machine = new Inbound(new SplitMix32(seed), { antiEntropyMs: 1000 });
    const start = machine.handle({ type: 'start' }, 0);
    assert.deepEqual(start, [{ type: 'set-timer', timer: { kind: 'anti-entropy' }, afterMs: 1000 }]);
    machine.handle({ type: 'join', topic: TOPIC }, 0);
    for (const peer of ['p1', 'p2', 'p3', 'p4']) machine.handle({ type: 'neighbor-up', topic: TOPIC, peer }, 0);
    const picks: string[] = [];
    for (let i = 0; i < 8; i++) {
      const out = machine.handle({ type: 'timer', timer: { kind: 'anti-entropy' } }, 1000 * (i + 1));
      picks.push(...ofType(out, 'request-sync').map((r) => r.peer));
      assert.equal(ofType(out, 'set-timer').length, 1, 'the timer is set again');
    }
    return picks;
  };
  assert.deepEqual(run(11), run(11), 'same seed, same choices');
  assert.equal(run(11).length, 8);
  assert.ok(new Set(run(11)).size > 1, 'the choice varies');
});

test('inbound: gossip operations that arrive together are committed together, in arrival order', async () => {
  const { driver, stored, store } = driven();
  const batches: number[] = [];
  const ingestBatch = store.ingestBatch.bind(store);
  store.ingestBatch = (items) => (batches.push(items.length), ingestBatch(items));
  const log = makeLog(keyFor(8), 5);
  for (const op of log) driver.feed({ type: 'gossip', topic: TOPIC, from: PEER, payload: gossip(op) });
  assert.equal(stored.length, 0, 'held until the work at hand is done');
  await settle();
  assert.deepEqual(batches, [5], 'one transaction for the burst');
  assert.deepEqual(seqs(stored), [0, 1, 2, 3, 4]);
  driver.stop();
});
