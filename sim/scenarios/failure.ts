/**
 * `failure`: after the overlay forms and a warm-up, a fraction F of the
 * nodes crash at once. From the crash on, a random survivor broadcasts every
 * 200 ms, 50 messages. Heal time: until every live node has a non-empty
 * active view and the live overlay is one connected component.
 */
import type { MessageResult } from '../metrics.ts';
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

const MESSAGES = 50;
const SPACING_MS = 200;
const CHECK_MS = 50;
const MAX_HEAL_MS = 60_000;

export function runFailure(opts: ScenarioOptions): ScenarioResult {
  const base = startRun();
  const sim = newSim(opts);
  const n = opts.nodes;
  const fail = opts.fail ?? 0.5;
  formOverlay(sim, n);
  broadcasts(sim, 'warmup', 10, 1_000, sim.randomLive());
  sim.runUntil(sim.now + 2_000);

  // Crash a random subset (partial Fisher-Yates over the live nodes).
  const live = sim.liveNodes().slice();
  const kill = Math.floor(fail * live.length);
  for (let i = 0; i < kill; i++) {
    const j = i + sim.rng.int(live.length - i);
    [live[i], live[j]] = [live[j], live[i]];
    sim.crash(live[i]);
  }
  const t0 = sim.now;
  const c0 = snapshot(sim.counts);
  sim.tracker.phase = 'failure';
  const ids: string[] = [];
  const timeline: Array<{ t: number; isolated: number; components: number }> = [];
  let healMs: number | null = null;
  for (let t = t0; ; t += CHECK_MS) {
    sim.runUntil(t);
    if (ids.length < MESSAGES && t >= t0 + ids.length * SPACING_MS) ids.push(sim.publish(sim.randomLive(), PAYLOAD));
    if (healMs === null) {
      const h = sim.health();
      if ((t - t0) % 500 === 0) timeline.push({ t: t - t0, isolated: h.isolated, components: h.components });
      if (h.isolated === 0 && h.components === 1) healMs = t - t0;
    }
    if (ids.length >= MESSAGES && (healMs !== null || t - t0 >= MAX_HEAL_MS)) break;
  }
  sim.runUntil(Math.max(sim.now, t0 + MESSAGES * SPACING_MS + 10_000));
  const results: MessageResult[] = ids.map((id) => sim.tracker.finalize(id, (node) => sim.isAlive(node)));
  const after = results.slice(9);
  const heap = heapPerNode(base, sim.liveCount);
  return {
    figures: {
      fail,
      reliabilityFirst: round(results[0].reliability, 6),
      reliabilityAfter: round(meanOf(after, 'reliability'), 6),
      reliabilityAfterMin: round(Math.min(...after.map((r) => r.reliability)), 6),
      reliability: round(meanOf(results, 'reliability'), 6),
      healMs,
      rmr: round(meanOf(after, 'rmr')),
      ldhMax: maxOf(results, 'ldh'),
      controlRatio: round(controlRatio(sim.counts, c0)),
      wallMs: Math.round(performance.now() - base.wallStart),
      heapBytesPerNode: heap,
      events: sim.events,
    },
    messages: { failure: summarize(results) },
    timeline,
  };
}
