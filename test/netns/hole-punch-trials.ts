/**
 * DCUtR hole punching across two NATs, counted over trials (nat-scenario.ts
 * builds the networks). Each trial starts a fresh B behind NAT 2 with a dial
 * port (every TCP dial from one local port, src/net/transport/hole-punch.ts),
 * so no TIME_WAIT of an earlier trial's connection stands in the way; B dials
 * both relays, whose identify answers tell it its outside address; A, behind
 * NAT 1, dials B through a relay; B's DCUtR then tries the upgrade (up to 3
 * CONNECT/SYNC rounds, each a TCP simultaneous open from both dial ports). A trial ends when A holds a direct connection to B or
 * B's DCUtR has given up. The outcome of each trial and the DCUtR log lines
 * of failures are printed; the rate is reported (nat-scenario.ts asserts
 * only that some trial upgraded).
 * Measured: docs/network-breaks.md.
 */
import type { TestContext } from 'node:test';
import { LabNode } from './lab-node.ts';
import type { Lab } from './netns.ts';

export interface TrialSetup {
  lab: Lab;
  /** B's namespace (behind NAT 2) and NAT 2's outside address. */
  homeB: string;
  outsideB: string;
  /** A, behind NAT 1, started with a dial port. */
  a: LabNode;
  relays: string[];
  topic: string;
}

export interface TrialOutcome {
  upgraded: boolean;
  /** Why not, in one line: which step failed and the last DCUtR log lines. */
  reason?: string;
}

const DCUTR_DEBUG = { DEBUG: process.env.NETNS_DEBUG ?? 'libp2p:dcutr*' };
/** DCUtR's last words on B: the upgrade succeeded or every round failed. */
const B_DONE = /DCUtR to \S+ succeeded|attempt 3 of 3|unilateral connection upgrade to \S+ succeeded/;

const circuit = (n: LabNode) => n.addresses().find((x) => x.includes('/p2p-circuit'));
const outside = (n: LabNode, ip: string) =>
  n.lines.findLast((l) => l.type === 'outside')?.addresses?.find((x: string) => x.startsWith(`/ip4/${ip}/tcp/`)) as string | undefined;

function dcutrLines(n: LabNode): string[] {
  return n.stderr
    .join('')
    .split('\n')
    .filter((l) => /dcutr/.test(l))
    .map((l) => l.replace(/^\S+\s+/, '').slice(0, 240));
}

/** Waits until both relays told `n` the same outside address (hole-punch.ts takes it then) and it holds a reservation. */
export async function learnOutside(n: LabNode, relays: string[], ip: string): Promise<string> {
  for (const addr of relays) n.send({ cmd: 'dial', addr });
  await n.waitFor(() => outside(n, ip) !== undefined && circuit(n) !== undefined, 60_000, `an outside address ${ip} and a relay reservation`);
  return outside(n, ip)!;
}

/** What the relays said they see of `n`: one address per relay, once both answered. */
function observedByRelays(n: LabNode, relays: string[]): string[] | undefined {
  const byRelay = relays.map((r) => n.lines.findLast((l) => l.type === 'observed' && r.startsWith(String(l.by).replace(/\/p2p\/.*$/, '')))?.addr as string | undefined);
  return byRelay.every((a) => a !== undefined) ? (byRelay as string[]) : undefined;
}

/** A trial's B: a node with a dial port in `homeB` (B0 of nat-scenario.ts listens on 4001 there). */
export function startPunchB(lab: Lab, homeB: string, relays: string[], topic: string, name: string): Promise<LabNode> {
  return LabNode.child(lab, homeB, name, { topic, listen: ['/ip4/0.0.0.0/tcp/4002'], relays, dialPort: 0 }, DCUTR_DEBUG);
}

/** One trial; `started` is its B when already started (the first trial's starts with A). */
export async function holePunchTrial(t: TestContext, setup: TrialSetup, trial: number, started?: LabNode): Promise<TrialOutcome> {
  const { lab, homeB, outsideB, a, relays, topic } = setup;
  const b = started ?? (await startPunchB(lab, homeB, relays, topic, `punch-B${trial + 1}`));
  try {
    for (const addr of relays) b.send({ cmd: 'dial', addr });
    // Both relays have answered identify (and B holds a reservation): B has its outside address, or never will.
    await b.waitFor(
      () => circuit(b) !== undefined && (outside(b, outsideB) !== undefined || observedByRelays(b, relays) !== undefined),
      60_000,
      'both relays to tell B what they see, and a reservation',
    );
    await b.waitFor(() => outside(b, outsideB) !== undefined, 2_000, 'an outside address').catch(() => undefined);
    const known =
      outside(b, outsideB) ??
      `none (the relays see B at ${observedByRelays(b, relays)
        ?.map((x) => x.replace(/\/p2p\/.*$/, ''))
        .join(' and ')})`;
    const mark = a.lines.length;
    const aLog = dcutrLines(a).length;
    a.send({ cmd: 'dial', addr: circuit(b)! });
    await a.waitFor((l) => l.type === 'conn' && l.event === 'open' && l.peer === b.peerId && l.relayed, 30_000, 'a relayed connection to B', mark);
    const direct = (l: { type: string; event?: string; peer?: string; relayed?: boolean }) =>
      l.type === 'conn' && l.event === 'open' && l.peer === b.peerId && !l.relayed;
    // Whichever comes first: a direct connection, or B's DCUtR giving up (bounded by DCUtR's own timeouts).
    await Promise.race([
      a.waitFor(direct, 60_000, 'a direct connection to B', mark),
      b.waitFor(() => B_DONE.test(b.stderr.join('')), 60_000, "B's DCUtR to finish"),
    ]).catch(() => undefined);
    // A direct connection may open just after B's last log line: one more look.
    await a.waitFor(direct, 2_000, 'a direct connection to B', mark).catch(() => undefined);
    const upgraded = a.lines.slice(mark).some(direct);
    t.diagnostic(`trial ${trial + 1}: B's outside address ${known}: ${upgraded ? 'upgraded to a direct connection' : 'stayed relayed'}`);
    if (upgraded) return { upgraded };
    return { upgraded, reason: `B's outside address ${known}; B: ${JSON.stringify(dcutrLines(b).slice(-4))}; A: ${JSON.stringify(dcutrLines(a).slice(aLog).slice(-4))}` };
  } finally {
    await b.kill('SIGKILL');
  }
}
