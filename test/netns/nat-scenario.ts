/**
 * Two nodes behind two different NATs (namespaces, veth cables, nftables
 * masquerading that drops connections started outside), two relays on the
 * "internet" between them: `walkaway chat --relay` processes of another topic.
 *
 * 1. A reaches B only through a relay; the chat flows.
 * 2. DCUtR: after each relayed connection, does it become direct? Counted
 *    over `attempts` attempts and printed; not asserted, since
 *    the answer is a property of the NATs and of libp2p (docs/network-breaks.md).
 * 3. The relay carrying A and B is killed mid-conversation: both find the
 *    other relay and each other again, and the conversation goes on.
 *    The time to reconnect is printed (figures: docs/network-breaks.md).
 *
 * Run by nat-relay.test.ts (the suite: one DCUtR attempt) and
 * all.netns.ts (`npm run test:netns`: NETNS_ATTEMPTS, default 10).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
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
    plug(r1ns, '10.99.0.2/24');
    plug(r2ns, '10.99.0.3/24');
    const homes = [1, 2].map((n) => {
      const router = lab.host(`nat${n}`);
      const outside = lab.cable(router, `10.99.0.1${n}/24`, inet, undefined);
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
    const relays = [relayAddress(r1, '10.99.0.2'), relayAddress(r2, '10.99.0.3')];
    const options = { topic: TOPIC, listen: ['/ip4/0.0.0.0/tcp/4001'], relays };
    const [a, b] = await Promise.all([LabNode.child(lab, homes[0], 'A', options), LabNode.child(lab, homes[1], 'B', options, { DEBUG: 'libp2p:dcutr*' })]);
    const circuit = (n: LabNode) => n.addresses().find((x) => x.includes('/p2p-circuit'));
    await Promise.all([a, b].map((n) => n.waitFor(() => circuit(n) !== undefined, 30_000, 'a relay reservation')));

    // A cannot reach B's own address: B's router drops what starts outside.
    a.send({ cmd: 'dial', addr: `/ip4/10.99.0.12/tcp/4001/p2p/${b.peerId}` });
    await a.waitFor((l) => l.type === 'dial-failed', 60_000, 'the direct dial to fail');

    // 1 and 2: through the relay; then does DCUtR upgrade it?
    let upgraded = 0;
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const from = a.lines.length;
      if (attempt > 0) {
        a.send({ cmd: 'hangup', addr: b.peerId });
        await a.waitFor((l) => l.type === 'hung-up', 10_000, 'hang-up', from);
      }
      const mark = a.lines.length;
      a.send({ cmd: 'dial', addr: circuit(b)! });
      await a.waitFor((l) => l.type === 'conn' && l.event === 'open' && l.peer === b.peerId && l.relayed, 30_000, 'a relayed connection to B', mark);
      // DCUtR runs right after identify on the relayed connection: give it a few seconds.
      const direct = await a
        .waitFor((l) => l.type === 'conn' && l.event === 'open' && l.peer === b.peerId && !l.relayed, 8_000, 'a direct connection', mark)
        .then(
          () => true,
          () => false,
        );
      if (direct) upgraded++;
    }
    const dcutrLog = b.stderr
      .join('')
      .split('\n')
      .filter((l) => /dcutr/.test(l))
      .slice(-3)
      .map((l) => l.replace(/^\S+\s+/, '').slice(0, 200));
    t.diagnostic(`DCUtR upgrades: ${upgraded}/${ATTEMPTS}${upgraded < ATTEMPTS ? `; B's last DCUtR log lines: ${JSON.stringify(dcutrLog)}` : ''}`);

    // The conversation, through whatever connection A and B have now.
    a.send({ cmd: 'publish', text: 'a1: hello from behind NAT 1' });
    b.send({ cmd: 'publish', text: 'b1: hello from behind NAT 2' });
    await Promise.all([a.waitForTexts(['b1: hello from behind NAT 2'], 60_000), b.waitForTexts(['a1: hello from behind NAT 1'], 60_000)]);

    // 3: kill the relay that carries A and B, mid-conversation.
    a.send({ cmd: 'connections' });
    const conns = await a.waitFor((l) => l.type === 'connections', 10_000, 'connections', a.lines.length);
    const carrying = (conns.connections as { peer: string; addr: string; relayed: boolean }[]).find((c) => c.peer === b.peerId && c.relayed);
    if (!carrying) {
      t.diagnostic('A and B are directly connected: no relay to kill');
      assert.ok(upgraded > 0);
      return;
    }
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
