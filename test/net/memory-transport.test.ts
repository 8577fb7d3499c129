/**
 * The in-memory transport on a virtual clock: streams are reliable and in
 * order under loss (retransmitted, later), crashes and partitions reset
 * connections, the gater refuses, and the same seed gives the same timing.
 */
import assert from 'node:assert/strict';
import type { Duplex } from 'node:stream';
import { describe, it } from 'node:test';
import { PrivateKey } from '../../src/core/index.ts';
import { MemoryNetwork } from '../../src/net/transport/memory-network.ts';
import type { MemoryTransport } from '../../src/net/transport/memory-transport.ts';
import { VirtualClock } from '../../sim/virtual-clock.ts';

const ids = Array.from({ length: 3 }, (_, i) => PrivateKey.fromBytes(new Uint8Array(32).fill(i + 1)).publicKey.toHex());

function setup(lossRate = 0, seed = 1) {
  const clock = new VirtualClock();
  const net = new MemoryNetwork(clock.runtime(seed), { seed, lossRate });
  const [a, b, c] = ids.map((id) => net.transport(id));
  return { clock, net, a, b, c };
}

/** Serves an echo-less sink: collects what arrives on each inbound stream. */
async function sink(t: MemoryTransport, into: { chunks: string[]; ended: boolean; error?: string }): Promise<void> {
  await t.handle(
    '/p',
    (stream: Duplex) => {
      stream.on('data', (chunk: Buffer) => into.chunks.push(chunk.toString()));
      stream.on('end', () => (into.ended = true));
      stream.on('error', (err: Error) => (into.error = err.message));
    },
    { maxInboundStreams: 4 },
  );
}

async function sendNumbered(lossRate: number, seed: number) {
  const { clock, a, b, net } = setup(lossRate, seed);
  const got = { chunks: [] as string[], ended: false };
  await sink(b, got);
  let stream: Duplex | undefined;
  void a.open(b.self, '/p').then((s) => (stream = s));
  await clock.runUntil(1_000);
  assert.ok(stream, 'the stream opened');
  for (let i = 0; i < 200; i++) stream.write(`${i};`);
  stream.end();
  await clock.runUntil(120_000);
  return { got, traffic: net.traffic.get(a.self)! };
}

describe('MemoryNetwork', () => {
  it('a stream delivers every write in order and its end, also with 20% of segments lost', async () => {
    for (const loss of [0, 0.2]) {
      const { got, traffic } = await sendNumbered(loss, 7);
      assert.equal(got.chunks.join(''), Array.from({ length: 200 }, (_, i) => `${i};`).join(''));
      assert.equal(got.ended, true);
      if (loss > 0) assert.ok(traffic.retransmissions > 0, 'losses were retransmitted');
      else assert.equal(traffic.retransmissions, 0);
    }
  });

  it('the same seed gives the same traffic', async () => {
    const one = await sendNumbered(0.2, 3);
    const two = await sendNumbered(0.2, 3);
    assert.deepEqual(one.traffic, two.traffic);
  });

  it("a crash resets the peers' streams and connections one latency later", async () => {
    const { clock, a, b } = setup();
    const got = { chunks: [] as string[], ended: false, error: undefined as string | undefined };
    await sink(b, got);
    const downs: string[] = [];
    b.on('peer:disconnect', ({ peer }) => downs.push(peer));
    void a.open(b.self, '/p').then((s) => s.write('hello'));
    await clock.runUntil(1_000);
    assert.deepEqual(got.chunks, ['hello']);
    assert.equal(b.isConnected(a.self), true);
    await a.stop();
    await clock.runUntil(2_000);
    assert.deepEqual(downs, [a.self]);
    assert.equal(b.isConnected(a.self), false);
    assert.match(got.error ?? '', /reset/);
    let refused = '';
    b.dial(a.self).catch((err: Error) => (refused = err.message));
    await clock.runUntil(3_000);
    assert.match(refused, /refused/);
  });

  it('a partition resets connections across it after the detect time and dials time out; healed, they work', async () => {
    const { clock, net, a, b } = setup();
    const dialled = a.dial(b.self);
    await clock.runUntil(1_000);
    await dialled;
    net.partition((peer) => (peer === a.self ? 0 : 1));
    await clock.runUntil(1_000 + net.config.partitionDetectMs + 1);
    assert.equal(a.isConnected(b.self), false);
    let failed = '';
    a.dial(b.self).catch((err: Error) => (failed = err.message));
    await clock.runUntil(clock.now + net.config.connectTimeoutMs + 1);
    assert.match(failed, /timed out/);
    net.heal();
    const again = a.dial(b.self);
    await clock.runUntil(clock.now + 1_000);
    await again;
    assert.equal(b.isConnected(a.self), true);
  });

  it("the gater refuses a banned peer's connection, and a hang-up resets", async () => {
    const { clock, a, b, c } = setup();
    b.setRefusal((peer) => peer === c.self);
    let refused = '';
    c.dial(b.self).catch((err: Error) => (refused = err.message));
    const ok = a.dial(b.self);
    await clock.runUntil(1_000);
    await ok;
    assert.match(refused, /refused/);
    a.hangUp(b.self, new Error('banned'));
    assert.equal(a.isConnected(b.self), false);
    await clock.runUntil(2_000);
    assert.equal(b.isConnected(a.self), false);
  });
});
