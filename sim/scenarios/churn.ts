/**
 * `churn`: every simulated second 1% of the nodes crash and as many new
 * nodes join (each through three random live nodes), at random instants within
 * the second, for 10 simulated minutes; a random node broadcasts every
 * 200 ms. A broadcast is meant for every node alive throughout its life:
 * joined at least 1 s before it was sent and still alive 10 s after.
 * A broadcast whose origin crashed before anyone could graft it from there
 * (within the first graft timeout plus the longest link) is lost on a real
 * network too: counted in `lostWithOrigin`, not in the reliabilities.
 */
import type { MessageResult } from '../metrics.ts';
import { DEFAULT_PLUMTREE_CONFIG } from '../../src/net/plumtree/types.ts';
import {
  broadcasts,
  controlRatio,
  formOverlay,
  heapPerNode,
  meanOf,
  maxOf,
  newSim,
  PAYLOAD,
  round,
  snapshot,
  startRun,
  summarize,
  type ScenarioOptions,
  type ScenarioResult,
} from './common.ts';

const SPACING_MS = 200;
const WINDOW_MS = 10_000;
const JOIN_GRACE_MS = 1_000;
const RATE_PER_S = 0.01;

export function runChurn(opts: ScenarioOptions): ScenarioResult {
  const base = startRun();
  const sim = newSim(opts);
  const n = opts.nodes;
  const durationMs = Math.round(600_000 * (opts.timeScale ?? 1));
  formOverlay(sim, n);
  broadcasts(sim, 'warmup', 10, 1_000, sim.randomLive());
  const t0 = sim.now;
  const c0 = snapshot(sim.counts);
  sim.tracker.phase = 'churn';
  const pending: Array<{ id: string; t: number }> = [];
  const results: MessageResult[] = [];
  let crashes = 0,
    joins = 0,
    minLive = Infinity,
    lostWithOrigin = 0;
  const graftReach = (opts.sim?.plumtree?.graftTimeout1Ms ?? DEFAULT_PLUMTREE_CONFIG.graftTimeout1Ms) + sim.config.latencyMaxMs;
  const finalizeDue = (now: number) => {
    while (pending.length > 0 && pending[0].t + WINDOW_MS <= now) {
      const { id, t } = pending.shift() as { id: string; t: number };
      if (sim.leftAt[sim.tracker.originOf(id)] < t + graftReach) {
        lostWithOrigin++;
        continue;
      }
      results.push(sim.tracker.finalize(id, (node) => sim.joinedAt[node] <= t - JOIN_GRACE_MS && sim.leftAt[node] > t + WINDOW_MS));
    }
  };
  for (let s = 0; s * 1_000 < durationMs; s++) {
    const start = t0 + s * 1_000;
    const k = Math.max(1, Math.round(RATE_PER_S * sim.liveCount));
    // This second's actions, in time order: crashes (0), joins (1), broadcasts (2).
    const actions: Array<[number, number]> = [];
    for (let i = 0; i < k; i++) actions.push([start + sim.rng.next() * 1_000, 0]);
    for (let i = 0; i < k; i++) actions.push([start + sim.rng.next() * 1_000, 1]);
    for (let b = 0; b < 1_000; b += SPACING_MS) actions.push([start + b, 2]);
    actions.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    for (const [t, kind] of actions) {
      sim.runUntil(t);
      if (kind === 0) {
        sim.crash(sim.randomLive());
        crashes++;
      } else if (kind === 1) {
        // Like a real node's bootstrap list: three addresses, so that one contact
        // crashing in the middle of the join does not strand the newcomer.
        sim.addNode([sim.randomLive(), sim.randomLive(), sim.randomLive()]);
        joins++;
      } else {
        pending.push({ id: sim.publish(pickOrigin(sim, t), PAYLOAD), t });
      }
    }
    if (sim.liveCount < minLive) minLive = sim.liveCount;
    finalizeDue(sim.now);
  }
  sim.runUntil(sim.now + WINDOW_MS);
  finalizeDue(Infinity);
  const worst = Math.min(...results.map((r) => r.reliability));
  return {
    figures: {
      reliability: round(meanOf(results, 'reliability'), 6),
      reliabilityMin: round(worst, 6),
      fullyDelivered: round(results.filter((r) => r.reliability === 1).length / results.length, 4),
      rmr: round(meanOf(results, 'rmr')),
      ldhMax: maxOf(results, 'ldh'),
      crashes,
      joins,
      lostWithOrigin,
      controlRatio: round(controlRatio(sim.counts, c0)),
      wallMs: Math.round(performance.now() - base.wallStart),
      heapBytesPerNode: heapPerNode(base, sim.liveCount),
      events: sim.events,
    },
    messages: { churn: summarize(results) },
  };
}

/** A random live node that has been in for at least the join grace. */
function pickOrigin(sim: ReturnType<typeof newSim>, now: number): number {
  for (let i = 0; i < 20; i++) {
    const node = sim.randomLive();
    if (sim.joinedAt[node] <= now - JOIN_GRACE_MS) return node;
  }
  return sim.randomLive();
}
