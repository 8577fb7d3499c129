/** Shared steps of the scenarios: forming the overlay, broadcasting, measuring. */
import { mean, max, type MessageResult } from '../metrics.ts';
import { Simulator, type SimConfig, type MessageCounts } from '../network.ts';
import { heapUsedAfterGc } from '../memory.ts';

export interface ScenarioOptions {
  nodes: number;
  seed: number;
  /** Fraction of nodes to crash (failure scenario). */
  fail?: number;
  /** Scales scenario durations down (tests); 1 = as specified. */
  timeScale?: number;
  /** Stable scenario: leave out the burst phase. */
  noBurst?: boolean;
  sim?: Partial<SimConfig>;
}

/** Figures are numbers or null (not measured); detail is nested below them. */
export interface ScenarioResult {
  figures: Record<string, number | null>;
  messages: Record<string, { reliability: number[]; rmr: number[]; ldh: number[] }>;
  timeline?: Array<Record<string, number>>;
  /** Top-level fields of the JSON beside the figures (e.g. `converged: true`). */
  summary?: Record<string, unknown>;
}

export const PAYLOAD = new Uint8Array(64);

export interface Baseline {
  wallStart: number;
  heapBase: number;
}

export function startRun(): Baseline {
  return { heapBase: heapUsedAfterGc(), wallStart: performance.now() };
}

export function heapPerNode(base: Baseline, nodes: number): number {
  return Math.max(0, Math.round((heapUsedAfterGc() - base.heapBase) / nodes));
}

/**
 * Nodes join one after another, each through a random node already in, then
 * the overlay settles. Returns the time at which it is formed.
 */
export function formOverlay(sim: Simulator, n: number, settleMs = 5_000): number {
  const spacing = n <= 2_000 ? 10 : 2;
  for (let i = 0; i < n; i++) {
    sim.runUntil(i * spacing);
    sim.addNode(i === 0 ? [] : [sim.randomLive()]);
  }
  const formed = (n - 1) * spacing + settleMs;
  sim.runUntil(formed);
  return formed;
}

/** `count` broadcasts `spacingMs` apart from `origin` (or a random live node). */
export function broadcasts(sim: Simulator, phase: string, count: number, spacingMs: number, origin?: number): string[] {
  sim.tracker.phase = phase;
  const ids: string[] = [];
  const start = sim.now;
  for (let k = 0; k < count; k++) {
    sim.runUntil(start + k * spacingMs);
    ids.push(sim.publish(origin ?? sim.randomLive(), PAYLOAD));
  }
  sim.runUntil(start + count * spacingMs);
  return ids;
}

export function summarize(results: MessageResult[]): { reliability: number[]; rmr: number[]; ldh: number[] } {
  return {
    reliability: results.map((r) => round(r.reliability, 6) as number),
    rmr: results.map((r) => round(r.rmr, 4) as number),
    ldh: results.map((r) => r.ldh),
  };
}

export function meanOf(results: MessageResult[], key: 'reliability' | 'rmr' | 'ldh'): number | null {
  return mean(results.map((r) => r[key]));
}

export function maxOf(results: MessageResult[], key: 'reliability' | 'rmr' | 'ldh'): number | null {
  return max(results.map((r) => r[key]));
}

export function snapshot(c: MessageCounts): MessageCounts {
  return { ...c };
}

/** (IHAVE + GRAFT + PRUNE) / payload messages since `before`. */
export function controlRatio(now: MessageCounts, before: MessageCounts): number | null {
  const payload = now.gossip - before.gossip;
  const control = now.ihave - before.ihave + now.graft - before.graft + now.prune - before.prune;
  return payload === 0 ? null : control / payload;
}

export function round(x: number | null, digits = 4): number | null {
  if (x === null || !Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export function newSim(opts: ScenarioOptions): Simulator {
  return new Simulator({ ...opts.sim, seed: opts.seed });
}
