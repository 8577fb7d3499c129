/**
 * `nodes`: whole `Node`s (overlay, sync, the node's inbound path and
 * ordering, a MemoryStore each) over a `MemoryNetwork` on a virtual clock:
 * 10-100 ms links, 20% of segments lost (and retransmitted, as TCP would),
 * a 50/50 partition that heals, 30% churn (as many nodes crash as new ones
 * join, which start empty), and every node writing to one LWW map.
 *
 * Timeline (scaled by --time-scale): nodes join 50 ms apart, each through a
 * random node already in (a newcomer of the churn through three); 10 s to settle; then a writing phase of 60 s in
 * which each node writes twice at random instants (a key out of 64), the
 * churn happens at random instants, and the network is split from 15 s to
 * 45 s into it. The writing phase ends, and the partition heals, at 60 s.
 * Convergence: every surviving node holds the same log heights and builds
 * the same map (tombstones and winning hashes included); checked every
 * second after the heal, for at most 5 minutes.
 */
import { PrivateKey, topicId } from '../../src/core/index.ts';
import { mixSeed, SplitMix32 } from '../../src/net/membership/random.ts';
import { MemoryNetwork } from '../../src/net/transport/memory-network.ts';
import { Node, type LiveMap } from '../../src/node/index.ts';
import { inlineVerifier } from '../../src/node/inbound/index.ts';
import { VirtualClock } from '../virtual-clock.ts';
import { round, type ScenarioOptions, type ScenarioResult } from './common.ts';

const TOPIC = 'sim/shared-map';
const JOIN_SPACING_MS = 50;
const SETTLE_MS = 10_000;
const WRITE_PHASE_MS = 60_000;
const SPLIT_FROM_MS = 15_000;
const SPLIT_UNTIL_MS = 45_000;
const WRITES_PER_NODE = 2;
const KEYS = 64;
const CHURN = 0.3;
const CHECK_MS = 1_000;
const MAX_AFTER_HEAL_MS = 300_000;

interface SimNode {
  index: number;
  id: string;
  node: Node;
  topic: Uint8Array;
  map: LiveMap<string>;
  alive: boolean;
  writes: number;
}

export interface NodesOptions extends ScenarioOptions {
  lossRate?: number;
}

export async function runNodes(opts: NodesOptions): Promise<ScenarioResult> {
  const wallStart = performance.now();
  const seed = opts.seed;
  const scale = opts.timeScale ?? 1;
  const clock = new VirtualClock();
  const net = new MemoryNetwork(clock.runtime(mixSeed(seed, 0x6e)), { seed, latencyMinMs: 10, latencyMaxMs: 100, lossRate: opts.lossRate ?? 0.2 });
  const rng = new SplitMix32(mixSeed(seed, 0x40de5));
  const nodes: SimNode[] = [];
  const live = () => nodes.filter((n) => n.alive);
  let operations = 0;

  const spawn = async (contacts: SimNode[]): Promise<SimNode> => {
    const index = nodes.length;
    const privateKey = PrivateKey.fromBytes(new VirtualClock().runtime(mixSeed(seed, index, 0x6b)).randomBytes(32));
    const id = privateKey.publicKey.toHex();
    const node = await Node.create({
      privateKey,
      transport: net.transport(id),
      runtime: clock.runtime(mixSeed(seed, index, 2)),
      verifier: inlineVerifier,
      networkId: 'walkaway-sim',
      bootstrap: contacts.map((c) => `/memory/${c.id}`),
    });
    // Every node shares one LWW map: the node's live view of the topic.
    const sim: SimNode = { index, id, node, topic: topicId(TOPIC), map: node.map<string>(TOPIC), alive: true, writes: 0 };
    nodes.push(sim);
    return sim;
  };

  const write = (sim: SimNode) => {
    if (!sim.alive) return;
    const key = `k${rng.int(KEYS)}`;
    sim.writes++;
    operations++;
    void sim.map.set(key, `${sim.index}:${sim.writes}`).catch(() => {});
  };

  const crash = async (sim: SimNode) => {
    if (!sim.alive) return;
    sim.alive = false;
    await sim.node.transport.stop(); // a crash: connections reset, nothing said
    await sim.node.close();
  };

  // Nodes join one after another, each through a random node already in.
  for (let i = 0; i < opts.nodes; i++) {
    await clock.runUntil(i * JOIN_SPACING_MS);
    const others = live();
    await spawn(others.length ? [others[rng.int(others.length)]] : []);
  }
  await clock.runUntil(clock.now + SETTLE_MS * scale);

  // The writing phase: writes, crashes and joins at random instants; the split in the middle.
  const t0 = clock.now;
  const phase = WRITE_PHASE_MS * scale;
  // A slot names a node: a newcomer's is filled when it joins (its writes come after).
  type Slot = { sim?: SimNode };
  type Step = { t: number; kind: 'crash' | 'heal' | 'join' | 'split' | 'write'; slot?: Slot };
  const steps: Step[] = [];
  for (const sim of nodes) for (let k = 0; k < WRITES_PER_NODE; k++) steps.push({ t: t0 + rng.next() * phase, kind: 'write', slot: { sim } });
  const churned = Math.round(opts.nodes * CHURN);
  const victims = [...nodes];
  for (let i = 0; i < churned; i++) {
    const j = i + rng.int(victims.length - i);
    [victims[i], victims[j]] = [victims[j], victims[i]];
    steps.push({ t: t0 + rng.next() * phase, kind: 'crash', slot: { sim: victims[i] } });
    const slot: Slot = {};
    const joinAt = t0 + rng.next() * phase;
    steps.push({ t: joinAt, kind: 'join', slot });
    for (let k = 0; k < WRITES_PER_NODE; k++) steps.push({ t: joinAt + rng.next() * (t0 + phase - joinAt), kind: 'write', slot });
  }
  steps.push({ t: t0 + SPLIT_FROM_MS * scale, kind: 'split' }, { t: t0 + SPLIT_UNTIL_MS * scale, kind: 'heal' });
  steps.sort((a, b) => a.t - b.t || a.kind.localeCompare(b.kind));
  const side = new Map<string, number>();
  for (const step of steps) {
    await clock.runUntil(step.t);
    if (step.kind === 'write') {
      if (step.slot?.sim) write(step.slot.sim);
    } else if (step.kind === 'crash') await crash(step.slot!.sim!);
    else if (step.kind === 'join') {
      // A newcomer knows three nodes (any may have crashed, or be across the split).
      const others = live();
      step.slot!.sim = await spawn([0, 1, 2].map(() => others[rng.int(others.length)]));
    } else if (step.kind === 'split') {
      for (const sim of nodes) side.set(sim.id, rng.int(2));
      net.partition((peer) => side.get(peer) ?? 0);
    } else {
      net.heal();
    }
  }
  await clock.runUntil(t0 + phase);
  // The split healed at SPLIT_UNTIL; the last writes went out at the end of the phase.
  const healedAt = t0 + SPLIT_UNTIL_MS * scale;
  const endOfWrites = clock.now;

  let convergedAt: number | null = null;
  for (let t = endOfWrites; t <= endOfWrites + MAX_AFTER_HEAL_MS; t += CHECK_MS) {
    await clock.runUntil(t);
    if (agree(live())) {
      convergedAt = t;
      break;
    }
  }
  const survivors = live();
  if (process.env.SIM_DEBUG) {
    const groups = new Map<string, number>();
    for (const sim of survivors) groups.set(fingerprint(sim), (groups.get(fingerprint(sim)) ?? 0) + 1);
    console.error(`distinct states: ${[...groups.values()].join(' ')}; components ${components(survivors)}`);
    for (const sim of survivors) {
      const hs = sim.node.store.heights(sim.topic);
      const st = sim.node.stats();
      console.error(
        `${sim.index} ${sim.id.slice(0, 6)} logs ${hs.length} ops ${hs.reduce((a, h) => a + h.seqNum + 1, 0)} map ${sim.map.size} active ${sim.node.neighbors(sim.topic).active.length} peers ${sim.node.peers().length} sync ${st.syncSessions} ${JSON.stringify(st.memory.sync)}`,
      );
    }
  }
  const traffic = [...net.traffic.values()];
  const bytes = traffic.reduce((s, c) => s + c.bytes, 0);
  const retransmissions = traffic.reduce((s, c) => s + c.retransmissions, 0);
  const heights = survivors[0]?.node.store.heights(survivors[0].topic) ?? [];
  const held = heights.reduce((s, h) => s + h.seqNum + 1, 0);
  const result: ScenarioResult = {
    figures: {
      converged: convergedAt === null ? 0 : 1,
      convergenceMs: convergedAt === null ? null : Math.round(convergedAt - healedAt),
      convergenceAfterLastWriteMs: convergedAt === null ? null : Math.round(convergedAt - endOfWrites),
      nodesEver: nodes.length,
      survivors: survivors.length,
      operations,
      operationsHeld: held,
      logs: heights.length,
      mapKeys: survivors[0]?.map.size ?? 0,
      bytesSent: bytes,
      bytesPerNodePerOperation: round(bytes / nodes.length / Math.max(1, operations), 1),
      retransmissions,
      virtualMs: Math.round(clock.now),
      events: clock.events,
      wallMs: Math.round(performance.now() - wallStart),
    },
    messages: {},
    summary: { converged: convergedAt !== null },
  };
  for (const sim of survivors) await sim.node.close();
  return result;
}

/** Connected components of the survivors' active views (debugging). */
function components(nodes: SimNode[]): number {
  const ids = new Map(nodes.map((n, i) => [n.id, i]));
  const parent = nodes.map((_, i) => i);
  const find = (x: number): number => (parent[x] === x ? x : (parent[x] = find(parent[x])));
  for (const [i, n] of nodes.entries()) {
    for (const peer of n.node.neighbors(n.topic).active) {
      const j = ids.get(peer);
      if (j !== undefined) parent[find(i)] = find(j);
    }
  }
  return new Set(nodes.map((_, i) => find(i))).size;
}

/** Do all these nodes hold the same log heights and the same map? */
function agree(nodes: SimNode[]): boolean {
  if (nodes.length === 0) return true;
  const first = fingerprint(nodes[0]);
  return nodes.every((n) => fingerprint(n) === first);
}

function fingerprint(sim: SimNode): string {
  const topic = sim.topic;
  const heights = sim.node.store
    .heights(topic)
    .map((h) => `${h.author.toHex()}:${h.seqNum}`)
    .sort()
    .join(',');
  return `${heights}|${JSON.stringify(sim.map.entries())}`;
}
