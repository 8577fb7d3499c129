/**
 * The simulator's network model (issue 21): jitter keeps links in order,
 * loss over TCP delays but never loses, silent crashes are noticed only by
 * the node's keepalive, and the overlay keeps full reliability under 5%
 * loss with jitter and processing costs. Times here are virtual.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LinkModel } from '../../sim/links.ts';
import { Simulator } from '../../sim/network.ts';
import { broadcasts, formOverlay } from '../../sim/scenarios/common.ts';
import { runStable } from '../../sim/scenarios/index.ts';
import { KEEPALIVE } from '../../src/net/transport/keepalive.ts';

const REAL = { jitterMs: 10, processingMs: 1, failureDetection: 'keepalive', lossRate: 0.05 } as const;

describe('simulator network model', () => {
  it('keeps each link first-in first-out under jitter and retransmissions', () => {
    const links = new LinkModel({ seed: 7, latencyMinMs: 10, latencyMaxMs: 100, jitterMs: 10, lossRate: 0.05, lossMode: 'retransmit' });
    const latency = links.latency(3, 9);
    let last = 0;
    let late = 0;
    for (let i = 0; i < 2_000; i++) {
      const now = i * 0.5;
      const at = links.arrival(3, 9, now) as number;
      assert.ok(at >= last, `message ${i} overtook the one before it`);
      assert.ok(at >= now + latency, `message ${i} arrived before the link latency`);
      // A retransmission waits at least 200 ms (head-of-line blocking delays the ones behind it too).
      if (at - now - latency >= 200) late++;
      last = at;
    }
    assert.ok(late > 0, 'no message was ever retransmitted at 5% loss');
  });

  it('drops messages outright only in drop mode', () => {
    const drop = new LinkModel({ seed: 7, latencyMinMs: 10, latencyMaxMs: 100, jitterMs: 0, lossRate: 0.05, lossMode: 'drop' });
    const tcp = new LinkModel({ seed: 7, latencyMinMs: 10, latencyMaxMs: 100, jitterMs: 0, lossRate: 0.05, lossMode: 'retransmit' });
    let dropped = 0;
    for (let i = 0; i < 1_000; i++) {
      if (drop.arrival(1, 2, i) === null) dropped++;
      assert.notEqual(tcp.arrival(1, 2, i), null);
    }
    assert.ok(dropped > 20 && dropped < 90, `dropped ${dropped} of 1,000 at 5%`);
  });

  it('a silent crash is noticed by the keepalive, not at once', () => {
    const sim = new Simulator({ seed: 3, ...REAL, lossRate: 0 });
    formOverlay(sim, 60);
    const victim = sim.liveNodes()[10];
    const holders = sim.liveNodes().filter((n) => sim.overlay(n)!.activeView().includes(victim));
    assert.ok(holders.length > 0);
    const crashAt = sim.now;
    sim.crash(victim);
    // No ping can have timed out yet: every neighbour still holds the dead node.
    sim.runUntil(crashAt + KEEPALIVE.pingTimeoutMs - 1);
    for (const h of holders) assert.ok(sim.overlay(h)!.activeView().includes(victim), `node ${h} dropped ${victim} before any keepalive could fail`);
    // One full ping period plus the timeout (and a round trip) later, every one has noticed.
    sim.runUntil(crashAt + KEEPALIVE.pingIntervalMs + KEEPALIVE.pingTimeoutMs + 200);
    for (const h of holders) assert.ok(!sim.overlay(h)!.activeView().includes(victim), `node ${h} still holds ${victim}`);
  });

  it('messages keep reaching every live node while a silent crash goes unnoticed', () => {
    const sim = new Simulator({ seed: 5, ...REAL });
    formOverlay(sim, 100);
    broadcasts(sim, 'warmup', 5, 1_000, 0);
    for (let i = 0; i < 10; i++) sim.crash(sim.liveNodes()[1 + sim.rng.int(sim.liveCount - 1)]);
    const ids = broadcasts(sim, 'after', 10, 300);
    sim.runUntil(sim.now + 10_000);
    for (const id of ids) assert.equal(sim.tracker.finalize(id, (n) => sim.isAlive(n)).reliability, 1, `message ${id}`);
  });

  it('stable, 150 nodes, jitter, processing and 5% loss: full reliability, one seed one run', () => {
    const a = runStable({ nodes: 150, seed: 2, sim: REAL });
    assert.equal(a.figures.reliability, 1, 'single-sender reliability');
    assert.equal(a.figures.reliabilityRandom, 1, 'random-sender reliability');
    assert.equal(a.figures.reliabilityBurst, 1, 'burst reliability');
    const b = runStable({ nodes: 60, seed: 9, sim: REAL });
    const c = runStable({ nodes: 60, seed: 9, sim: REAL });
    const strip = (r: typeof b) => JSON.stringify({ ...r.figures, wallFormMs: 0, wallSingleMs: 0, wallMs: 0, heapBytesPerNode: 0, m: r.messages });
    assert.equal(strip(b), strip(c));
  });
});
