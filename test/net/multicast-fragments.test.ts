/**
 * Operations larger than one datagram over multicast: cut into sealed
 * fragments of at most 1200 bytes (a real link's MTU, no IP fragmentation)
 * and put back together, over real UDP sockets on 127.0.0.1; the
 * reassembler's bounds hold against a hostile sender.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { after, test } from 'node:test';
import { sha256 } from '@noble/hashes/sha2.js';
import { logIdForTopic, networkId, topicId, utf8 } from '../../src/core/index.ts';
import { MemoryStore, type StoredOperation } from '../../src/store/index.ts';
import { MulticastChannel } from '../../src/net/multicast/multicast.ts';
import { DATAGRAM_TARGET, EXPIRE_MS, fragment, MAX_FRAGMENTS, Reassembler } from '../../src/net/multicast/multicast-fragments.ts';
import { InboundStoreDriver } from '../../src/node/inbound/index.ts';
import { keyFor, makeLog } from '../helpers/ops.ts';

const GROUP = '239.255.77.77';
const LOOPBACK = '127.0.0.1';
const topic = topicId('fragments-topic');
const closers: (() => void)[] = [];
after(() => closers.forEach((close) => close()));

function seededRandom(seed: number): (length: number) => Uint8Array {
  let counter = 0;
  return (length) => {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i += 32) out.set(sha256(utf8(`${seed}/${counter++}`)).subarray(0, length - i), i);
    return out;
  };
}

/** Bytes that do not compress and differ per seed. */
function body(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  const random = seededRandom(seed);
  for (let i = 0; i < size; i += 4096) out.set(random(Math.min(4096, size - i)), i);
  return out;
}

test('multicast: operations of 3 KB, 200 KB and 900 KB arrive whole, in datagrams of at most 1200 bytes', async () => {
  const probe = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => probe.bind(0, LOOPBACK, resolve));
  const port = probe.address().port;
  probe.close();
  const heard: number[] = [];
  const raw = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  raw.on('message', (d) => heard.push(d.length));
  await new Promise<void>((resolve) => raw.bind(port, resolve));
  raw.addMembership(GROUP, LOOPBACK);
  closers.push(() => raw.close());

  const peers = await Promise.all(
    [1, 2].map(async (seed) => {
      const store = MemoryStore.create();
      const stored: StoredOperation[] = [];
      const inbound = new InboundStoreDriver({ store, seed, onStored: (_t, op) => stored.push(op) });
      const channel = new MulticastChannel({
        store,
        networkId: networkId('fragments-net'),
        port,
        interface: LOOPBACK,
        tickMs: 3_600_000,
        // The node's inbound path, as a node wires it (src/node/inbound).
        ingest: (topic, operation, done) => inbound.ingest('multicast', topic, operation, (result) => done(result.outcome)),
        onEphemeral: () => {},
        log: () => {},
        randomBytes: seededRandom(seed),
      });
      await channel.start();
      closers.push(() => channel.stop());
      channel.join(topic);
      return { channel, store, stored };
    }),
  );
  const [a, b] = peers;
  const sizes = [3_000, 200_000, 900_000];
  const ops = makeLog(keyFor(31), 3, { logId: logIdForTopic(topic), body: (seq) => body(sizes[seq], seq) });
  for (const op of ops) a.store.ingest(op, topic);

  for (let i = 0; i < 600 && b.stored.length < ops.length; i++) {
    if (i % 20 === 0) {
      b.channel.tick();
      setTimeout(() => a.channel.tick(), 10);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.deepEqual(
    b.stored.map((op) => op.hash.toHex()),
    ops.map((op) => op.hash.toHex()),
    'B stored all three, whole',
  );
  assert.deepEqual(
    b.stored.map((op) => op.body?.length),
    sizes,
  );
  assert.ok(a.channel.stats().fragmentsSent > 900_000 / DATAGRAM_TARGET, `fragments sent: ${a.channel.stats().fragmentsSent}`);
  assert.ok(b.channel.stats().reassembled >= 3);
  assert.equal(a.channel.stats().notSent, 0);
  assert.ok(heard.length > 0 && heard.every((n) => n <= DATAGRAM_TARGET), `largest datagram heard: ${Math.max(...heard)} bytes`);
});

test('reassembly: any order, duplicates ignored; bad counts, too many partial messages and stale ones are dropped', () => {
  const payload = body(10_000, 9);
  const id = new Uint8Array(8).fill(1);
  const parts = fragment(0, payload, id, 1000);
  assert.equal(parts.length, 10);
  const r = new Reassembler();
  const order = [3, 9, 0, 0, 5, 1, 8, 2, 7, 6, 4];
  let whole: ReturnType<Reassembler['add']>;
  for (const i of order) {
    const got = r.add('peer:1', parts[i], 0);
    if (got) whole = got;
  }
  assert.deepEqual(whole!.payload, payload);
  assert.equal(r.stats.completed, 1);
  assert.equal(r.heldBytes, 0);

  // A fragment claiming more than MAX_FRAGMENTS, an index past its count, a count of 1: dropped.
  const lie = parts[0].slice();
  new DataView(lie.buffer).setUint16(11, MAX_FRAGMENTS + 1);
  const pastEnd = parts[0].slice();
  new DataView(pastEnd.buffer).setUint16(9, 10);
  const single = parts[0].slice();
  new DataView(single.buffer).setUint16(11, 1);
  for (const f of [lie, pastEnd, single, new Uint8Array(5)]) assert.equal(r.add('peer:1', f, 0), undefined);
  assert.equal(r.stats.dropped, 4);

  // One sender holds at most 4 partial messages; another sender still gets in.
  for (let m = 0; m < 6; m++) r.add('flooder:1', fragment(0, payload, new Uint8Array(8).fill(10 + m), 1000)[0], 0);
  assert.equal(r.partialCount, 4);
  r.add('peer:2', parts[0], 0);
  assert.equal(r.partialCount, 5);

  // Partial messages expire; what they held is released.
  assert.ok(r.heldBytes > 0);
  r.expire(EXPIRE_MS + 1);
  assert.equal(r.partialCount, 0);
  assert.equal(r.heldBytes, 0);
  assert.equal(r.stats.expired, 5);
});
