/**
 * Whole nodes in the simulator (sim/scenarios/nodes.ts), small: overlay,
 * sync, the inbound path and ordering of real `Node`s over the memory
 * network on a virtual clock, with 20% segment loss, a partition that heals
 * and 30% churn, every node writing to one LWW map. Replay a failure with
 * `npm run sim -- nodes --nodes 20 --seed S --time-scale 0.3`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runNodes } from '../../sim/scenarios/index.ts';

describe('nodes scenario', () => {
  it('20 nodes: every survivor ends with the same map and the same log heights', async () => {
    const f = (await runNodes({ nodes: 20, seed: 1, timeScale: 0.3 })).figures;
    assert.equal(f.converged, 1, 'converged');
    assert.equal(f.survivors, 20, '30% crashed and as many joined');
    assert.equal(f.nodesEver, 26);
    assert.ok((f.operationsHeld as number) > 0 && (f.mapKeys as number) > 0, 'survivors hold writes');
    assert.ok((f.retransmissions as number) > 0, 'segments were lost and retransmitted');
  });

  it('the same seed gives the same run', async () => {
    const strip = (r: Awaited<ReturnType<typeof runNodes>>) => ({ ...r.figures, wallMs: 0 });
    const one = strip(await runNodes({ nodes: 10, seed: 5, timeScale: 0.3 }));
    const two = strip(await runNodes({ nodes: 10, seed: 5, timeScale: 0.3 }));
    assert.deepEqual(one, two);
  });
});
