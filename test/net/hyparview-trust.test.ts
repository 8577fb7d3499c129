/**
 * HyParView's evidence-based rules: while messages flow only peers that
 * relay vouch for others, shuffles pass on vouched entries only, a node the
 * broadcast layer reports starved asks for a new peer at HIGH priority, and
 * peers reported down are not taken back from others' lists for a while.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_HYPARVIEW_CONFIG, HyParView, type HyParViewOutput } from '../../src/net/membership/index.ts';
import { MidRandom } from './helpers.ts';

const C = DEFAULT_HYPARVIEW_CONFIG;

function withActive(self: number, peers: number[]): HyParView<number> {
  const hv = new HyParView<number>(self, new MidRandom());
  for (const p of peers) hv.handle({ type: 'recv', from: p, message: { type: 'neighbor', priority: 'high' } }, 0);
  return hv;
}

function sent(outs: HyParViewOutput<number>[], type: string): { to: number; message: Record<string, unknown> }[] {
  return outs.flatMap((o) => (o.type === 'send' && o.message.type === type ? [{ to: o.to, message: o.message as never }] : []));
}

describe('HyParView trust from relaying', () => {
  it('while messages flow, an old active peer that never relays vouches like a newcomer', () => {
    const hv = withActive(0, [1, 2, 3, 4]);
    hv.noteUseful(2, 0);
    const junk = Array.from({ length: 20 }, (_, i) => 100 + i);
    hv.handle({ type: 'recv', from: 1, message: { type: 'shuffle', origin: 1, ttl: 0, peers: junk } }, 1);
    assert.equal(hv.passiveView().length, C.maxPassivePerNewSource);
    const good = Array.from({ length: 20 }, (_, i) => 300 + i);
    hv.handle({ type: 'recv', from: 2, message: { type: 'shuffle', origin: 2, ttl: 0, peers: good } }, 1);
    assert.equal(hv.passiveView().filter((p) => p >= 300).length, C.maxPassivePerSource);
  });

  it('shuffles pass on vouched entries only, not self-introductions', () => {
    const hv = withActive(0, [1, 2, 3, 4, 5]);
    for (let i = 0; i < 5; i++) hv.handle({ type: 'recv', from: 100 + i, message: { type: 'neighbor', priority: 'low' } }, 0);
    hv.handle({ type: 'recv', from: 1, message: { type: 'shuffle', origin: 1, ttl: 0, peers: [300, 301] } }, 0);
    assert.equal(hv.passiveView().length, 7);
    const out = hv.handle({ type: 'timer', timer: { type: 'shuffle' } }, 10);
    const [shuffle] = sent(out, 'shuffle');
    const peers = shuffle.message.peers as number[];
    assert.ok(peers.includes(300) && peers.includes(301), JSON.stringify(peers));
    assert.ok(
      peers.every((p) => p < 100 || p >= 300),
      JSON.stringify(peers),
    );
  });

  it('a starved node asks a passive peer at HIGH priority, unless an active peer relays', () => {
    const hv = new HyParView<number>(0, new MidRandom());
    hv.handle({ type: 'command', command: { type: 'join', peers: [1] } }, 0);
    hv.handle({ type: 'recv', from: 1, message: { type: 'neighbor-reply', accepted: true } }, 1);
    hv.handle({ type: 'recv', from: 1, message: { type: 'shuffle', origin: 1, ttl: 0, peers: [300] } }, 2);
    const first = hv.noteStarved(10);
    assert.deepEqual(
      sent(first, 'neighbor').map((s) => [s.to, s.message.priority]),
      [[300, 'high']],
    );
    assert.deepEqual(hv.noteStarved(20), [], 'at most once per starvedRetryMs');
    hv.noteUseful(1, 100);
    assert.deepEqual(hv.noteStarved(100 + C.starvedRetryMs), [], 'an active peer relays: the loss is elsewhere');
  });

  it("a peer reported down is not taken back from others' lists for downMemoryMs", () => {
    const hv = withActive(0, [1, 2, 3]);
    hv.handle({ type: 'recv', from: 1, message: { type: 'shuffle', origin: 1, ttl: 0, peers: [300] } }, 0);
    assert.deepEqual(hv.passiveView(), [300]);
    hv.handle({ type: 'peer-down', peer: 300 }, 0);
    assert.deepEqual(hv.passiveView(), []);
    hv.handle({ type: 'recv', from: 2, message: { type: 'shuffle', origin: 2, ttl: 0, peers: [300] } }, 1_000);
    assert.deepEqual(hv.passiveView(), []);
    hv.handle({ type: 'recv', from: 2, message: { type: 'shuffle', origin: 2, ttl: 0, peers: [300] } }, C.downMemoryMs + 1_000);
    assert.deepEqual(hv.passiveView(), [300]);
  });
});
