import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_HYPARVIEW_CONFIG, HyParView, type HyParViewOutput } from '../../src/net/membership/index.ts';
import { MidRandom } from './helpers.ts';

const C = DEFAULT_HYPARVIEW_CONFIG;

/** A node whose active view already holds `peers` (accepted high-priority requests). */
function withActive(self: number, peers: number[], config = {}): HyParView<number> {
  const hv = new HyParView<number>(self, new MidRandom(), config);
  for (const p of peers) hv.handle({ type: 'recv', from: p, message: { type: 'neighbor', priority: 'high' } }, 0);
  return hv;
}

describe('HyParView', () => {
  it('join: dials the contact, sends JOIN, starts the shuffle and rotation timers', () => {
    const hv = new HyParView<number>(1, new MidRandom());
    const out = hv.handle({ type: 'command', command: { type: 'join', peers: [0, 1, 0] } }, 0);
    assert.deepEqual(out, [
      { type: 'set-timer', delayMs: C.fastShuffleIntervalMs, timer: { type: 'shuffle' } },
      { type: 'set-timer', delayMs: C.rotateIntervalMs, timer: { type: 'rotate' } },
      { type: 'connect', peer: 0 },
      { type: 'send', to: 0, message: { type: 'join' } },
      { type: 'set-timer', delayMs: C.neighborRequestTimeoutMs, timer: { type: 'neighbor-timeout', peer: 0 } },
    ]);
    const reply = hv.handle({ type: 'recv', from: 0, message: { type: 'neighbor-reply', accepted: true } }, 10);
    assert.deepEqual(reply, [
      { type: 'connect', peer: 0 },
      { type: 'emit', event: { type: 'neighbor-up', peer: 0 } },
    ]);
    assert.deepEqual(hv.activeView(), [0]);
  });

  it('contact accepts a JOIN and forwards it to its other active peers with the ARWL', () => {
    const hv = withActive(0, [2, 3]);
    const out = hv.handle({ type: 'recv', from: 9, message: { type: 'join' } }, 0);
    assert.deepEqual(out, [
      { type: 'connect', peer: 9 },
      { type: 'emit', event: { type: 'neighbor-up', peer: 9 } },
      { type: 'send', to: 9, message: { type: 'neighbor-reply', accepted: true } },
      { type: 'send', to: 2, message: { type: 'forward-join', peer: 9, ttl: C.activeRandomWalkLength } },
      { type: 'send', to: 3, message: { type: 'forward-join', peer: 9, ttl: C.activeRandomWalkLength } },
    ]);
  });

  it('forward join: walks on, lands in the passive view at PRWL, ends in a HIGH neighbour request', () => {
    const hv = withActive(0, [2, 3, 4]);
    const mid = hv.handle({ type: 'recv', from: 2, message: { type: 'forward-join', peer: 9, ttl: C.passiveRandomWalkLength } }, 0);
    assert.deepEqual(mid, [{ type: 'send', to: 3, message: { type: 'forward-join', peer: 9, ttl: C.passiveRandomWalkLength - 1 } }]);
    assert.deepEqual(hv.passiveView(), [9]);
    const end = hv.handle({ type: 'recv', from: 2, message: { type: 'forward-join', peer: 9, ttl: 0 } }, 0);
    assert.deepEqual(end, [
      { type: 'connect', peer: 9 },
      { type: 'send', to: 9, message: { type: 'neighbor', priority: 'high' } },
      { type: 'set-timer', delayMs: C.neighborRequestTimeoutMs, timer: { type: 'neighbor-timeout', peer: 9 } },
    ]);
  });

  it('a full view rejects LOW and accepts HIGH by evicting a peer into the passive view', () => {
    const hv = withActive(0, [1, 2, 3, 4, 5]);
    const low = hv.handle({ type: 'recv', from: 7, message: { type: 'neighbor', priority: 'low' } }, 0);
    assert.deepEqual(low, [{ type: 'send', to: 7, message: { type: 'neighbor-reply', accepted: false } }]);
    assert.deepEqual(hv.passiveView(), [7]);
    const high = hv.handle({ type: 'recv', from: 8, message: { type: 'neighbor', priority: 'high' } }, 0);
    // MidRandom evicts index floor(5 / 2) = 2, which is peer 3.
    assert.deepEqual(high, [
      { type: 'send', to: 3, message: { type: 'disconnect', alive: true } },
      { type: 'disconnect', peer: 3 },
      { type: 'emit', event: { type: 'neighbor-down', peer: 3 } },
      { type: 'connect', peer: 8 },
      { type: 'emit', event: { type: 'neighbor-up', peer: 8 } },
      { type: 'send', to: 8, message: { type: 'neighbor-reply', accepted: true } },
    ]);
    assert.deepEqual([...hv.activeView()].sort(), [1, 2, 4, 5, 8]);
    assert.ok(hv.passiveView().includes(3));
  });

  it('eviction prefers peers the keep preference does not protect', () => {
    const hv = withActive(0, [1, 2, 3, 4, 5]);
    hv.setKeepPreference((p) => p !== 5);
    const out = hv.handle({ type: 'recv', from: 8, message: { type: 'neighbor', priority: 'swap' } }, 0);
    assert.deepEqual(out[0], { type: 'send', to: 5, message: { type: 'disconnect', alive: true } });
  });

  it('the fast shuffle stops after three replies that teach no new peer (a network too small to fill the passive view)', () => {
    const hv = new HyParView<number>(0, new MidRandom());
    hv.handle({ type: 'command', command: { type: 'join', peers: [1] } }, 0);
    hv.handle({ type: 'recv', from: 1, message: { type: 'neighbor-reply', accepted: true } }, 1);
    const shuffleDelay = (at: number) => {
      const out = hv.handle({ type: 'timer', timer: { type: 'shuffle' } }, at);
      assert.ok(
        out.some((o) => o.type === 'send' && o.message.type === 'shuffle'),
        'a shuffle goes out',
      );
      const timer = out.find((o) => o.type === 'set-timer' && o.timer.type === 'shuffle');
      assert.ok(timer?.type === 'set-timer');
      return timer.delayMs;
    };
    // Thin passive view, nothing learnt yet to say otherwise: fast (jittered around the mean).
    const first = shuffleDelay(3_000);
    assert.ok(first < C.shuffleIntervalMs * 0.5, `fast: ${first}`);
    hv.handle({ type: 'recv', from: 1, message: { type: 'shuffle-reply', peers: [2, 3] } }, 3_010);
    assert.ok(shuffleDelay(6_000) < C.shuffleIntervalMs * 0.5, 'the reply taught 2 and 3: still fast');
    for (let i = 1; i <= 3; i++) {
      hv.handle({ type: 'recv', from: 1, message: { type: 'shuffle-reply', peers: [2, 3] } }, 3_010 + i * 3_000);
      const delay = shuffleDelay(6_000 + i * 3_000);
      if (i < 3) assert.ok(delay < C.shuffleIntervalMs * 0.5, `${i} barren: still fast`);
      else assert.ok(delay >= C.shuffleIntervalMs * 0.5, 'three barren in a row: the normal pace, though the view is thin');
    }
    hv.handle({ type: 'recv', from: 1, message: { type: 'shuffle-reply', peers: [4] } }, 20_010);
    assert.ok(shuffleDelay(40_000) < C.shuffleIntervalMs * 0.5, 'a newcomer appeared: fast again');
    assert.deepEqual([...hv.passiveView()].sort(), [2, 3, 4]);
  });

  it('a failed active peer is replaced from the passive view at once (HIGH when the view is empty)', () => {
    const hv = withActive(0, [1]);
    hv.handle({ type: 'recv', from: 1, message: { type: 'shuffle-reply', peers: [6] } }, 0);
    const out = hv.handle({ type: 'peer-down', peer: 1 }, 0);
    assert.deepEqual(out, [
      { type: 'disconnect', peer: 1 },
      { type: 'emit', event: { type: 'neighbor-down', peer: 1 } },
      { type: 'connect', peer: 6 },
      { type: 'send', to: 6, message: { type: 'neighbor', priority: 'high' } },
      { type: 'set-timer', delayMs: C.neighborRequestTimeoutMs, timer: { type: 'neighbor-timeout', peer: 6 } },
      { type: 'set-timer', delayMs: C.repairIntervalMs, timer: { type: 'repair' } },
    ]);
    // The request times out: 6 leaves the passive view, the node is alone.
    const timeout = hv.handle({ type: 'timer', timer: { type: 'neighbor-timeout', peer: 6 } }, 500);
    assert.deepEqual(timeout, [
      { type: 'disconnect', peer: 6 },
      { type: 'emit', event: { type: 'isolated' } },
    ]);
    assert.deepEqual(hv.passiveView(), []);
  });

  it('DISCONNECT moves the peer to the passive view and asks another with LOW', () => {
    const hv = withActive(0, [1, 2, 3, 4]);
    hv.handle({ type: 'recv', from: 1, message: { type: 'shuffle-reply', peers: [6] } }, 0);
    const out = hv.handle({ type: 'recv', from: 1, message: { type: 'disconnect', alive: true } }, 0);
    assert.deepEqual(out.slice(0, 2), [
      { type: 'disconnect', peer: 1 },
      { type: 'emit', event: { type: 'neighbor-down', peer: 1 } },
    ]);
    const requests = out.filter((o) => o.type === 'send');
    assert.equal(requests.length, 2); // one LOW request per free slot
    for (const r of requests) assert.deepEqual((r as { message: unknown }).message, { type: 'neighbor', priority: 'low' });
    assert.ok(hv.passiveView().includes(1) || requests.some((r) => (r as { to: number }).to === 1));
  });

  it('a node left with fewer than highRequestBelow peers asks its first candidate at HIGH', () => {
    // A pair or triangle cut off from the rest holds no full view; LOW
    // requests to outsiders with full views are refused forever.
    const hv = withActive(0, [1, 2]);
    hv.handle({ type: 'recv', from: 1, message: { type: 'shuffle-reply', peers: [6, 7] } }, 0);
    const out = hv.handle({ type: 'recv', from: 1, message: { type: 'disconnect', alive: true } }, 0);
    const priorities = out.filter((o) => o.type === 'send').map((r) => (r as { message: { priority: string } }).message.priority);
    assert.equal(priorities.length, 3);
    assert.deepEqual(priorities, ['high', 'low', 'low']);
    // With the paper's rule (HIGH only from an empty view) all are LOW.
    const paper = withActive(0, [1, 2], { highRequestBelow: 1 });
    paper.handle({ type: 'recv', from: 1, message: { type: 'shuffle-reply', peers: [6, 7] } }, 0);
    const out2 = paper.handle({ type: 'recv', from: 1, message: { type: 'disconnect', alive: true } }, 0);
    assert.ok(out2.filter((o) => o.type === 'send').every((r) => (r as { message: { priority: string } }).message.priority === 'low'));
  });

  it('shuffle: forwarded while TTL lasts, answered and merged at the end of the walk', () => {
    const hv = withActive(0, [1, 2]);
    hv.handle({ type: 'recv', from: 1, message: { type: 'shuffle-reply', peers: [20, 21] } }, 0);
    const fwd = hv.handle({ type: 'recv', from: 1, message: { type: 'shuffle', origin: 9, ttl: 3, peers: [10, 11] } }, 0);
    assert.deepEqual(fwd, [{ type: 'send', to: 2, message: { type: 'shuffle', origin: 9, ttl: 2, peers: [10, 11] } }]);
    const end = hv.handle({ type: 'recv', from: 1, message: { type: 'shuffle', origin: 9, ttl: 1, peers: [10, 11] } }, 0);
    assert.equal(end.length, 1);
    const reply = end[0] as Extract<HyParViewOutput<number>, { type: 'send' }>;
    assert.equal(reply.to, 9);
    assert.deepEqual(reply.message, { type: 'shuffle-reply', peers: [20, 21] });
    assert.deepEqual(
      [...hv.passiveView()].sort((a, b) => a - b),
      [9, 10, 11, 20, 21],
    );
  });

  it('drops malformed messages and messages from itself, reporting them, without throwing', () => {
    const hv = withActive(0, [1]);
    const bad = [
      { type: 'forward-join', peer: 9, ttl: -1 },
      { type: 'neighbor', priority: 'urgent' },
      { type: 'shuffle', origin: 9, ttl: 2, peers: new Array(100).fill(3) },
      { type: 'nope' },
      null,
    ];
    for (const message of bad) {
      const out = hv.handle({ type: 'recv', from: 1, message: message as never }, 0);
      assert.equal(out.length, 1);
      assert.equal(out[0].type, 'emit');
      assert.equal((out[0] as { event: { type: string } }).event.type, 'dropped');
    }
    const self = hv.handle({ type: 'recv', from: 0, message: { type: 'join' } }, 0);
    assert.equal((self[0] as { event: { type: string } }).event.type, 'dropped');
    assert.deepEqual(hv.activeView(), [1]);
  });

  it('leave: tells every active peer it is gone and ignores everything after', () => {
    const hv = withActive(0, [1, 2]);
    const out = hv.handle({ type: 'command', command: { type: 'leave' } }, 0);
    assert.deepEqual(
      out.filter((o) => o.type === 'send'),
      [
        { type: 'send', to: 1, message: { type: 'disconnect', alive: false } },
        { type: 'send', to: 2, message: { type: 'disconnect', alive: false } },
      ],
    );
    assert.deepEqual(hv.handle({ type: 'recv', from: 3, message: { type: 'join' } }, 1), []);
    assert.deepEqual(hv.activeView(), []);
  });

  it('rotation: a full view asks a passive peer with SWAP and takes it in on accept', () => {
    const hv = withActive(0, [1, 2, 3, 4, 5]);
    hv.handle({ type: 'recv', from: 1, message: { type: 'shuffle-reply', peers: [7] } }, 0);
    const out = hv.handle({ type: 'timer', timer: { type: 'rotate' } }, 0);
    assert.deepEqual(
      out.filter((o) => o.type === 'send'),
      [{ type: 'send', to: 7, message: { type: 'neighbor', priority: 'swap' } }],
    );
    const accept = hv.handle({ type: 'recv', from: 7, message: { type: 'neighbor-reply', accepted: true } }, 50);
    assert.equal(accept.filter((o) => o.type === 'emit' && o.event.type === 'neighbor-down').length, 1);
    assert.ok(hv.activeView().includes(7));
    assert.equal(hv.activeView().length, C.activeViewCapacity);
  });
});

/** The events a batch of outputs emitted, by type. */
function events(outs: HyParViewOutput<number>[]): string[] {
  return outs.flatMap((o) => (o.type === 'emit' ? [o.event.type] : []));
}

function sentTo(outs: HyParViewOutput<number>[], type: string): number[] {
  return outs.flatMap((o) => (o.type === 'send' && o.message.type === type ? [o.to] : []));
}

describe('HyParView defences against hostile peers', () => {
  it("FORWARD_JOIN and SHUFFLE travel over active links only: a stranger's are dropped", () => {
    const hv = withActive(0, [1, 2, 3]);
    const fj = hv.handle({ type: 'recv', from: 50, message: { type: 'forward-join', peer: 51, ttl: 0 } }, 0);
    assert.deepEqual(events(fj), ['dropped']);
    const sh = hv.handle({ type: 'recv', from: 50, message: { type: 'shuffle', origin: 50, ttl: 0, peers: [52, 53] } }, 0);
    assert.deepEqual(events(sh), ['dropped']);
    const reply = hv.handle({ type: 'recv', from: 50, message: { type: 'shuffle-reply', peers: [54] } }, 0);
    assert.deepEqual(events(reply), ['dropped']);
    assert.deepEqual(hv.passiveView(), []);
  });

  it("one active peer's FORWARD_JOINs are rate limited", () => {
    const hv = withActive(0, [1, 2, 3]);
    let dropped = 0;
    for (let i = 0; i < C.forwardJoinBurst + 5; i++) {
      const out = hv.handle({ type: 'recv', from: 1, message: { type: 'forward-join', peer: 100 + i, ttl: 5 } }, 0);
      if (events(out).includes('dropped')) dropped++;
    }
    assert.equal(dropped, 5);
    const later = hv.handle({ type: 'recv', from: 1, message: { type: 'forward-join', peer: 200, ttl: 5 } }, C.forwardJoinRefillMs);
    assert.deepEqual(events(later), []);
    assert.equal(sentTo(later, 'forward-join').length, 1);
  });

  it("a sender's repeated JOIN starts no new walks", () => {
    const hv = withActive(0, [1, 2, 3]);
    const first = hv.handle({ type: 'recv', from: 9, message: { type: 'join' } }, 0);
    assert.equal(sentTo(first, 'forward-join').length, 3);
    hv.handle({ type: 'recv', from: 9, message: { type: 'disconnect', alive: true } }, 10);
    const second = hv.handle({ type: 'recv', from: 9, message: { type: 'join' } }, 20);
    assert.deepEqual(sentTo(second, 'forward-join'), []);
    assert.deepEqual(sentTo(second, 'neighbor-reply'), [9]); // answered as a HIGH request
  });

  it('a full contact out of eviction budget refuses the JOIN but still starts the walks', () => {
    // Without the walks the newcomer knew only its contact, and newcomers
    // joining through it formed a group cut off from the rest (sim, 10k).
    const hv = withActive(0, [1, 2, 3, 4, 5], { evictionBurst: 0 });
    const out = hv.handle({ type: 'recv', from: 9, message: { type: 'join' } }, 0);
    assert.deepEqual(hv.activeView(), [1, 2, 3, 4, 5]);
    assert.ok(out.some((o) => o.type === 'send' && o.to === 9 && o.message.type === 'neighbor-reply' && !o.message.accepted));
    assert.deepEqual(sentTo(out, 'forward-join'), [1, 2, 3, 4, 5]);
    assert.ok(hv.passiveView().includes(9));
  });

  it('a sender that keeps sending HIGH is heard as LOW (refused by a full view)', () => {
    const hv = withActive(0, [1, 2, 3, 4, 5]);
    const replies: boolean[] = [];
    for (let i = 0; i <= C.highRequestBurst; i++) {
      hv.handle({ type: 'recv', from: 9, message: { type: 'disconnect', alive: true } }, i);
      const out = hv.handle({ type: 'recv', from: 9, message: { type: 'neighbor', priority: 'high' } }, i);
      const r = out.find((o) => o.type === 'send' && o.message.type === 'neighbor-reply');
      replies.push((r as { message: { accepted: boolean } }).message.accepted);
    }
    assert.deepEqual(replies, [...new Array(C.highRequestBurst).fill(true), false]);
  });

  it("evictions caused by other peers' requests are budgeted", () => {
    const hv = withActive(0, [1, 2, 3, 4, 5]);
    const accepted: boolean[] = [];
    for (let i = 0; i <= C.evictionBurst; i++) {
      const out = hv.handle({ type: 'recv', from: 100 + i, message: { type: 'neighbor', priority: 'high' } }, 0);
      accepted.push(sentTo(out, 'disconnect').length === 1);
    }
    assert.deepEqual(accepted, [...new Array(C.evictionBurst).fill(true), false]);
    assert.equal(hv.activeView().length, C.activeViewCapacity);
    const later = hv.handle({ type: 'recv', from: 200, message: { type: 'neighbor', priority: 'high' } }, C.evictionRefillMs);
    assert.equal(sentTo(later, 'disconnect').length, 1);
  });

  it('peers that relay valid messages first keep their slots; others are evicted first', () => {
    const hv = withActive(0, [1, 2, 3, 4, 5]);
    hv.noteUseful(1, 0);
    hv.noteUseful(3, 0);
    for (let i = 0; i < 3; i++) hv.handle({ type: 'recv', from: 100 + i, message: { type: 'neighbor', priority: 'high' } }, 1);
    assert.ok(hv.activeView().includes(1) && hv.activeView().includes(3));
    // The protection lapses after the window.
    hv.handle({ type: 'recv', from: 200, message: { type: 'neighbor', priority: 'high' } }, C.usefulWindowMs + C.evictionRefillMs * 4);
    const t = C.usefulWindowMs + C.evictionRefillMs * 8;
    hv.handle({ type: 'recv', from: 201, message: { type: 'neighbor', priority: 'high' } }, t);
    hv.handle({ type: 'recv', from: 202, message: { type: 'neighbor', priority: 'high' } }, t);
    hv.handle({ type: 'recv', from: 203, message: { type: 'neighbor', priority: 'high' } }, t);
    hv.handle({ type: 'recv', from: 204, message: { type: 'neighbor', priority: 'high' } }, t);
    assert.ok(!hv.activeView().includes(1) || !hv.activeView().includes(3));
  });

  it('a newcomer active peer fills at most maxPassivePerNewSource passive entries; a long-held one more', () => {
    const hv = withActive(0, [1, 2, 3, 4]);
    const junk = Array.from({ length: 20 }, (_, i) => 100 + i);
    hv.handle({ type: 'recv', from: 4, message: { type: 'shuffle', origin: 4, ttl: 0, peers: junk } }, 0);
    assert.equal(hv.passiveView().length, C.maxPassivePerNewSource);
    const good = Array.from({ length: 20 }, (_, i) => 300 + i);
    hv.handle({ type: 'recv', from: 1, message: { type: 'shuffle', origin: 1, ttl: 0, peers: good } }, 0);
    assert.equal(hv.passiveView().filter((p) => p >= 300).length, C.maxPassivePerSource);
  });

  it('entries from newcomers and self-introductions share a small pool in the passive view', () => {
    const hv = withActive(0, [1, 2, 3, 4, 5]);
    for (let i = 0; i < 20; i++) hv.handle({ type: 'recv', from: 100 + i, message: { type: 'neighbor', priority: 'low' } }, 0);
    assert.equal(hv.passiveView().length, C.maxUntrustedPassive);
    hv.handle({ type: 'recv', from: 5, message: { type: 'shuffle', origin: 5, ttl: 0, peers: [200] } }, 0);
    assert.equal(hv.passiveView().length, C.maxUntrustedPassive); // 200 replaced one of the pool
    assert.ok(hv.passiveView().includes(200));
    hv.handle({ type: 'recv', from: 1, message: { type: 'shuffle', origin: 1, ttl: 0, peers: [300, 301, 302] } }, 0);
    assert.equal(hv.passiveView().length, C.maxUntrustedPassive + 3); // a long-held peer's entries are not capped by the pool
  });

  it('a peer that only vouches for itself never pushes another address out of the passive view', () => {
    const hv = withActive(0, [1, 2, 3, 4, 5], { maxPassivePerSource: 30 });
    const peers = Array.from({ length: 30 }, (_, i) => 100 + i);
    hv.handle({ type: 'recv', from: 1, message: { type: 'shuffle', origin: 1, ttl: 0, peers } }, 0);
    assert.equal(hv.passiveView().length, C.passiveViewCapacity);
    const before = [...hv.passiveView()].sort();
    const out = hv.handle({ type: 'recv', from: 99, message: { type: 'neighbor', priority: 'low' } }, 0);
    assert.deepEqual(sentTo(out, 'neighbor-reply'), [99]);
    assert.deepEqual([...hv.passiveView()].sort(), before);
  });
});
