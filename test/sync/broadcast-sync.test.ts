import assert from 'node:assert/strict';
import { test } from 'node:test';
import { unsignedBytesOf, WalkawayError } from '../../src/core/index.ts';
import { MemoryStore, type IngestOutcome } from '../../src/store/index.ts';
import { BroadcastSync, type BroadcastInput, type BroadcastOutput } from '../../src/sync/index.ts';
import { fill, hashesOf, key, makeLog, rng, TOPIC } from './helpers.ts';

interface Peer {
  store: MemoryStore;
  machine: BroadcastSync;
}

/** Runs `peers` over a lossy broadcast medium until they converge; returns the steps taken. */
function simulate(peers: Peer[], seed: number, medium: { loss: number; duplicate: number; maxDelay: number }, union: string[], noise = false) {
  const random = rng(seed);
  const inbox = new Map<number, { to: number; packet: Uint8Array }[]>();
  const deliver = (step: number, to: number, packet: Uint8Array) => {
    const at = step + 1 + Math.floor(random() * (medium.maxDelay + 1));
    if (!inbox.has(at)) inbox.set(at, []);
    inbox.get(at)!.push({ to, packet });
  };
  const run = (step: number, index: number, input: BroadcastInput) => {
    const { store, machine } = peers[index];
    const queue: BroadcastOutput[] = machine.handle(input);
    while (queue.length > 0) {
      const out = queue.shift()!;
      if (out.type === 'broadcast') {
        peers.forEach((_, to) => {
          if (to === index || random() < medium.loss) return;
          deliver(step, to, out.packet);
          if (random() < medium.duplicate) deliver(step, to, out.packet);
        });
      } else if (out.type === 'read-log') {
        queue.push(...machine.handle({ type: 'log-page', operations: store.readLog(out.author, out.logId, out.afterSeq, out.limit) }));
      } else if (out.type === 'ingest') {
        const { operation } = out.request;
        const ok = operation.header.publicKey.verify(unsignedBytesOf(operation.headerBytes), operation.header.signature);
        const outcome: IngestOutcome = ok
          ? store.ingest(operation, TOPIC)
          : { status: 'rejected', hash: operation.hash, error: new WalkawayError('INVALID_SIGNATURE', 'bad signature') };
        queue.push(...machine.handle({ type: 'ingested', results: [{ request: out.request, outcome }] }));
      }
    }
  };
  const converged = () => peers.every((p) => hashesOf(p.store).length === union.length);
  for (let step = 0; step < 5000; step++) {
    for (const { to, packet } of inbox.get(step) ?? []) run(step, to, { type: 'recv', packet });
    inbox.delete(step);
    if (noise && step % 7 === 0) {
      const junk = new Uint8Array(1 + Math.floor(random() * 200)).map(() => Math.floor(random() * 256));
      run(step, Math.floor(random() * peers.length), { type: 'recv', packet: junk });
    }
    peers.forEach((peer, i) => {
      if ((step + i) % 4 === 0) run(step, i, { type: 'tick', heights: peer.store.heights(TOPIC) });
    });
    if (converged()) return step;
  }
  return -1;
}

test('10 peers over a lossy broadcast medium (30% loss, duplicates, reordering) converge', () => {
  const logs = [0, 1, 2].map((i) => makeLog(key(80 + i), 40, { bodySize: 100 }));
  const union = logs
    .flat()
    .map((o) => o.hash.toHex())
    .sort();
  const peers: Peer[] = Array.from({ length: 10 }, () => ({
    store: MemoryStore.create(),
    machine: new BroadcastSync(TOPIC, { maxPacketBytes: 1200, opsPerTick: 32 }),
  }));
  logs.forEach((log, i) => fill(peers[i].store, log)); // each author's log starts on one peer
  fill(peers[5].store, logs[0].slice(0, 10));
  fill(peers[6].store, logs[1].slice(0, 25));
  const steps = simulate(peers, 1234, { loss: 0.3, duplicate: 0.1, maxDelay: 3 }, union, true);
  assert.ok(steps > 0, 'all peers hold every operation');
  for (const p of peers) assert.deepEqual(hashesOf(p.store), union);
  const bytesSent = peers.reduce((n, p) => n + p.machine.stats.bytesSent, 0);
  const payload = logs.flat().reduce((n, o) => n + o.headerBytes.length + (o.body?.length ?? 0), 0);
  const dropped = peers.reduce((n, p) => n + p.machine.stats.dropped, 0);
  assert.ok(dropped > 0, 'the junk packets were dropped, not fatal');
  // Diagnostic: what broadcast costs against the bytes each peer had to learn.
  console.log(JSON.stringify({ steps, bytesSent, payloadBytes: payload, perPeerPayload: (bytesSent / (payload * 9)).toFixed(2) }));
});

test('broadcast packets of another topic are ignored and garbage is dropped', () => {
  const machine = new BroadcastSync(TOPIC);
  const other = new BroadcastSync(new Uint8Array(32).fill(3));
  const [announcement] = other.handle({ type: 'tick', heights: [] });
  assert.equal(announcement.type, 'broadcast');
  assert.deepEqual(machine.handle({ type: 'recv', packet: (announcement as { packet: Uint8Array }).packet }), []);
  const out = machine.handle({ type: 'recv', packet: new Uint8Array([0xff, 1, 2]) });
  assert.equal(out.length, 1);
  assert.equal(out[0].type === 'emit' && out[0].event.type, 'dropped');
  assert.equal(machine.stats.dropped, 1);
});
