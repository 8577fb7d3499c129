/**
 * `byzantine`: the honest overlay forms and warms up, then 10% more nodes
 * join that are attackers (a seeded mix of forgers, droppers, replayers and
 * join flooders, see sim/attackers.ts). After they settle they attack for
 * the rest of the run; 10 s into the attack, random honest nodes broadcast
 * signed messages 1 s apart (100 of them). Honest nodes validate payloads.
 *
 * Measured: reliability of honest broadcasts at honest nodes, forged and
 * repeated deliveries, the honest share of honest nodes' active views
 * (sampled every 5 s through the attack) and passive views, RMR over the
 * payload messages honest nodes sent, LDH at honest nodes.
 *
 * Honest nodes run the node's overlay settings (the defaults, as every scenario) and
 * its driver's ban policy (src/net/gossip/peer-guard.ts with the default
 * penalties); `penalties: false` in the options turns the policy off.
 */
import { ATTACK_KINDS, Attacker, isSigned, signedPayload, type AttackKind, type AttackPlan } from '../attackers.ts';
import { median } from '../metrics.ts';
import type { MessageResult } from '../metrics.ts';
import { formOverlay, meanOf, newSim, round, startRun, summarize, type ScenarioOptions, type ScenarioResult } from './common.ts';

const ATTACKER_SHARE = 0.1;
const MESSAGES = 100;
const SPACING_MS = 1_000;
const SAMPLE_MS = 5_000;

interface Tally {
  delivered: Uint8Array;
  honestPayload: number;
  honestDelivered: number;
  maxHop: number;
}

export function runByzantine(opts: ScenarioOptions & { penalties?: boolean }): ScenarioResult {
  const base = startRun();
  const sim = newSim({
    ...opts,
    sim: {
      penalties: opts.penalties === false ? undefined : {},
      ...opts.sim,
      validate: isSigned,
    },
  });
  const scale = opts.timeScale ?? 1;
  const n = opts.nodes;
  const nAttack = Math.round(n * ATTACKER_SHARE);
  const nHonest = n - nAttack;
  const attacker = new Uint8Array(n);
  const honestIds: number[] = [];

  formOverlay(sim, nHonest);
  for (const id of sim.liveNodes()) honestIds.push(id);

  // Per-message tallies at honest nodes (the tracker counts attackers too).
  const tallies = new Map<string, Tally>();
  let forgedDeliveries = 0,
    repeatDeliveries = 0,
    invalidRejected = 0;
  // The node's store: an operation is stored (and reaches the app) once per
  // hash, so a replay the overlay delivers again is refused there.
  const stored = new Map<string, Uint8Array>();
  let storeRefused = 0,
    appRepeatDeliveries = 0;
  const appDelivered = new Map<string, Uint8Array>();
  sim.onSend = (from, _to, m) => {
    if (m.type !== 'gossip' || attacker[from] === 1) return;
    const t = tallies.get(m.id);
    if (t) t.honestPayload++;
  };
  sim.onEmit = (node, ev) => {
    if (attacker[node] === 1) return;
    if (ev.type === 'invalid') invalidRejected++;
    if (ev.type !== 'deliver') return;
    if (!isSigned(ev.payload)) forgedDeliveries++;
    else {
      const hash = Buffer.from(ev.payload).toString('base64');
      let held = stored.get(hash);
      if (!held) stored.set(hash, (held = new Uint8Array(n)));
      if (held[node] === 1) storeRefused++;
      else {
        held[node] = 1;
        // What the app saw, by broadcast id: a second app delivery of one id would count here.
        let seen = appDelivered.get(ev.id);
        if (!seen) appDelivered.set(ev.id, (seen = new Uint8Array(n)));
        if (seen[node] === 1) appRepeatDeliveries++;
        seen[node] = 1;
      }
    }
    const t = tallies.get(ev.id);
    if (!t) return;
    if (t.delivered[node] === 1) {
      repeatDeliveries++;
      return;
    }
    t.delivered[node] = 1;
    t.honestDelivered++;
    if (ev.hop > t.maxHop) t.maxHop = ev.hop;
  };
  let seq = 0;
  const publish = (): string => {
    const origin = honestIds[sim.rng.int(honestIds.length)];
    const payload = signedPayload(origin, seq++);
    const id = sim.publish(origin, payload);
    const delivered = new Uint8Array(n);
    delivered[origin] = 1;
    // The origin's store holds what it published.
    const held = new Uint8Array(n);
    held[origin] = 1;
    stored.set(Buffer.from(payload).toString('base64'), held);
    tallies.set(id, { delivered, honestPayload: 0, honestDelivered: 1, maxHop: 0 });
    return id;
  };
  const broadcastEvery = (count: number, phase: string): string[] => {
    sim.tracker.phase = phase;
    const ids: string[] = [];
    const start = sim.now;
    for (let k = 0; k < count; k++) {
      sim.runUntil(start + k * SPACING_MS);
      ids.push(publish());
    }
    sim.runUntil(start + count * SPACING_MS);
    return ids;
  };
  const warm = broadcastEvery(10, 'warmup');

  // The attackers join, through three random honest nodes each, 20 ms apart.
  const plan: AttackPlan = {
    startAt: sim.now + nAttack * 20 + 5_000,
    tickMs: 1_000,
    attackers: [],
    isAttacker: (node) => attacker[node] === 1,
    randomHonest: (rng) => honestIds[rng.int(honestIds.length)],
    victimsPerTick: 20,
  };
  const kinds: AttackKind[] = [];
  for (let i = 0; i < nAttack; i++) kinds.push(ATTACK_KINDS[i % ATTACK_KINDS.length]);
  const joinStart = sim.now;
  for (let i = 0; i < nAttack; i++) {
    sim.runUntil(joinStart + i * 20);
    const contacts = [0, 1, 2].map(() => honestIds[sim.rng.int(honestIds.length)]);
    const kind = kinds[i];
    const id = sim.addNode(contacts, (nodeId, rng, s) => new Attacker(nodeId, kind, rng, { hyparview: s.config.hyparview, plumtree: s.config.plumtree }, plan));
    attacker[id] = 1;
    plan.attackers.push(id);
  }
  sim.runUntil(plan.startAt + 10_000 * scale);

  // The measured phase, with view samples every 5 s.
  const samples: ViewSample[] = [sampleViews(sim, honestIds, attacker)];
  sim.tracker.phase = 'attack';
  const ids: string[] = [];
  const t0 = sim.now;
  const count = Math.max(10, Math.round(MESSAGES * scale));
  for (let k = 0; k < count; k++) {
    sim.runUntil(t0 + k * SPACING_MS);
    if (k > 0 && (k * SPACING_MS) % SAMPLE_MS === 0) samples.push(sampleViews(sim, honestIds, attacker));
    ids.push(publish());
  }
  sim.runUntil(t0 + count * SPACING_MS + 10_000);
  samples.push(sampleViews(sim, honestIds, attacker));

  const honestAlive = (node: number) => attacker[node] === 0 && sim.isAlive(node);
  for (const id of warm) sim.tracker.finalize(id, honestAlive);
  const results: MessageResult[] = ids.map((id) => sim.tracker.finalize(id, honestAlive));
  const rmrs: number[] = [],
    ldhs: number[] = [];
  for (const id of ids) {
    const t = tallies.get(id) as Tally;
    rmrs.push(t.honestDelivered > 1 ? t.honestPayload / (t.honestDelivered - 1) - 1 : 0);
    ldhs.push(t.maxHop);
  }
  const last = samples[samples.length - 1];
  return {
    figures: {
      attackers: nAttack,
      reliability: round(meanOf(results, 'reliability'), 6),
      reliabilityMin: round(Math.min(...results.map((r) => r.reliability)), 6),
      forgedDeliveries,
      repeatDeliveries,
      storeRefused,
      appRepeatDeliveries,
      bans: sim.bans.total,
      honestBanned: sim.bans.ofGuarded,
      invalidRejected,
      activeHonestMin: round(Math.min(...samples.map((s) => s.activeHonestMin))),
      activeHonestMedian: round(last.activeHonestMedian),
      noMajorityNodesMax: Math.max(...samples.map((s) => s.noMajority)),
      noMajorityNodesMean: round(mean(samples.map((s) => s.noMajority)), 2),
      // The same for views of the same sizes filled uniformly at random (what membership alone can hope for).
      noMajorityUniformMean: round(mean(samples.map((s) => s.noMajorityUniform)), 2),
      activeAttackerShare: round(sumOf(samples, 'attackerLinks') / Math.max(1, sumOf(samples, 'links'))),
      isolatedMax: Math.max(...samples.map((s) => s.isolated)),
      activeSizeMean: round(last.activeSizeMean, 3),
      passivePollutionMean: round(last.passivePollutionMean),
      passivePollutionMax: round(Math.max(...samples.map((s) => s.passivePollutionMax))),
      rmr: round(mean(rmrs)),
      ldhMax: Math.max(...ldhs),
      ldhMean: round(mean(ldhs), 2),
      p99LatencyMs: sim.tracker.latencyPercentile('attack', 0.99),
      membershipMessages: sim.counts.membership,
      wallMs: Math.round(performance.now() - base.wallStart),
      events: sim.events,
    },
    messages: { attack: summarize(results) },
    timeline: samples.map((s) => ({
      t: s.t - t0,
      activeHonestMin: round(s.activeHonestMin) as number,
      noMajority: s.noMajority,
      noMajorityUniform: round(s.noMajorityUniform, 2) as number,
      isolated: s.isolated,
      passivePollutionMean: round(s.passivePollutionMean) as number,
    })),
  };
}

interface ViewSample {
  t: number;
  activeHonestMin: number;
  activeHonestMedian: number;
  noMajority: number;
  /** Expected `noMajority` if each view, at its size, held uniformly random peers. */
  noMajorityUniform: number;
  isolated: number;
  /** Active links of honest nodes, and how many of them go to attackers. */
  links: number;
  attackerLinks: number;
  activeSizeMean: number;
  passivePollutionMean: number;
  passivePollutionMax: number;
}

/** Honest share of each honest node's active view; attacker share of its passive view. */
function sampleViews(sim: ReturnType<typeof newSim>, honestIds: number[], attacker: Uint8Array): ViewSample {
  const shares: number[] = [],
    pollution: number[] = [];
  let noMajority = 0,
    isolated = 0,
    activeTotal = 0,
    noMajorityUniform = 0,
    attackerLinks = 0;
  const q = attackerCount(attacker) / (attacker.length - 1);
  for (const id of honestIds) {
    const o = sim.overlay(id);
    if (!o) continue;
    const active = o.activeView(),
      passive = o.passiveView();
    let good = 0;
    for (const p of active) if (attacker[p] === 0) good++;
    activeTotal += active.length;
    attackerLinks += active.length - good;
    if (active.length === 0) isolated++;
    shares.push(active.length === 0 ? 0 : good / active.length);
    if (good * 2 <= active.length || active.length === 0) noMajority++;
    noMajorityUniform += pNoMajority(active.length, q);
    let bad = 0;
    for (const p of passive) if (attacker[p] === 1) bad++;
    pollution.push(passive.length === 0 ? 0 : bad / passive.length);
  }
  return {
    t: sim.now,
    activeHonestMin: Math.min(...shares),
    activeHonestMedian: median(shares) ?? 0,
    noMajority,
    noMajorityUniform,
    isolated,
    links: activeTotal,
    attackerLinks,
    activeSizeMean: activeTotal / Math.max(1, shares.length),
    passivePollutionMean: mean(pollution),
    passivePollutionMax: Math.max(...pollution),
  };
}

function sumOf(samples: ViewSample[], key: 'links' | 'attackerLinks'): number {
  let s = 0;
  for (const x of samples) s += x[key];
  return s;
}

function attackerCount(attacker: Uint8Array): number {
  let k = 0;
  for (const a of attacker) k += a;
  return k;
}

/** P(at least half of k uniformly random peers are attackers), attacker share q. */
function pNoMajority(k: number, q: number): number {
  if (k === 0) return 1;
  let p = 0;
  for (let bad = Math.ceil(k / 2); bad <= k; bad++) p += binomial(k, bad) * q ** bad * (1 - q) ** (k - bad);
  return p;
}

function binomial(n: number, k: number): number {
  let c = 1;
  for (let i = 1; i <= k; i++) c = (c * (n - k + i)) / i;
  return c;
}

function mean(xs: number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return xs.length === 0 ? 0 : s / xs.length;
}
