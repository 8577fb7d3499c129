/**
 * `partition`: a random 50/50 split for 60 s with broadcasts on both sides
 * every 200 ms, then the split ends and broadcasts go on. No application
 * code helps: the overlay must find the other half by itself. Heal time:
 * from the end of the split until the live overlay is one component again.
 */
import type { MessageResult } from '../metrics.ts';
import {
  broadcasts,
  controlRatio,
  formOverlay,
  heapPerNode,
  meanOf,
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

export function runPartition(opts: ScenarioOptions): ScenarioResult {
  const base = startRun();
  const sim = newSim(opts);
  const n = opts.nodes;
  const scale = opts.timeScale ?? 1;
  const splitMs = 60_000 * scale;
  const afterMs = 30_000 * scale;
  formOverlay(sim, n);
  broadcasts(sim, 'warmup', 10, 1_000, sim.randomLive());

  const side = new Uint8Array(sim.nodeCount);
  const order = sim.liveNodes().slice();
  for (let i = 0; i < order.length; i++) {
    const j = i + sim.rng.int(order.length - i);
    [order[i], order[j]] = [order[j], order[i]];
    side[order[i]] = i < order.length / 2 ? 0 : 1;
  }
  sim.partition((node) => side[node] ?? 0);
  const t0 = sim.now;
  const c0 = snapshot(sim.counts);
  sim.tracker.phase = 'split';
  const during: string[] = [];
  for (let t = t0; t < t0 + splitMs; t += SPACING_MS) {
    sim.runUntil(t);
    during.push(sim.publish(sim.randomLive(), PAYLOAD));
  }
  sim.runUntil(t0 + splitMs);
  const splitHealth = sim.health();
  sim.heal();
  const t1 = sim.now;
  sim.tracker.phase = 'post';
  const post: Array<{ id: string; t: number }> = [];
  let healMs: number | null = null;
  const timeline: Array<{ t: number; isolated: number; components: number }> = [];
  for (let t = t1; ; t += 100) {
    sim.runUntil(t);
    if ((t - t1) % SPACING_MS === 0) post.push({ id: sim.publish(sim.randomLive(), PAYLOAD), t });
    if (healMs === null) {
      const h = sim.health();
      if ((t - t1) % 1000 === 0) timeline.push({ t: t - t1, isolated: h.isolated, components: h.components });
      if (h.components === 1 && h.isolated === 0) healMs = t - t1;
    }
    if (t - t1 >= afterMs && (healMs !== null || t - t1 >= 4 * afterMs)) break;
  }
  sim.runUntil(sim.now + WINDOW_MS);
  // During the split a message is meant for the origin's side only.
  const splitRes: MessageResult[] = during.map((id) => {
    const own = side[sim.tracker.originOf(id)];
    return sim.tracker.finalize(id, (node) => sim.isAlive(node) && side[node] === own);
  });
  const healedAt = healMs === null ? Infinity : t1 + healMs;
  const postRes: MessageResult[] = [];
  const postAll: MessageResult[] = [];
  for (const { id, t } of post) {
    const r = sim.tracker.finalize(id, (node) => sim.isAlive(node));
    postAll.push(r);
    if (t >= healedAt) postRes.push(r);
  }
  return {
    figures: {
      healMs,
      reliability: postRes.length ? round(meanOf(postRes, 'reliability'), 6) : null,
      reliabilityPostSplitAll: round(meanOf(postAll, 'reliability'), 6),
      reliabilitySplit: round(meanOf(splitRes, 'reliability'), 6),
      componentsAtSplitEnd: splitHealth.components,
      rmr: round(meanOf(postRes, 'rmr')),
      controlRatio: round(controlRatio(sim.counts, c0)),
      wallMs: Math.round(performance.now() - base.wallStart),
      heapBytesPerNode: heapPerNode(base, sim.liveCount),
      events: sim.events,
    },
    messages: { split: summarize(splitRes), post: summarize(postAll) },
    timeline,
  };
}
