import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isWalkawayError } from '../../src/core/errors.ts';
import { DEFAULT_PLUMTREE_CONFIG, GOSSIP_ENVELOPE_OVERHEAD, PlumTree, type PlumTreeOutput } from '../../src/net/plumtree/index.ts';
import { MidRandom } from './helpers.ts';

const C = DEFAULT_PLUMTREE_CONFIG;
const P = new Uint8Array([1, 2, 3]);

/** Node 0 with eager peers `eager` and lazy peers `lazy`. */
function tree(eager: number[], lazy: number[], config = {}, validate?: (payload: Uint8Array) => boolean): PlumTree<number> {
  const pt = new PlumTree<number>(0, new MidRandom(), config, validate);
  for (const p of [...eager, ...lazy]) pt.handle({ type: 'neighbor-up', peer: p }, 0);
  // New neighbours start lazy; a graft (without id) makes a link eager.
  for (const p of eager) pt.handle({ type: 'recv', from: p, message: { type: 'graft', id: null } }, 0);
  return pt;
}

function publishedId(out: PlumTreeOutput<number>[]): string {
  const first = out[0];
  assert.ok(first.type === 'emit' && first.event.type === 'published');
  return first.event.id;
}

describe('PlumTree', () => {
  it('a payload that fails validation is neither cached, forwarded, announced nor delivered, and its id stays free', () => {
    const bad = new Uint8Array([0xba, 0xd0]);
    const pt = tree([1, 2], [3], {}, (payload) => payload[0] !== 0xba);
    const out = pt.handle({ type: 'recv', from: 1, message: { type: 'gossip', id: 'm1', payload: bad, hop: 1 } }, 10);
    assert.deepEqual(out, [{ type: 'emit', event: { type: 'invalid', from: 1, id: 'm1' } }]);
    assert.equal(pt.stats.invalid, 1);
    assert.equal(pt.hasDelivered('m1'), false);
    assert.deepEqual(pt.sizes(), { received: 0, cache: 0, missing: 0 });
    // A graft for that id gets nothing back: it was never cached.
    assert.deepEqual(pt.handle({ type: 'recv', from: 2, message: { type: 'graft', id: 'm1' } }, 11), []);
    // The real message under the same id is still delivered and forwarded.
    const real = pt.handle({ type: 'recv', from: 2, message: { type: 'gossip', id: 'm1', payload: P, hop: 1 } }, 12);
    assert.ok(real.some((o) => o.type === 'emit' && o.event.type === 'deliver' && o.event.id === 'm1'));
    assert.ok(real.some((o) => o.type === 'send' && o.to === 1 && o.message.type === 'gossip'));
  });

  it('forget: a payload the app deleted answers no graft and is announced to no new neighbour; a copy back is not delivered again', () => {
    const pt = tree([1], [2]);
    const kept = new Uint8Array([7]);
    const gone = publishedId(pt.handle({ type: 'command', command: { type: 'publish', payload: P } }, 10));
    const stays = publishedId(pt.handle({ type: 'command', command: { type: 'publish', payload: kept } }, 10));
    assert.equal(
      pt.forget((payload) => payload[0] === P[0]),
      1,
    );
    assert.deepEqual(pt.handle({ type: 'recv', from: 2, message: { type: 'graft', id: gone } }, 11), []);
    const answered = pt.handle({ type: 'recv', from: 2, message: { type: 'graft', id: stays } }, 11);
    assert.ok(answered.some((o) => o.type === 'send' && o.message.type === 'gossip' && o.message.id === stays));
    const joined = pt.handle({ type: 'neighbor-up', peer: 5 }, 12);
    const announced = [...joined, ...pt.handle({ type: 'timer', timer: { type: 'ihave-dispatch' } }, 12 + C.ihaveDispatchMs)].flatMap((o) =>
      o.type === 'send' && o.message.type === 'ihave' ? o.message.ids : [],
    );
    assert.ok(!announced.includes(gone), 'the forgotten id is not announced');
    const back = pt.handle({ type: 'recv', from: 1, message: { type: 'gossip', id: gone, payload: P, hop: 2 } }, 13);
    assert.ok(!back.some((o) => o.type === 'emit' && o.event.type === 'deliver'), 'not delivered twice');
  });

  it('gossip, IHAVE and GRAFT from a peer that is not a neighbour are ignored', () => {
    const pt = tree([1], [2]);
    assert.deepEqual(pt.handle({ type: 'recv', from: 9, message: { type: 'gossip', id: 's1', payload: P, hop: 1 } }, 10), []);
    assert.deepEqual(pt.handle({ type: 'recv', from: 9, message: { type: 'ihave', ids: ['s2'], hops: [0] } }, 10), []);
    const published = pt.handle({ type: 'command', command: { type: 'publish', payload: P } }, 11);
    const id = publishedId(published);
    assert.deepEqual(pt.handle({ type: 'recv', from: 9, message: { type: 'graft', id } }, 12), [], 'a stranger cannot pull cached payloads');
    assert.equal(pt.hasDelivered('s1'), false);
    assert.equal(pt.stats.strangers, 3);
    assert.deepEqual([...pt.eagerPeers()], [1]);
  });

  it('publish: eager push to tree peers, one batched IHAVE per lazy peer after the dispatch delay', () => {
    const pt = tree([1, 2], [3]);
    const out = pt.handle({ type: 'command', command: { type: 'publish', payload: P } }, 100);
    const id = publishedId(out);
    assert.deepEqual(out.slice(1), [
      { type: 'send', to: 1, message: { type: 'gossip', id, payload: P, hop: 1, age: 0 } },
      { type: 'send', to: 2, message: { type: 'gossip', id, payload: P, hop: 1, age: 0 } },
      { type: 'set-timer', delayMs: C.ihaveDispatchMs, timer: { type: 'ihave-dispatch' } },
    ]);
    const second = pt.handle({ type: 'command', command: { type: 'publish', payload: P } }, 101);
    const id2 = publishedId(second);
    assert.notEqual(id, id2, 'identical payloads get distinct ids');
    assert.equal(second.filter((o) => o.type === 'set-timer').length, 0, 'one dispatch timer for the batch');
    const flush = pt.handle({ type: 'timer', timer: { type: 'ihave-dispatch' } }, 105);
    assert.deepEqual(flush, [{ type: 'send', to: 3, message: { type: 'ihave', ids: [id, id2], hops: [0, 0] } }]);
  });

  it('IHAVE batches: 5 ms after a quiet spell, ihaveBusyDispatchMs right after a batch went out', () => {
    const pt = tree([1], [3]);
    const timerOf = (out: PlumTreeOutput<number>[]) => out.flatMap((o) => (o.type === 'set-timer' && o.timer.type === 'ihave-dispatch' ? [o.delayMs] : []));
    assert.deepEqual(timerOf(pt.handle({ type: 'command', command: { type: 'publish', payload: P } }, 100)), [C.ihaveDispatchMs]);
    pt.handle({ type: 'timer', timer: { type: 'ihave-dispatch' } }, 105);
    // The next message 15 ms later: a stream, so a longer batch.
    assert.deepEqual(timerOf(pt.handle({ type: 'command', command: { type: 'publish', payload: P } }, 120)), [C.ihaveBusyDispatchMs]);
    assert.deepEqual(timerOf(pt.handle({ type: 'command', command: { type: 'publish', payload: P } }, 140)), [], 'one timer per batch');
    const batch = pt.handle({ type: 'timer', timer: { type: 'ihave-dispatch' } }, 120 + C.ihaveBusyDispatchMs);
    assert.ok(batch.length === 1 && batch[0].type === 'send' && batch[0].message.type === 'ihave' && batch[0].message.ids.length === 2, 'both ids in one IHAVE');
    // Quiet for longer than the busy batch: back to 5 ms.
    const quiet = 120 + 2 * C.ihaveBusyDispatchMs + 1;
    assert.deepEqual(timerOf(pt.handle({ type: 'command', command: { type: 'publish', payload: P } }, quiet)), [C.ihaveDispatchMs]);
  });

  it('publish over the size limit throws TOO_LARGE synchronously; exactly at the limit is fine', () => {
    const pt = tree([1], []);
    const limit = 1024;
    const small = new PlumTree<number>(0, new MidRandom(), { maxMessageSize: limit });
    const idLength = 24;
    const fits = new Uint8Array(limit - idLength - GOSSIP_ENVELOPE_OVERHEAD);
    assert.doesNotThrow(() => small.handle({ type: 'command', command: { type: 'publish', payload: fits } }, 0));
    const big = new Uint8Array(fits.length + 1);
    assert.throws(
      () => small.handle({ type: 'command', command: { type: 'publish', payload: big } }, 0),
      (err: unknown) => isWalkawayError(err, 'TOO_LARGE') && (err.data as { limit: number }).limit === limit,
    );
    assert.throws(
      () => pt.handle({ type: 'command', command: { type: 'publish', payload: new Uint8Array(C.maxMessageSize) } }, 0),
      (err: unknown) => isWalkawayError(err, 'TOO_LARGE'),
    );
  });

  it('first copy: deliver, forward eagerly and lazily; a duplicate prunes the link', () => {
    const pt = tree([1, 2], [3]);
    const out = pt.handle({ type: 'recv', from: 1, message: { type: 'gossip', id: 'm1', payload: P, hop: 4 } }, 0);
    assert.deepEqual(out, [
      { type: 'emit', event: { type: 'deliver', id: 'm1', payload: P, hop: 4, from: 1 } },
      { type: 'send', to: 2, message: { type: 'gossip', id: 'm1', payload: P, hop: 5, age: 0 } },
      { type: 'set-timer', delayMs: C.ihaveDispatchMs, timer: { type: 'ihave-dispatch' } },
    ]);
    const dup = pt.handle({ type: 'recv', from: 2, message: { type: 'gossip', id: 'm1', payload: P, hop: 2 } }, 1);
    assert.deepEqual(dup, [{ type: 'send', to: 2, message: { type: 'prune' } }]);
    assert.deepEqual(pt.eagerPeers(), [1]);
    assert.deepEqual([...pt.lazyPeers()].sort(), [2, 3]);
  });

  it('IHAVE for a missing message: graft after the timeout, next announcer after the second timeout', () => {
    const pt = tree([1], [2, 3]);
    const a = pt.handle({ type: 'recv', from: 2, message: { type: 'ihave', ids: ['m'], hops: [3] } }, 0);
    assert.deepEqual(a, [{ type: 'set-timer', delayMs: C.graftTimeout1Ms, timer: { type: 'graft-timeout', id: 'm' } }]);
    assert.deepEqual(pt.handle({ type: 'recv', from: 3, message: { type: 'ihave', ids: ['m'], hops: [1] } }, 5), []);
    const g1 = pt.handle({ type: 'timer', timer: { type: 'graft-timeout', id: 'm' } }, 80);
    // The announcer closest to the origin first.
    assert.deepEqual(g1, [
      { type: 'send', to: 3, message: { type: 'graft', id: 'm' } },
      { type: 'set-timer', delayMs: C.graftTimeout2Ms, timer: { type: 'graft-timeout', id: 'm' } },
    ]);
    const g2 = pt.handle({ type: 'timer', timer: { type: 'graft-timeout', id: 'm' } }, 80 + C.graftTimeout2Ms);
    assert.deepEqual(g2[0], { type: 'send', to: 2, message: { type: 'graft', id: 'm' } });
    assert.ok(pt.eagerPeers().includes(2) && pt.eagerPeers().includes(3));
  });

  it('losing the parent: IHAVEs graft at once for orphanGraftMs, waiting ones now; losing a child changes nothing', () => {
    const pt = tree([1, 2], [3, 4]);
    // 1 is our parent: it gave us m0 first. 2 is eager too, but only a child.
    pt.handle({ type: 'recv', from: 1, message: { type: 'gossip', id: 'm0', payload: P, hop: 1 } }, 100);
    const waiting = pt.handle({ type: 'recv', from: 3, message: { type: 'ihave', ids: ['m1'], hops: [1] } }, 110);
    assert.deepEqual(waiting, [{ type: 'set-timer', delayMs: C.graftTimeout1Ms, timer: { type: 'graft-timeout', id: 'm1' } }]);
    assert.deepEqual(pt.handle({ type: 'neighbor-down', peer: 2 }, 120), [], 'a child going changes nothing');
    const down = pt.handle({ type: 'neighbor-down', peer: 1 }, 130);
    assert.deepEqual(down.slice(0, 1), [{ type: 'send', to: 3, message: { type: 'graft', id: 'm1' } }], 'the waiting id is grafted now');
    const next = pt.handle({ type: 'recv', from: 4, message: { type: 'ihave', ids: ['m2'], hops: [2] } }, 140);
    assert.deepEqual(next[0], { type: 'send', to: 4, message: { type: 'graft', id: 'm2' } }, 'a new IHAVE is grafted at once');
    const later = pt.handle({ type: 'recv', from: 4, message: { type: 'ihave', ids: ['m3'], hops: [2] } }, 130 + C.orphanGraftMs + 1);
    assert.deepEqual(later, [{ type: 'set-timer', delayMs: C.graftTimeout1Ms, timer: { type: 'graft-timeout', id: 'm3' } }], 'then the timeout again');
  });

  it('orphanGraftMs 0: losing the parent changes nothing', () => {
    const pt = tree([1, 2], [3], { orphanGraftMs: 0 });
    pt.handle({ type: 'recv', from: 1, message: { type: 'gossip', id: 'm0', payload: P, hop: 1 } }, 100);
    pt.handle({ type: 'recv', from: 3, message: { type: 'ihave', ids: ['m1'], hops: [1] } }, 110);
    assert.deepEqual(pt.handle({ type: 'neighbor-down', peer: 1 }, 120), []);
    const next = pt.handle({ type: 'recv', from: 3, message: { type: 'ihave', ids: ['m2'], hops: [1] } }, 130);
    assert.deepEqual(next, [{ type: 'set-timer', delayMs: C.graftTimeout1Ms, timer: { type: 'graft-timeout', id: 'm2' } }]);
  });

  it('a parent silent for longer than messageCacheMs is not a parent: its going changes nothing', () => {
    const pt = tree([1, 5], [3]);
    pt.handle({ type: 'recv', from: 1, message: { type: 'gossip', id: 'm0', payload: P, hop: 1 } }, 0);
    assert.deepEqual(pt.handle({ type: 'neighbor-down', peer: 1 }, C.messageCacheMs + 1), []);
    const ihave = pt.handle({ type: 'recv', from: 3, message: { type: 'ihave', ids: ['m1'], hops: [1] } }, C.messageCacheMs + 2);
    assert.deepEqual(ihave, [{ type: 'set-timer', delayMs: C.graftTimeout1Ms, timer: { type: 'graft-timeout', id: 'm1' } }]);
  });

  it('with no eager peer, the first IHAVE is grafted at once', () => {
    const pt = tree([], [2]);
    const out = pt.handle({ type: 'recv', from: 2, message: { type: 'ihave', ids: ['m'], hops: [0] } }, 0);
    assert.deepEqual(out[0], { type: 'send', to: 2, message: { type: 'graft', id: 'm' } });
  });

  it('GRAFT with an id answers from the cache and makes the link eager; PRUNE makes it lazy', () => {
    const pt = tree([], [5]);
    const id = publishedId(pt.handle({ type: 'command', command: { type: 'publish', payload: P } }, 0));
    const out = pt.handle({ type: 'recv', from: 5, message: { type: 'graft', id } }, 10);
    // The answer carries the message's age: 10 ms since it was published here.
    assert.deepEqual(out, [{ type: 'send', to: 5, message: { type: 'gossip', id, payload: P, hop: 1, age: 10 } }]);
    assert.deepEqual(pt.eagerPeers(), [5]);
    pt.handle({ type: 'recv', from: 5, message: { type: 'prune' } }, 11);
    assert.deepEqual(pt.eagerPeers(), []);
    assert.deepEqual(pt.lazyPeers(), [5]);
  });

  it('optimisation (the paper, off by default): a lazy path shorter by the threshold in one message replaces the eager one', () => {
    const config = { optimisationThreshold: 7, optimisationHopsSaved: 0 };
    const pt = tree([1], [2], config);
    pt.handle({ type: 'recv', from: 1, message: { type: 'gossip', id: 'm', payload: P, hop: 10 } }, 0);
    const near = pt.handle({ type: 'recv', from: 2, message: { type: 'ihave', ids: ['m'], hops: [10 - 7 - 1] } }, 1);
    assert.deepEqual(near, [
      { type: 'send', to: 2, message: { type: 'graft', id: null } },
      { type: 'send', to: 1, message: { type: 'prune' } },
    ]);
    assert.deepEqual(pt.eagerPeers(), [2]);
    const pt2 = tree([1], [2], config);
    pt2.handle({ type: 'recv', from: 1, message: { type: 'gossip', id: 'm', payload: P, hop: 10 } }, 0);
    assert.deepEqual(pt2.handle({ type: 'recv', from: 2, message: { type: 'ihave', ids: ['m'], hops: [5] } }, 1), []);
    // With the defaults one message never swaps: the same gain waits for the samples.
    const pt3 = tree([1], [2]);
    pt3.handle({ type: 'recv', from: 1, message: { type: 'gossip', id: 'm', payload: P, hop: 10 } }, 0);
    assert.deepEqual(pt3.handle({ type: 'recv', from: 2, message: { type: 'ihave', ids: ['m'], hops: [2] } }, 1), []);
  });

  it('hop-saving optimisation: a lazy path that saved enough hops over consecutive messages replaces the eager link', () => {
    const config = { optimisationThreshold: 1000, optimisationHopsSaved: 4, optimisationSamples: 4 };
    const pt = tree([1], [2], config);
    const sends = [];
    for (let i = 0; i < 4; i++) {
      pt.handle({ type: 'recv', from: 1, message: { type: 'gossip', id: `m${i}`, payload: P, hop: 6 } }, i);
      // Peer 2 has it at hop 4: through it we would be at 5, one hop less.
      sends.push(pt.handle({ type: 'recv', from: 2, message: { type: 'ihave', ids: [`m${i}`], hops: [4] } }, i));
    }
    assert.deepEqual(sends.slice(0, 3), [[], [], []], 'no swap before the samples are in');
    assert.deepEqual(sends[3], [
      { type: 'send', to: 2, message: { type: 'graft', id: null } },
      { type: 'send', to: 1, message: { type: 'prune' } },
    ]);
    assert.deepEqual(pt.eagerPeers(), [2]);
    assert.equal(pt.stats.optimisations, 1);
  });

  it('hop-saving optimisation: a large steady gain swaps after the fewest samples, never on one message', () => {
    const pt = tree([1], [2], { optimisationThreshold: Infinity, optimisationHopsSaved: 16, optimisationSamples: 3 });
    const swapped = [];
    for (let i = 0; i < 3; i++) {
      pt.handle({ type: 'recv', from: 1, message: { type: 'gossip', id: `m${i}`, payload: P, hop: 12 } }, i);
      // Through peer 2 we would be at hop 6: 6 hops saved per message.
      const out = pt.handle({ type: 'recv', from: 2, message: { type: 'ihave', ids: [`m${i}`], hops: [5] } }, i);
      swapped.push(out.some((o) => o.type === 'send' && o.message.type === 'graft'));
    }
    assert.deepEqual(swapped, [false, false, true]);
    assert.deepEqual(pt.eagerPeers(), [2]);
  });

  it('hop-saving optimisation: gains that cancel out (origins on both sides) swap nothing', () => {
    const pt = tree([1], [2], { optimisationThreshold: 1000, optimisationHopsSaved: 4, optimisationSamples: 4 });
    for (let i = 0; i < 16; i++) {
      pt.handle({ type: 'recv', from: 1, message: { type: 'gossip', id: `m${i}`, payload: P, hop: 6 } }, i);
      const out = pt.handle({ type: 'recv', from: 2, message: { type: 'ihave', ids: [`m${i}`], hops: [i % 2 === 0 ? 2 : 8] } }, i);
      assert.deepEqual(out, []);
    }
    assert.deepEqual(pt.eagerPeers(), [1]);
    assert.equal(pt.stats.optimisations, 0);
  });

  it('hop-saving optimisation: a sample in which the lazy peer is not closer starts the count again (it may hear through us now)', () => {
    const pt = tree([1], [2], { optimisationThreshold: 1000, optimisationHopsSaved: 4, optimisationSamples: 4 });
    const hops = [1, 1, 1, 9];
    for (let i = 0; i < hops.length; i++) {
      pt.handle({ type: 'recv', from: 1, message: { type: 'gossip', id: `m${i}`, payload: P, hop: 6 } }, i);
      assert.deepEqual(pt.handle({ type: 'recv', from: 2, message: { type: 'ihave', ids: [`m${i}`], hops: [hops[i]] } }, i), []);
    }
    assert.deepEqual(pt.eagerPeers(), [1], 'three samples gained 4 hops, the fourth lost 4: the count starts again');
  });

  it('swap tallies exist only for current neighbour pairs: a departed or re-roled peer takes its tallies along', () => {
    const pt = tree([1], [2, 3], { optimisationThreshold: 1000, optimisationHopsSaved: 16, optimisationSamples: 100 });
    for (let i = 0; i < 5; i++) {
      pt.handle({ type: 'recv', from: 1, message: { type: 'gossip', id: `m${i}`, payload: P, hop: 6 } }, i);
      pt.handle({ type: 'recv', from: 2, message: { type: 'ihave', ids: [`m${i}`], hops: [2] } }, i);
      pt.handle({ type: 'recv', from: 3, message: { type: 'ihave', ids: [`m${i}`], hops: [3] } }, i);
      // A stranger's announcements keep nothing.
      pt.handle({ type: 'recv', from: 9, message: { type: 'ihave', ids: [`m${i}`], hops: [0] } }, i);
    }
    assert.equal(pt.memory().gainTallies, 2);
    pt.handle({ type: 'neighbor-down', peer: 2 }, 10);
    assert.equal(pt.memory().gainTallies, 1);
    pt.handle({ type: 'recv', from: 3, message: { type: 'graft', id: null } }, 11);
    assert.equal(pt.memory().gainTallies, 0, 'peer 3 is eager now: its tally as a lazy peer is void');
  });

  it('faster path: a graft that beat the eager copy is undone if its path is longer than fasterPathMaxExtraHops allows', () => {
    const run = (config: object) => {
      const pt = tree([1], [2], config);
      pt.handle({ type: 'recv', from: 2, message: { type: 'ihave', ids: ['m'], hops: [5] } }, 0);
      const graft = pt.handle({ type: 'timer', timer: { type: 'graft-timeout', id: 'm' } }, C.graftTimeout1Ms);
      assert.deepEqual(graft[0], { type: 'send', to: 2, message: { type: 'graft', id: 'm' } });
      // The eager copy (hop 3) comes before the graft's answer (hop 6).
      const eager = pt.handle({ type: 'recv', from: 1, message: { type: 'gossip', id: 'm', payload: P, hop: 3 } }, C.graftTimeout1Ms + 1);
      const answer = pt.handle({ type: 'recv', from: 2, message: { type: 'gossip', id: 'm', payload: P, hop: 6 } }, C.graftTimeout1Ms + 2);
      assert.deepEqual(answer, [], 'the answer to our graft is not a duplicate to prune');
      return { pt, prunes: eager.filter((o) => o.type === 'send' && o.message.type === 'prune').map((o) => (o as { to: number }).to) };
    };
    const always = run({ fasterPathMaxExtraHops: Infinity });
    assert.deepEqual(always.prunes, [1], 'default: the faster (grafted) link replaces the tree link');
    assert.deepEqual(always.pt.eagerPeers(), [2]);
    const gated = run({ fasterPathMaxExtraHops: 0 });
    assert.deepEqual(gated.prunes, [2], 'gated: the graft is undone, the shorter tree link stays');
    assert.deepEqual(gated.pt.eagerPeers(), [1]);
  });

  it('a first copy is not pushed to the peers that announced it (they would prune us)', () => {
    const pt = tree([1, 2], [3, 4]);
    pt.handle({ type: 'recv', from: 3, message: { type: 'ihave', ids: ['m'], hops: [2] } }, 0);
    pt.handle({ type: 'timer', timer: { type: 'graft-timeout', id: 'm' } }, C.graftTimeout1Ms);
    assert.ok(pt.eagerPeers().includes(3), 'grafted');
    const out = pt.handle({ type: 'recv', from: 1, message: { type: 'gossip', id: 'm', payload: P, hop: 3 } }, C.graftTimeout1Ms + 1);
    const pushed = out.flatMap((o) => (o.type === 'send' && o.message.type === 'gossip' ? [o.to] : []));
    assert.deepEqual(pushed, [2], 'not to 1 (the sender) nor 3 (grafted, it has the message)');
    const flush = pt.handle({ type: 'timer', timer: { type: 'ihave-dispatch' } }, C.graftTimeout1Ms + 10);
    assert.deepEqual(
      flush.flatMap((o) => (o.type === 'send' && o.message.type === 'ihave' ? [o.to] : [])),
      [4],
    );
  });

  it('a new neighbour hears of recent messages by IHAVE', () => {
    const pt = tree([1], []);
    const id = publishedId(pt.handle({ type: 'command', command: { type: 'publish', payload: P } }, 0));
    const up = pt.handle({ type: 'neighbor-up', peer: 7 }, 1_000);
    assert.deepEqual(up, [{ type: 'set-timer', delayMs: C.ihaveDispatchMs, timer: { type: 'ihave-dispatch' } }]);
    assert.deepEqual(pt.handle({ type: 'timer', timer: { type: 'ihave-dispatch' } }, 1_005), [{ type: 'send', to: 7, message: { type: 'ihave', ids: [id], hops: [0] } }]);
  });

  it('a new neighbour hears only of messages young by their age, not by when they reached us', () => {
    const pt = tree([1], []);
    const window = C.announceRecentMs;
    // Reached us just now, but published window - 100 ms ago (a newcomer's catch-up, say).
    pt.handle({ type: 'recv', from: 1, message: { type: 'gossip', id: 'old', payload: P, hop: 3, age: window - 100 } }, 10_000);
    pt.handle({ type: 'recv', from: 1, message: { type: 'gossip', id: 'new', payload: P, hop: 3, age: 0 } }, 10_000);
    pt.handle({ type: 'neighbor-up', peer: 7 }, 10_200);
    const flush = pt.handle({ type: 'timer', timer: { type: 'ihave-dispatch' } }, 10_205);
    assert.deepEqual(flush, [{ type: 'send', to: 7, message: { type: 'ihave', ids: ['new'], hops: [3] } }]);
  });

  it('forwarded copies carry their age; a copy older than maxMessageAgeMs is neither delivered nor forwarded', () => {
    const pt = tree([1, 2], []);
    const out = pt.handle({ type: 'recv', from: 1, message: { type: 'gossip', id: 'm', payload: P, hop: 1, age: 1_500 } }, 0);
    assert.deepEqual(
      out.filter((o) => o.type === 'send'),
      [{ type: 'send', to: 2, message: { type: 'gossip', id: 'm', payload: P, hop: 2, age: 1_500 } }],
    );
    // A graft 2 s later is answered with the age grown by the time we held it.
    const answer = pt.handle({ type: 'recv', from: 2, message: { type: 'graft', id: 'm' } }, 2_000);
    assert.deepEqual(answer, [{ type: 'send', to: 2, message: { type: 'gossip', id: 'm', payload: P, hop: 2, age: 3_500 } }]);
    // Announced by 2, then a stale copy from 1: dropped, and 2 is still grafted.
    pt.handle({ type: 'recv', from: 2, message: { type: 'ihave', ids: ['z'], hops: [4] } }, 3_000);
    const stale = pt.handle({ type: 'recv', from: 1, message: { type: 'gossip', id: 'z', payload: P, hop: 5, age: C.maxMessageAgeMs + 1 } }, 3_010);
    assert.deepEqual(stale, []);
    assert.equal(pt.stats.tooOld, 1);
    assert.equal(pt.hasDelivered('z'), false);
    const graft = pt.handle({ type: 'timer', timer: { type: 'graft-timeout', id: 'z' } }, 3_000 + C.graftTimeout1Ms);
    assert.deepEqual(graft[0], { type: 'send', to: 2, message: { type: 'graft', id: 'z' } });
    const fresh = pt.handle({ type: 'recv', from: 2, message: { type: 'gossip', id: 'z', payload: P, hop: 5, age: 500 } }, 3_500);
    assert.equal(fresh[0].type === 'emit' && fresh[0].event.type, 'deliver');
    // Exactly at the bound it is still taken.
    const edge = pt.handle({ type: 'recv', from: 1, message: { type: 'gossip', id: 'e', payload: P, hop: 1, age: C.maxMessageAgeMs } }, 4_000);
    assert.equal(edge[0].type === 'emit' && edge[0].event.type, 'deliver');
  });

  it('keeps a node from forgetting an id while a copy of it could still be taken', () => {
    assert.ok(C.maxMessageAgeMs < C.idCacheMs && C.announceRecentMs < C.maxMessageAgeMs);
  });

  it('caches expire: payloads after messageCacheMs, ids after idCacheMs', () => {
    const pt = tree([1], []);
    pt.handle({ type: 'recv', from: 1, message: { type: 'gossip', id: 'm', payload: P, hop: 1 } }, 0);
    assert.deepEqual(pt.sizes(), { received: 1, cache: 1, missing: 0 });
    pt.handle({ type: 'recv', from: 1, message: { type: 'prune' } }, C.messageCacheMs + 1);
    assert.deepEqual(pt.sizes(), { received: 1, cache: 0, missing: 0 });
    pt.handle({ type: 'recv', from: 1, message: { type: 'prune' } }, C.idCacheMs + 1);
    assert.deepEqual(pt.sizes(), { received: 0, cache: 0, missing: 0 });
  });

  it('drops malformed messages with a report and never throws on them', () => {
    const pt = tree([1], []);
    const bad = [
      { type: 'gossip', id: '', payload: P, hop: 1 },
      { type: 'gossip', id: 'x', payload: [1, 2], hop: 1 },
      { type: 'gossip', id: 'x', payload: P, hop: 1, age: -1 },
      { type: 'gossip', id: 'x', payload: P, hop: 1, age: 1.5 },
      { type: 'gossip', id: 'x', payload: P, hop: 1, age: '5' },
      { type: 'gossip', id: 'x', payload: P, hop: 1, age: 86_400_001 },
      { type: 'ihave', ids: ['a', 'b'], hops: [1] },
      { type: 'graft', id: 5 },
      { type: 'what' },
      42,
    ];
    for (const message of bad) {
      const out = pt.handle({ type: 'recv', from: 1, message: message as never }, 0);
      assert.equal(out.length, 1);
      assert.ok(out[0].type === 'emit' && out[0].event.type === 'dropped');
    }
    assert.equal(pt.stats.dropped, bad.length);
  });
});
