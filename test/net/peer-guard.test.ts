/** The driver's offence rules, shared by the gossip service and the simulator. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { offenceOf, PeerGuard } from '../../src/net/gossip/peer-guard.ts';
import { DEFAULT_PENALTY_CONFIG, PENALTY_POINTS } from '../../src/net/gossip/penalties.ts';

describe('PeerGuard', () => {
  it('maps overlay events to offences: invalid payloads and dropped messages only', () => {
    assert.deepEqual(offenceOf<number>({ type: 'invalid', from: 4, id: 'x' }), { peer: 4, offence: 'invalid' });
    assert.deepEqual(offenceOf<number>({ type: 'dropped', from: 4, reason: 'r' }), { peer: 4, offence: 'malformed' });
    assert.equal(offenceOf<number>({ type: 'neighbor-up', peer: 4 }), null);
  });

  it('bans a peer after enough invalid payloads, for banMs; never bans itself', () => {
    const guard = new PeerGuard<number>(0);
    const needed = DEFAULT_PENALTY_CONFIG.threshold / PENALTY_POINTS.invalid;
    const banned: (number | undefined)[] = [];
    for (let i = 0; i < needed; i++) banned.push(guard.review({ type: 'invalid', from: 7, id: `m${i}` }, 0));
    assert.deepEqual(banned, [...new Array(needed - 1).fill(undefined), 7]);
    assert.equal(guard.admits(7, 1), false);
    assert.equal(guard.admits(7, DEFAULT_PENALTY_CONFIG.banMs), true);
    for (let i = 0; i < 2 * needed; i++) assert.equal(guard.review({ type: 'invalid', from: 0, id: `s${i}` }, i), undefined);
    assert.equal(guard.admits(0, 0), true);
  });
});
