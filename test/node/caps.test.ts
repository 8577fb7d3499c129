/**
 * Issue 15: each structure the network fills holds its caps and expiry, the
 * penalty score decays and bans with a growing period, and a header names at
 * most 16 heads, chosen by the documented rule. In-process, time passed in.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createOperation, logIdForTopic, PrivateKey, topicId, type Hash } from '../../src/core/index.ts';
import { PlumTree } from '../../src/net/plumtree/plumtree.ts';
import { SplitMix32 } from '../../src/net/membership/random.ts';
import { PENALTY_POINTS, Penalties } from '../../src/net/gossip/penalties.ts';
import { AheadBuffer, AHEAD_TTL_MS, MAX_AHEAD, MAX_AHEAD_PER_LOG } from '../../src/node/inbound/ahead-buffer.ts';
import { HEIGHTS_TTL_MS, MAX_HEIGHT_PEERS, MAX_HEIGHTS_PER_PEER, PeerHeights } from '../../src/node/peer-heights.ts';
import { Receiver } from '../../src/node/receiver.ts';
import { TopicState } from '../../src/node/topic-state.ts';
import { MemoryStore } from '../../src/store/index.ts';

const key = PrivateKey.fromBytes(new Uint8Array(32).fill(1));
const logId = logIdForTopic(topicId('caps'));

function op(privateKey: PrivateKey, seqNum: number, body = new Uint8Array(8), previous: Hash[] = []) {
  return createOperation({
    privateKey,
    body,
    seqNum,
    backlink: seqNum > 0 ? createOperation({ privateKey, seqNum: 0 }).hash : undefined,
    extensions: { variant: 'causal', logId, timestamp: 1, previous },
  });
}

test('penalties decay, ban at the threshold, double the ban per repeat offence, and stay bounded', () => {
  const p = new Penalties({ maxPeers: 8 });
  for (let i = 0; i < 4; i++) assert.equal(p.penalise('a', 'invalid', 0), false);
  assert.equal(p.isBanned('a', 0), false, 'four forgeries are not enough');
  // Twenty seconds later (two half-lives) the score is a quarter: honest noise never adds up.
  assert.ok(Math.abs(p.score('a', 20_000) - (4 * PENALTY_POINTS.invalid) / 4) < 1e-9);
  assert.equal(p.penalise('a', 'invalid', 0), true, 'the fifth in a row bans');
  assert.ok(p.isBanned('a', 59_999) && !p.isBanned('a', 60_000), 'the first ban lasts 60 s');
  for (let i = 0; i < 5; i++) p.penalise('a', 'invalid', 60_000);
  assert.ok(p.isBanned('a', 60_000 + 119_999) && !p.isBanned('a', 180_000), 'the second lasts twice as long');
  for (let i = 0; i < 200; i++) p.penalise('s', 'stranger', i * 1000);
  assert.equal(p.isBanned('s', 200_000), false, 'one stranger message a second never bans');
  for (let i = 0; i < 100; i++) p.penalise(`fresh${i}`, 'malformed', 200_000);
  assert.ok(p.sizes(200_000).tracked <= 8, 'a flood of fresh peers does not grow the records');
});

test('the PlumTree cache holds its byte and count caps, ids their count cap', () => {
  const tree = new PlumTree<string>('me', new SplitMix32(1), { maxCacheBytes: 10_000, maxCacheEntries: 50, maxReceivedIds: 100 });
  tree.handle({ type: 'neighbor-up', peer: 'n' }, 0);
  for (let i = 0; i < 300; i++) {
    tree.handle({ type: 'recv', from: 'n', message: { type: 'gossip', id: `m${i}`, payload: new Uint8Array(i % 2 ? 1000 : 10), hop: 1 } }, i);
    const m = tree.memory();
    assert.ok(m.cacheBytes <= 10_000 && m.cache <= 50 && m.received <= 100, JSON.stringify(m));
  }
  assert.equal(tree.stats.delivered, 300);
  assert.ok(tree.memory().cacheBytes > 9_000, 'the cache fills up to its byte cap, not below');
});

test('early arrivals: count, per-log and byte caps, expiry, and what fits is taken in order', () => {
  const buffer = new AheadBuffer();
  const author = PrivateKey.generate();
  for (let seq = 2; seq < 2 + MAX_AHEAD_PER_LOG + 10; seq++) buffer.keep(op(author, seq), 0);
  assert.equal(buffer.count, MAX_AHEAD_PER_LOG, 'one author cannot take more than its share');
  for (let i = 0; i < MAX_AHEAD + 50; i++) buffer.keep(op(PrivateKey.generate(), 3), 1);
  assert.equal(buffer.count, MAX_AHEAD);
  const big = new Uint8Array(60_000);
  for (let i = 0; i < 100; i++) buffer.keep(op(PrivateKey.generate(), 3, big), 2);
  assert.ok(buffer.bytes <= 4 * 1024 * 1024, `bytes capped (${buffer.bytes})`);
  buffer.keep(op(PrivateKey.generate(), 3), 2 + AHEAD_TTL_MS + 1000);
  assert.equal(buffer.count, 1, 'everything older than the TTL is gone');
  const first = op(key, 1);
  buffer.keep(op(key, 2), 3 + AHEAD_TTL_MS);
  assert.equal(buffer.takeNext(first)?.header.seqNum, 2);
  assert.equal(buffer.count, 1);
});

test('peer heights: peers and logs per peer capped, stale peers forgotten', () => {
  const heights = new PeerHeights();
  const author = PrivateKey.generate().publicKey;
  for (let i = 0; i < MAX_HEIGHT_PEERS + 20; i++) heights.note(`peer${i}`, [{ author, logId, seqNum: i }], i);
  assert.equal(heights.sizes().peers, MAX_HEIGHT_PEERS);
  const many = Array.from({ length: MAX_HEIGHTS_PER_PEER + 100 }, () => ({ author: PrivateKey.generate().publicKey, logId, seqNum: 0 }));
  heights.note('flooder', many, 1000);
  assert.ok(heights.sizes().entries <= MAX_HEIGHT_PEERS * MAX_HEIGHTS_PER_PEER);
  assert.ok(heights.sizes().entries - (MAX_HEIGHT_PEERS - 1) <= MAX_HEIGHTS_PER_PEER, 'one peer holds at most its cap of logs');
  heights.note('late', [{ author, logId, seqNum: 1 }], 1000 + HEIGHTS_TTL_MS);
  assert.deepEqual(heights.sizes().peers, 1, 'peers not heard of for the TTL are forgotten');
  assert.deepEqual(heights.holders(`${author.toHex()}:${Buffer.from(logId).toString('hex')}`, 1), ['late']);
});

test('a receiver the app does not read cuts itself off with PENDING_OVERFLOW after what it holds; a lossy one drops the oldest', async () => {
  let closed = 0;
  const rx = new Receiver<{ body?: Uint8Array; n: number }>(() => closed++, undefined, { maxItems: 3, maxBytes: 1 << 20, sizeOf: () => 1, onFull: 'fail' });
  rx.preload({ n: -1 }); // a replay does not count against the cap
  for (let n = 0; n < 5; n++) rx.push({ n });
  assert.equal(closed, 1, 'it left its topic (nothing more is pushed to it)');
  assert.equal(rx.dropped, 2);
  const it = rx[Symbol.asyncIterator]();
  const got: number[] = [];
  for (let i = 0; i < 4; i++) got.push(((await it.next()).value as { n: number }).n);
  assert.deepEqual(got, [-1, 0, 1, 2]);
  await assert.rejects(it.next(), (err: { code?: string }) => err.code === 'PENDING_OVERFLOW');

  const lossy = new Receiver<{ n: number }>(() => {}, undefined, { maxItems: 2, maxBytes: 1 << 20, sizeOf: () => 1, onFull: 'drop-oldest' });
  for (let n = 0; n < 5; n++) lossy.push({ n });
  const it2 = lossy[Symbol.asyncIterator]();
  assert.deepEqual([(await it2.next()).value, (await it2.next()).value], [{ n: 3 }, { n: 4 }]);
});

test('heads: at most 16 in a header, own head first, then the causally newest; the map stays bounded', () => {
  const store = MemoryStore.create();
  const topic = topicId('caps');
  const state = new TopicState(store, topic, key.publicKey.toHex(), () => {});
  const ingest = (o: ReturnType<typeof op>) => {
    const outcome = store.ingest(o, topic);
    assert.equal(outcome.status, 'inserted');
    if (outcome.status === 'inserted') state.stored(outcome.operation);
  };
  const mine = op(key, 0);
  ingest(mine);
  const flood = Array.from({ length: 1100 }, () => op(PrivateKey.generate(), 0));
  for (const o of flood) ingest(o);
  // An honest author that saw two of the flood: its operation has a higher Lamport timestamp.
  const honest = op(PrivateKey.generate(), 0, new Uint8Array(1), [flood[1098].hash, flood[1099].hash]);
  ingest(honest);
  const heads = state.heads();
  assert.equal(heads.length, 16);
  assert.equal(heads[0].toHex(), mine.hash.toHex(), 'own head first');
  assert.equal(heads[1].toHex(), honest.hash.toHex(), 'then the causally newest');
  assert.ok(state.sizes().heads <= 1024, `the heads map is bounded (${state.sizes().heads})`);
  assert.equal(state.heads().length, 16, 'deterministic: the same answer again');
  state.close();
});
