/**
 * Broadcast-only sync over a strictly one-way medium (a radio, a USB stick):
 * the carousel alone brings a mute listener to convergence, and a back
 * channel, where one exists, gets there with fewer packets.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decode as cborDecode, encode as cborEncode } from 'cborg';
import { unsignedBytesOf, WalkawayError, type Operation } from '../../src/core/index.ts';
import { MemoryStore, type IngestOutcome } from '../../src/store/index.ts';
import { BroadcastSync, type BroadcastConfig, type BroadcastInput, type BroadcastOutput } from '../../src/sync/index.ts';
import { fill, hashesOf, key, makeLog, rng, TOPIC } from './helpers.ts';

interface Peer {
  store: MemoryStore;
  machine: BroadcastSync;
  /** Packets this peer put on the medium (transmitted, whether anyone heard them or not). */
  transmitted: number;
}

function peer(config: Partial<BroadcastConfig>, operations: Operation[] = []): Peer {
  const store = MemoryStore.create();
  fill(store, operations);
  return { store, machine: new BroadcastSync(TOPIC, config), transmitted: 0 };
}

/** Runs a machine's outputs against its store, as the multicast driver does; returns the packets to send. */
function run(p: Peer, input: BroadcastInput): Uint8Array[] {
  const packets: Uint8Array[] = [];
  const queue: BroadcastOutput[] = p.machine.handle(input);
  while (queue.length > 0) {
    const out = queue.shift()!;
    if (out.type === 'broadcast') packets.push(out.packet);
    else if (out.type === 'read-log') {
      queue.push(...p.machine.handle({ type: 'log-page', operations: p.store.readLog(out.author, out.logId, out.afterSeq, out.limit) }));
    } else if (out.type === 'ingest') {
      const { operation } = out.request;
      const ok = operation.header.publicKey.verify(unsignedBytesOf(operation.headerBytes), operation.header.signature);
      const outcome: IngestOutcome = ok
        ? p.store.ingest(operation, TOPIC)
        : { status: 'rejected', hash: operation.hash, error: new WalkawayError('INVALID_SIGNATURE', 'bad signature') };
      queue.push(...p.machine.handle({ type: 'ingested', results: [{ request: out.request, outcome }] }));
    }
  }
  p.transmitted += packets.length;
  return packets;
}

/**
 * A and B tick every step. A→B loses `loss` of packets and delays each by 0..3
 * steps (so they arrive reordered); B→A carries nothing unless `backChannel`.
 * Returns the ticks until B holds `want` operations, or -1.
 */
function simulate(a: Peer, b: Peer, seed: number, want: number, backChannel: boolean, loss = 0.2): { ticks: number; heardByA: number } {
  const random = rng(seed);
  const inbox = new Map<number, { to: Peer; packet: Uint8Array }[]>();
  const send = (step: number, to: Peer, packets: Uint8Array[]) => {
    for (const packet of packets) {
      if (random() < loss) continue;
      const at = step + 1 + Math.floor(random() * 4);
      if (!inbox.has(at)) inbox.set(at, []);
      inbox.get(at)!.push({ to, packet });
    }
  };
  let heardByA = 0;
  for (let step = 0; step < 500; step++) {
    const arrivals = inbox.get(step) ?? [];
    inbox.delete(step);
    // Shuffle what lands in one step too: order on the medium is never promised.
    for (let i = arrivals.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [arrivals[i], arrivals[j]] = [arrivals[j], arrivals[i]];
    }
    for (const { to, packet } of arrivals) {
      if (to === a) heardByA++;
      const replies = run(to, { type: 'recv', packet });
      if (to === a) send(step, b, replies);
      else if (backChannel) send(step, a, replies);
    }
    send(step, b, run(a, { type: 'tick', heights: a.store.heights(TOPIC) }));
    const fromB = run(b, { type: 'tick', heights: b.store.heights(TOPIC) });
    if (backChannel) send(step, a, fromB);
    if (hashesOf(b.store).length === want) return { ticks: step + 1, heardByA };
  }
  return { ticks: -1, heardByA };
}

const ops = [...makeLog(key(90), 10, { bodySize: 100 }), ...makeLog(key(91), 10, { bodySize: 100 })];
const union = ops.map((o) => o.hash.toHex()).sort();
const config: Partial<BroadcastConfig> = { opsPerTick: 16, carouselOpsPerTick: 4 };

test('one-way link A→B (20% loss, reordering): B converges on the carousel alone, A hears nothing', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const a = peer(config, ops);
    const b = peer(config);
    const { ticks, heardByA } = simulate(a, b, seed, union.length, false);
    // Bound: a full carousel pass is 20/4 = 5 ticks (+1 per log); 60 ticks is 10 passes,
    // each missing a given operation with probability 0.2.
    assert.ok(ticks > 0 && ticks <= 60, `seed ${seed}: converged in ${ticks} ticks`);
    assert.deepEqual(hashesOf(b.store), union);
    assert.equal(heardByA, 0, 'nothing travelled B→A');
    assert.equal(a.machine.stats.packetsReceived, 0, 'A received no packet');
    assert.equal(b.machine.stats.dropped, 0, 'nothing B heard was refused');
  }
});

test('with a back channel, convergence takes fewer packets than the carousel alone', () => {
  // B lacks the newest 10 of each of A's two 60-operation logs: the carousel finds them
  // only as its cycle comes round (120 held, 4 a tick); B's announcements point A at them.
  const logs = [makeLog(key(92), 60, { bodySize: 100 }), makeLog(key(93), 60, { bodySize: 100 })];
  const held = logs.flat();
  const already = logs.flatMap((log) => log.slice(0, 50));
  for (const seed of [1, 2, 3]) {
    const oneWay = { a: peer(config, held), b: peer(config, already) };
    const mute = simulate(oneWay.a, oneWay.b, seed, held.length, false);
    const twoWay = { a: peer(config, held), b: peer(config, already) };
    const answered = simulate(twoWay.a, twoWay.b, seed, held.length, true);
    assert.ok(mute.ticks > 0 && answered.ticks > 0, 'both converge');
    assert.ok(answered.heardByA > 0, 'A heard B on the back channel');
    // Every packet on the medium counts, B's announcements included.
    const mutePackets = oneWay.a.transmitted;
    const answeredPackets = twoWay.a.transmitted + twoWay.b.transmitted;
    console.log(JSON.stringify({ seed, mute: { ticks: mute.ticks, packets: mutePackets }, answered: { ticks: answered.ticks, packets: answeredPackets } }));
    assert.ok(answeredPackets < mutePackets, `seed ${seed}: ${answeredPackets} packets with a back channel, ${mutePackets} without`);
  }
});

test('the carousel sends the newest page first, then every held operation again each cycle', () => {
  const a = peer({ carouselOpsPerTick: 4, memoryTicks: 1 }, ops);
  const seqOf = new Map(ops.map((o) => [Buffer.from(o.headerBytes).toString('hex'), o.header.seqNum]));
  const sends = new Map<string, number[]>();
  for (let tick = 1; tick <= 30; tick++) {
    for (const packet of run(a, { type: 'tick', heights: a.store.heights(TOPIC) })) {
      const value = cborDecode(packet, { useMaps: true }) as unknown[];
      if (value[0] !== 1) continue;
      for (const item of value[2] as Uint8Array[][]) {
        const hex = Buffer.from(item[0]).toString('hex');
        if (tick <= 2) assert.ok(seqOf.get(hex)! >= 6, 'the first two ticks carry the newest 4 of each log');
        sends.set(hex, [...(sends.get(hex) ?? []), tick]);
      }
    }
    assert.ok(a.machine.stats.operationsSent <= tick * 4, 'never more than carouselOpsPerTick a tick');
  }
  assert.equal(sends.size, union.length, 'every operation was sent');
  // Everything goes out within the newest pages (2 ticks) and one cycle (20/4 + 2 logs ticks).
  for (const ticks of sends.values()) assert.ok(ticks[0] <= 9, `first sent at tick ${ticks[0]}`);
  // And again every cycle: 30 ticks send each operation at least 3 times.
  for (const ticks of sends.values()) {
    assert.ok(ticks.length >= 3, `sent at ticks ${ticks.join(',')}`);
    for (let i = 1; i < ticks.length; i++) assert.ok(ticks[i] - ticks[i - 1] <= 9, `sent at ticks ${ticks.join(',')}`);
  }
});

/** An operations packet carrying `list`, as a sender would broadcast it. */
function opsPacket(list: Operation[]): Uint8Array {
  return cborEncode([1, TOPIC, list.map((o) => (o.body ? [o.headerBytes, o.body] : [o.headerBytes]))]);
}

test('a listener holds operations that arrive before their backlink and applies them when it comes', () => {
  const log = ops.slice(0, 10);
  const b = peer({ maxPending: 16 });
  for (const op of [...log].reverse().slice(0, 9)) run(b, { type: 'recv', packet: opsPacket([op]) });
  assert.equal(hashesOf(b.store).length, 0, 'nothing applies ahead of the gap');
  run(b, { type: 'recv', packet: opsPacket([log[0]]) });
  assert.deepEqual(hashesOf(b.store), log.map((o) => o.hash.toHex()).sort(), 'the gap filled, the held nine followed');
});

test('held operations are capped in number and forgotten after pendingTicks', () => {
  const log = ops.slice(0, 10);
  const b = peer({ maxPending: 3, pendingTicks: 5 });
  for (const op of log.slice(1)) run(b, { type: 'recv', packet: opsPacket([op]) }); // 9 ahead of the gap, 3 held
  run(b, { type: 'recv', packet: opsPacket([log[0]]) });
  assert.equal(hashesOf(b.store).length, 4, 'the gap and the three held');
  for (const op of log.slice(5)) run(b, { type: 'recv', packet: opsPacket([op]) }); // held again, behind seq 4
  for (let tick = 0; tick < 7; tick++) run(b, { type: 'tick', heights: b.store.heights(TOPIC) });
  run(b, { type: 'recv', packet: opsPacket([log[4]]) });
  assert.equal(hashesOf(b.store).length, 5, 'what waited longer than pendingTicks was forgotten');
});
