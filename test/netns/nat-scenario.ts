/**
 * Two nodes behind two different NATs (namespaces, veth cables, Linux
 * netfilter masquerading that keeps ports and drops connections started
 * outside: Lab.nat), two relays on the "internet" between them:
 * `walkaway chat --relay` processes of another topic. The internet side uses
 * 11.99.0.0/24, an address range libp2p counts as public (DCUtR dials only
 * public addresses); the namespaces have no route out, so nothing leaves.
 *
 * 1. DCUtR: A and a fresh B per trial, both with a dial port, connect through
 *    a relay; does the connection become direct? Counted over `attempts`
 *    trials and printed with the reasons of failures (hole-punch-trials.ts);
 *    then `symmetricAttempts` more with B behind a symmetric NAT (home 3).
 * 2. A reaches B0 (no dial port: it stays relayed) only through a relay; the
 *    chat flows.
 * 3. The relay carrying A and B0 is killed mid-conversation: both find the
 *    other relay and each other again, and the conversation goes on.
 *    The time to reconnect is printed (figures: docs/network-breaks.md).
 *
 * Run by nat-relay.test.ts (the suite: one trial, a second if the first
 * failed) and all.netns.ts (`npm run test:netns`: NETNS_ATTEMPTS trials,
 * default 10, and 2 behind a symmetric NAT).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { holePunchTrial, learnOutside, startPunchB } from './hole-punch-trials.ts';
import { LabNode } from './lab-node.ts';
import { Lab } from './netns.ts';

const NETWORK = 'netns-test';
const TOPIC = 'behind-nat';

export interface NatScenarioOptions {
  /** Hole-punch trials with B behind a NAT that keeps ports. */
  attempts: number;
  /** End those trials at the first upgrade (the suite's slice: one trial, a second only if the first failed). */
  untilUpgraded?: boolean;
  /** Trials with B behind a symmetric NAT. */
  symmetricAttempts?: number;
}

export async function natScenario(t: TestContext, { attempts: ATTEMPTS, untilUpgraded = false, symmetricAttempts = 0 }: NatScenarioOptions): Promise<void> {
  const lab = new Lab('nat');
  const dataRoot = mkdtempSync(join(tmpdir(), 'walkaway-netns-'));
  t.after(() => {
    lab.cleanup();
    rmSync(dataRoot, { recursive: true, force: true });
  });
  try {
    // The internet: one switch; two relays and the outside of two home routers on it.
    const inet = lab.host('inet');
    const sw = lab.bridge(inet, 'sw');
    const plug = (ns: string, address: string) => lab.plug(inet, lab.cable(ns, address, inet, undefined)[1], sw);
    const r1ns = lab.host('r1');
    const r2ns = lab.host('r2');
    plug(r1ns, '11.99.0.2/24');
    plug(r2ns, '11.99.0.3/24');
    // Homes 1 and 2: NATs that keep ports (home routers); home 3: a symmetric NAT.
    const homes = [1, 2, 3].map((n) => {
      const router = lab.host(`nat${n}`);
      const outside = lab.cable(router, `11.99.0.1${n}/24`, inet, undefined);
      lab.plug(inet, outside[1], sw);
      const host = lab.host(`home${n}`);
      lab.cable(router, `192.168.${n}.1/24`, host, `192.168.${n}.2/24`);
      lab.route(host, `192.168.${n}.1`);
      lab.nat(router, outside[0], n === 3 ? 'random-ports' : 'keeps-ports');
      return host;
    });

    const relayArgs = (n: number) => [
      'chat',
      'relays-lobby',
      '--json',
      '--no-mdns',
      '--relay',
      '--port',
      '4001',
      '--network',
      NETWORK,
      '--name',
      `relay${n}`,
      '--data',
      join(dataRoot, `r${n}`),
    ];
    const [r1, r2] = await Promise.all([LabNode.cli(lab, r1ns, 'relay1', relayArgs(1)), LabNode.cli(lab, r2ns, 'relay2', relayArgs(2))]);
    const relayAddress = (r: LabNode, ip: string) => `/ip4/${ip}/tcp/4001/p2p/${r.peerId}`;
    const relays = [relayAddress(r1, '11.99.0.2'), relayAddress(r2, '11.99.0.3')];
    const options = { topic: TOPIC, listen: ['/ip4/0.0.0.0/tcp/4001'], relays };
    // The first trial's B starts with A and B0.
    const [a, b, firstB] = await Promise.all([
      LabNode.child(lab, homes[0], 'A', { ...options, dialPort: 0 }, { DEBUG: process.env.NETNS_DEBUG ?? 'libp2p:dcutr*' }),
      LabNode.child(lab, homes[1], 'B0', options),
      startPunchB(lab, homes[1], relays, TOPIC, 'punch-B1'),
    ]);
    const circuit = (n: LabNode) => n.addresses().find((x) => x.includes('/p2p-circuit'));
    await Promise.all([learnOutside(a, relays, '11.99.0.11'), b.waitFor(() => circuit(b) !== undefined, 30_000, 'a relay reservation')]);

    // A cannot reach B0's own address: B0's router drops what starts outside (checked after the trials, which run meanwhile).
    const directAddr = `/ip4/11.99.0.12/tcp/4001/p2p/${b.peerId}`;
    a.send({ cmd: 'dial', addr: directAddr });

    // 1: hole punching, one fresh B per trial.
    const trials = async (attempts: number, homeB: string, outsideB: string, nat: string, first?: LabNode) => {
      let upgraded = 0;
      let tried = 0;
      const reasons: string[] = [];
      while (tried < attempts && !(untilUpgraded && upgraded > 0)) {
        const outcome = await holePunchTrial(t, { lab, homeB, outsideB, a, relays, topic: TOPIC }, tried, tried === 0 ? first : undefined);
        tried++;
        if (outcome.upgraded) upgraded++;
        else reasons.push(`trial ${tried}: ${outcome.reason}`);
      }
      t.diagnostic(`DCUtR upgrades, A behind a NAT that keeps ports, B behind ${nat}: ${upgraded}/${tried}`);
      for (const reason of reasons.slice(-3)) t.diagnostic(reason);
      return upgraded;
    };
    // Asserted: that hole punching works here at all (not its rate, which is reported).
    const upgraded = await trials(ATTEMPTS, homes[1], '11.99.0.12', 'a NAT that keeps ports', firstB);
    assert.ok(upgraded > 0, `no hole punch succeeded in ${ATTEMPTS} trials behind NATs that keep ports`);
    if (symmetricAttempts > 0) {
      const through = await trials(symmetricAttempts, homes[2], '11.99.0.13', 'a symmetric NAT (a random port per connection)');
      assert.equal(through, 0, 'behind a symmetric NAT the relays see two ports, so B learns no outside address');
    }

    const direct = await a.waitFor(
      (l) => (l.type === 'dial-failed' && l.addr === directAddr) || (l.type === 'dialled' && String(l.addr).startsWith('/ip4/11.99.0.12/tcp/4001')),
      60_000,
      'the direct dial to B0 to end',
    );
    assert.equal(direct.type, 'dial-failed', 'B0 cannot be dialed behind its NAT');

    // 2: A and B0, through a relay.
    const mark0 = a.lines.length;
    a.send({ cmd: 'dial', addr: circuit(b)! });
    await a.waitFor((l) => l.type === 'conn' && l.event === 'open' && l.peer === b.peerId && l.relayed, 30_000, 'a relayed connection to B0', mark0);

    // The conversation, through whatever connection A and B have now.
    a.send({ cmd: 'publish', text: 'a1: hello from behind NAT 1' });
    b.send({ cmd: 'publish', text: 'b1: hello from behind NAT 2' });
    await Promise.all([a.waitForTexts(['b1: hello from behind NAT 2'], 60_000), b.waitForTexts(['a1: hello from behind NAT 1'], 60_000)]);

    // 3: kill the relay that carries A and B, mid-conversation.
    a.send({ cmd: 'connections' });
    const conns = await a.waitFor((l) => l.type === 'connections', 10_000, 'connections', a.lines.length);
    const carrying = (conns.connections as { peer: string; addr: string; relayed: boolean }[]).find((c) => c.peer === b.peerId && c.relayed);
    assert.ok(carrying, `A reaches B0 through a relay: ${JSON.stringify(conns.connections)}`);
    const [victim, survivor] = carrying.addr.includes(r1.peerId) ? [r1, r2] : [r2, r1];
    const mark = a.lines.length;
    const markB = b.lines.length;
    const killedAt = performance.now();
    await victim.kill('SIGKILL');
    a.send({ cmd: 'publish', text: 'a2: written after the relay died' });
    b.send({ cmd: 'publish', text: 'b2: written after the relay died' });
    const back = await a.waitFor((l) => l.type === 'conn' && l.event === 'open' && l.peer === b.peerId, 60_000, 'A to reach B again', mark);
    await Promise.all([a.waitForTexts(['b2: written after the relay died'], 60_000), b.waitForTexts(['a2: written after the relay died'], 60_000)]);
    const delivered = performance.now();
    assert.ok(back.addr.includes(survivor.peerId) || !back.relayed, `A reached B through the other relay: ${back.addr}`);
    const bBack = b.lines.slice(markB).find((l) => l.type === 'conn' && l.event === 'open' && l.peer === a.peerId);
    t.diagnostic(
      `relay killed: A reached B again after ${Math.round(back.seenAt - killedAt)} ms (${back.relayed ? 'through the other relay' : 'directly'}), ` +
        `B saw A after ${bBack ? Math.round(bBack.seenAt - killedAt) : '?'} ms, both messages delivered after ${Math.round(delivered - killedAt)} ms`,
    );
  } finally {
    lab.cleanup();
  }
}
