/**
 * `stable`: the overlay forms, 10 warm-up broadcasts build the tree, then
 * 100 broadcasts from one sender, 100 from a random sender each, and (up to
 * 1,000 nodes) a burst in which every node sends once at the same instant.
 */
import type { MessageResult } from '../metrics.ts';
import { max } from '../metrics.ts';
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

export const STABLE_SPACING_MS = 1_000;
const BURST_MAX_NODES = 1_000;

export function runStable(opts: ScenarioOptions): ScenarioResult {
  const base = startRun();
  const sim = newSim(opts);
  const n = opts.nodes;
  formOverlay(sim, n);
  const wallFormMs = performance.now() - base.wallStart;
  const sender = sim.randomLive();
  const warm = broadcasts(sim, 'warmup', 10, STABLE_SPACING_MS, sender);
  const c0 = snapshot(sim.counts);
  const single = broadcasts(sim, 'single', 100, STABLE_SPACING_MS, sender);
  sim.runUntil(sim.now + 10_000);
  const wallSingleMs = performance.now() - base.wallStart;
  const everyone = (node: number) => sim.isAlive(node);
  const fin = (ids: string[]): MessageResult[] => ids.map((id) => sim.tracker.finalize(id, everyone));
  fin(warm);
  const singleRes = fin(single);
  const p99 = sim.tracker.latencyPercentile('single', 0.99);
  const heap = heapPerNode(base, n);

  const random = broadcasts(sim, 'random', 100, STABLE_SPACING_MS);
  sim.runUntil(sim.now + 10_000);
  const randomRes = fin(random);
  const p99Random = sim.tracker.latencyPercentile('random', 0.99);

  let burstRes: MessageResult[] = [];
  if (n <= BURST_MAX_NODES && !opts.noBurst) {
    sim.tracker.phase = 'burst';
    const ids = sim
      .liveNodes()
      .slice()
      .map((node) => sim.publish(node, PAYLOAD));
    sim.runUntil(sim.now + 20_000);
    burstRes = fin(ids);
  }
  const control = controlRatio(sim.counts, c0);
  const wallMs = performance.now() - base.wallStart;

  return {
    // Each single-sender figure with its random-sender twin beside it (issue 21: both are headlines).
    figures: {
      reliability: round(meanOf(singleRes, 'reliability'), 6),
      reliabilityRandom: round(meanOf(randomRes, 'reliability'), 6),
      reliabilityMin: round(Math.min(...singleRes.map((r) => r.reliability)), 6),
      reliabilityRandomMin: round(Math.min(...randomRes.map((r) => r.reliability)), 6),
      rmr: round(meanOf(singleRes, 'rmr')),
      rmrRandom: round(meanOf(randomRes, 'rmr')),
      ldhMax: maxOf(singleRes, 'ldh'),
      ldhMaxRandom: maxOf(randomRes, 'ldh'),
      ldhMean: round(meanOf(singleRes, 'ldh'), 2),
      ldhMeanRandom: round(meanOf(randomRes, 'ldh'), 2),
      p99LatencyMs: p99,
      p99LatencyRandomMs: p99Random,
      reliabilityBurst: burstRes.length ? round(meanOf(burstRes, 'reliability'), 6) : null,
      rmrBurst: burstRes.length ? round(meanOf(burstRes, 'rmr')) : null,
      ldhMaxBurst: burstRes.length ? max(burstRes.map((r) => r.ldh)) : null,
      controlRatio: round(control),
      wallFormMs: Math.round(wallFormMs),
      wallSingleMs: Math.round(wallSingleMs),
      wallMs: Math.round(wallMs),
      heapBytesPerNode: heap,
      events: sim.events,
    },
    messages: { single: summarize(singleRes), random: summarize(randomRes), burst: summarize(burstRes) },
  };
}
