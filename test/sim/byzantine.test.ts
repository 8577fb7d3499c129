/**
 * Byzantine simulation at 200 nodes, 20 of them attackers (forgers,
 * droppers, replayers, join flooders; sim/attackers.ts), over a shortened
 * attack. Replay a failure with `npm run sim -- byzantine --nodes 200 --seed S --time-scale 0.3`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isSigned, signedPayload } from '../../sim/attackers.ts';
import { runByzantine } from '../../sim/scenarios/index.ts';

const SEEDS = [1, 2];

describe('byzantine simulation', () => {
  it('the signature model: honest payloads pass, a changed byte fails', () => {
    const p = signedPayload(7, 3);
    assert.equal(isSigned(p), true);
    const q = p.slice();
    q[10] ^= 1;
    assert.equal(isSigned(q), false);
    assert.equal(isSigned(new Uint8Array(64)), false);
  });

  for (const seed of SEEDS) {
    it(`200 nodes, 10% attackers: every honest node gets every honest broadcast, nothing forged (seed ${seed})`, () => {
      const f = runByzantine({ nodes: 200, seed, timeScale: 0.3 }).figures;
      const at = (what: string) => `${what} (seed ${seed}): ${JSON.stringify(f)}`;
      assert.equal(f.attackers, 20);
      assert.equal(f.reliability, 1, at('reliability of honest broadcasts at honest nodes'));
      assert.equal(f.forgedDeliveries, 0, at('forged deliveries'));
      assert.ok((f.invalidRejected as number) > 0, at('forgeries were sent and rejected'));
      assert.equal(f.isolatedMax, 0, at('isolated honest nodes'));
      // No honest node is ever fully eclipsed, and at most 5% of them lack an
      // honest majority at any sample (a strict majority everywhere is not
      // reached: see sim/README.md, "byzantine").
      assert.ok((f.activeHonestMin as number) > 0, at('an honest node with only attackers as active peers'));
      assert.equal(f.activeHonestMedian, 1, at('median honest share of active views'));
      assert.ok((f.noMajorityNodesMax as number) <= 9, at('honest nodes without an honest majority > 5%'));
      assert.ok((f.passivePollutionMean as number) < 0.4, at('passive views polluted by attackers'));
    });
  }
});
