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
 *    trials and printed with the reasons of failures (hole-punch-trials.ts).
 * 2. A reaches B0 (no dial port: it stays relayed) only through a relay; the
 *    chat flows.
 * 3. The relay carrying A and B0 is killed mid-conversation: both find the
 *    other relay and each other again, and the conversation goes on.
 *    The time to reconnect is printed (figures: docs/network-breaks.md).
 *
 * Run by nat-relay.test.ts (the suite: one trial) and all.netns.ts
 * (`npm run test:netns`: NETNS_ATTEMPTS trials, default 10).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { holePunchTrial, learnOutside } from './hole-punch-trials.ts';
import { LabNode } from './lab-node.ts';
import { Lab } from './netns.ts';

const NETWORK = 'netns-test';
const TOPIC = 'behind-nat';

export async function natScenario(t: TestContext, ATTEMPTS: number): Promise<void> {
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
    const homes = [1, 2].map((n) => {
      const router = lab.host(`nat${n}`);
      const outside = lab.cable(router, `11.99.0.1${n}/24`, inet, undefined);
      lab.plug(inet, outside[1], sw);
      const host = lab.host(`home${n}`);
      lab.cable(router, `192.168.${n}.1/24`, host, `192.168.${n}.2/24`);
      lab.route(host, `192.168.${n}.1`);
      lab.nat(router, outside[0]);
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
    const [a, b] = await Promise.all([
      LabNode.child(lab, homes[0], 'A', { ...options, dialPort: 0 }, { DEBUG: process.env.NETNS_DEBUG ?? 'libp2p:dcutr*' }),
      LabNode.child(lab, homes[1], 'B0', options),
    ]);
    const circuit = (n: LabNode) => n.addresses().find((x) => x.includes('/p2p-circuit'));
    await Promise.all([learnOutside(a, relays, '11.99.0.11'), b.waitFor(() => circuit(b) !== undefined, 30_000, 'a relay reservation')]);

    // A cannot reach B's own address: B's router drops what starts outside.
    a.send({ cmd: 'dial', addr: `/ip4/11.99.0.12/tcp/4001/p2p/${b.peerId}` });
    await a.waitFor((l) => l.type === 'dial-failed', 60_000, 'the direct dial to fail');

    // 1: hole punching, one fresh B per trial.
    let upgraded = 0;
    const reasons: string[] = [];
    for (let trial = 0; trial < ATTEMPTS; trial++) {
      const outcome = await holePunchTrial(t, { lab, homeB: homes[1], outsideB: '11.99.0.12', a, relays, topic: TOPIC }, trial);
      if (outcome.upgraded) upgraded++;
      else reasons.push(`trial ${trial + 1}: ${outcome.reason}`);
    }
    t.diagnostic(`DCUtR upgrades across two port-keeping NATs: ${upgraded}/${ATTEMPTS}`);
    for (const reason of reasons.slice(-3)) t.diagnostic(reason);

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
