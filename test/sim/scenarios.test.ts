/**
 * Simulation tests at 20-200 nodes over several seeds. Each assertion names
 * its seed, so a failure can be replayed with `npm run sim -- <scenario> --seed S`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Simulator } from '../../sim/network.ts';
import { broadcasts, formOverlay } from '../../sim/scenarios/common.ts';
import { runChurn, runFailure, runPartition, runStable } from '../../sim/scenarios/index.ts';

const SEEDS = [1, 2, 3];

function at(seed: number, what: string): string {
  return `${what} (seed ${seed})`;
}

/** Views hold no self, no duplicate, nothing in both views, at most the capacity. */
function checkViewInvariants(sim: Simulator, seed: number): void {
  for (const node of sim.liveNodes()) {
    const o = sim.overlay(node)!;
    const active = o.activeView(),
      passive = o.passiveView();
    assert.ok(active.length <= 5, at(seed, `node ${node} active view ${active.length} > 5`));
    assert.ok(passive.length <= 30, at(seed, `node ${node} passive view ${passive.length} > 30`));
    assert.ok(!active.includes(node) && !passive.includes(node), at(seed, `node ${node} has itself in a view`));
    assert.equal(new Set(active).size, active.length, at(seed, `node ${node} active view has duplicates`));
    assert.equal(new Set(passive).size, passive.length, at(seed, `node ${node} passive view has duplicates`));
    for (const p of active) assert.ok(!passive.includes(p), at(seed, `node ${node} has ${p} in both views`));
  }
}

function asymmetricPairs(sim: Simulator): number {
  let bad = 0;
  for (const a of sim.liveNodes()) {
    for (const b of sim.overlay(a)!.activeView()) {
      const ob = sim.overlay(b);
      if (!ob?.activeView().includes(a)) bad++;
    }
  }
  return bad;
}

describe('simulation', () => {
  it('is deterministic: same seed, same figures and message detail', () => {
    const a = runStable({ nodes: 60, seed: 42 });
    const b = runStable({ nodes: 60, seed: 42 });
    const strip = (r: typeof a) => JSON.stringify({ ...r.figures, wallFormMs: 0, wallSingleMs: 0, wallMs: 0, heapBytesPerNode: 0, m: r.messages });
    assert.equal(strip(a), strip(b));
  });

  for (const seed of SEEDS) {
    it(`stable, 150 nodes: full reliability, a near-perfect tree, bounded LDH (seed ${seed})`, () => {
      const r = runStable({ nodes: 150, seed });
      const f = r.figures;
      assert.equal(f.reliability, 1, at(seed, 'single-sender reliability'));
      assert.equal(f.reliabilityRandom, 1, at(seed, 'random-sender reliability'));
      assert.equal(f.reliabilityBurst, 1, at(seed, 'burst reliability'));
      assert.ok((f.rmr as number) <= 0.05, at(seed, `rmr ${f.rmr} > 0.05`));
      assert.ok((f.rmrRandom as number) <= 0.6, at(seed, `rmrRandom ${f.rmrRandom} > 0.6`));
      assert.ok((f.rmrBurst as number) <= 1.5, at(seed, `rmrBurst ${f.rmrBurst} > 1.5`));
      assert.ok((f.ldhMax as number) <= 12, at(seed, `ldhMax ${f.ldhMax} > 12`));
    });
  }

  it('views keep their invariants and are symmetric once membership is quiet', () => {
    for (const seed of SEEDS) {
      // No rotation, shuffle or repair timers: after the joins settle, nothing moves.
      const sim = new Simulator({ seed, hyparview: { rotateIntervalMs: 0, shuffleIntervalMs: 1e9, fastShuffleIntervalMs: 1e9, repairIntervalMs: 1e9 } });
      formOverlay(sim, 120);
      checkViewInvariants(sim, seed);
      assert.equal(asymmetricPairs(sim), 0, at(seed, 'asymmetric active views after the joins'));
      assert.equal(sim.health().components, 1, at(seed, 'overlay not connected'));
      for (let i = 0; i < 30; i++) sim.crash(sim.randomLive());
      sim.runUntil(sim.now + 10_000);
      checkViewInvariants(sim, seed);
      assert.equal(asymmetricPairs(sim), 0, at(seed, 'asymmetric active views after crashes'));
    }
  });

  it('views keep their invariants under churn with every timer running', () => {
    for (const seed of SEEDS) {
      const sim = new Simulator({ seed });
      formOverlay(sim, 100);
      broadcasts(sim, 'w', 5, 500);
      for (let s = 0; s < 20; s++) {
        sim.crash(sim.randomLive());
        sim.addNode([sim.randomLive()]);
        sim.runUntil(sim.now + 1_000);
        checkViewInvariants(sim, seed);
      }
    }
  });

  for (const seed of SEEDS) {
    it(`failure, 200 nodes, half crash: later messages reach every survivor and the overlay heals (seed ${seed})`, () => {
      const f = runFailure({ nodes: 200, seed, fail: 0.5 }).figures;
      assert.equal(f.reliabilityAfter, 1, at(seed, 'reliability of messages 10-50'));
      assert.ok((f.reliabilityFirst as number) >= 0.9, at(seed, `reliabilityFirst ${f.reliabilityFirst}`));
      assert.notEqual(f.healMs, null, at(seed, 'overlay never healed'));
      assert.ok((f.healMs as number) <= 5_000, at(seed, `healMs ${f.healMs}`));
    });
  }

  it('failure, 200 nodes, 80% crash: the survivors heal and get every later message', () => {
    for (const seed of SEEDS) {
      const f = runFailure({ nodes: 200, seed, fail: 0.8 }).figures;
      assert.equal(f.reliabilityAfter, 1, at(seed, 'reliability of messages 10-50'));
      assert.notEqual(f.healMs, null, at(seed, 'overlay never healed'));
    }
  });

  it('partition, 100 nodes: the halves merge with no application help, and later messages reach all', () => {
    for (const seed of SEEDS) {
      const f = runPartition({ nodes: 100, seed, timeScale: 0.25 }).figures;
      assert.equal(f.componentsAtSplitEnd, 2, at(seed, 'the split did not split the overlay'));
      assert.equal(f.reliabilitySplit, 1, at(seed, 'reliability within each side during the split'));
      assert.notEqual(f.healMs, null, at(seed, 'overlay never merged'));
      assert.equal(f.reliability, 1, at(seed, 'reliability after the heal'));
    }
  });

  it('churn, 100 nodes, 1%/s for 30 s: messages reach the nodes alive throughout', () => {
    for (const seed of SEEDS) {
      const f = runChurn({ nodes: 100, seed, timeScale: 0.05 }).figures;
      assert.ok((f.reliability as number) >= 0.999, at(seed, `churn reliability ${f.reliability}`));
      assert.ok((f.crashes as number) >= 30, at(seed, 'churn did not happen'));
    }
  });
});
