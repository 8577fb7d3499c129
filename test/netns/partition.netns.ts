/**
 * Five nodes on two subnets joined by a router, every one its own process in
 * its own namespace, no mDNS.
 *
 * Discovery past the LAN: each node knows one peer (n1, on the other subnet
 * for three of them) and nothing else, no ticket per peer; they find the
 * others of their topic (salted-hash topic discovery with each connected
 * peer, then the overlay's address exchange: docs/network-breaks.md).
 *
 * A real partition: the cable between the router and the second subnet is
 * taken down (links cut, no process stopped), both sides write, the cable
 * comes back, and every node converges with no /connect and no app code.
 * The time to converge is printed.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { LabNode } from './lab-node.ts';
import { Lab, netnsUnavailable } from './netns.ts';

const unavailable = netnsUnavailable();
const TOPIC = 'partition-room';

test('five nodes across a router: found from one address each; a cut cable heals by itself', { skip: unavailable && `skipped: ${unavailable}` }, async (t) => {
  const lab = new Lab('part');
  after(() => lab.cleanup());
  try {
    const core = lab.host('core');
    lab.exec(core, ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
    const switches = [1, 2].map((s) => {
      const sw = lab.host(`sw${s}`);
      const br = lab.bridge(sw, 'lan');
      const [coreEnd, swEnd] = lab.cable(core, `10.98.${s}.1/24`, sw, undefined);
      lab.plug(sw, swEnd, br);
      return { sw, br, coreEnd };
    });
    const groups = [
      [1, 2],
      [3, 4, 5],
    ];
    const hosts = new Map<number, { ns: string; ip: string }>();
    groups.forEach((members, g) => {
      for (const n of members) {
        const ns = lab.host(`n${n}`);
        const ip = `10.98.${g + 1}.${10 + n}`;
        const [, swEnd] = lab.cable(ns, `${ip}/24`, switches[g].sw, undefined);
        lab.plug(switches[g].sw, swEnd, switches[g].br);
        lab.route(ns, `10.98.${g + 1}.1`);
        hosts.set(n, { ns, ip });
      }
    });

    const listen = ['/ip4/0.0.0.0/tcp/4001'];
    const n1 = await LabNode.child(lab, hosts.get(1)!.ns, 'n1', { topic: TOPIC, listen });
    const n1Address = `/ip4/${hosts.get(1)!.ip}/tcp/4001/p2p/${n1.peerId}`;
    const others = await Promise.all([2, 3, 4, 5].map((n) => LabNode.child(lab, hosts.get(n)!.ns, `n${n}`, { topic: TOPIC, listen, bootstrap: [n1Address] })));
    const nodes = [n1, ...others];

    // Discovery: everyone knew n1 only; each finds at least one more peer of the topic by itself.
    const peersOf = (node: LabNode) => new Set(node.lines.filter((l) => l.type === 'neighbor' && l.event === 'up').map((l) => l.peer));
    await Promise.all(others.map((node) => node.waitFor(() => peersOf(node).size >= 2, 90_000, 'a topic neighbour besides n1')));
    t.diagnostic(`discovery: topic neighbours found per node ${JSON.stringify(nodes.map((n) => peersOf(n).size))} (each was given n1 only)`);

    const say = (node: LabNode, text: string) => node.send({ cmd: 'publish', text });
    nodes.forEach((node, i) => say(node, `before: n${i + 1}`));
    const before = nodes.map((_, i) => `before: n${i + 1}`);
    await Promise.all(nodes.map((node) => node.waitForTexts(before, 90_000)));

    // The cut: the router's cable to the second subnet goes down.
    lab.setLink(core, switches[1].coreEnd, false);
    const during = nodes.map((_, i) => `during: n${i + 1}`);
    nodes.forEach((node, i) => say(node, during[i]));
    const side = (g: number) => groups[g].map((n) => `during: n${n}`);
    await Promise.all(groups.flatMap((members, g) => members.map((n) => nodes[n - 1].waitForTexts(side(g), 60_000))));
    // Sides stay apart while the cable is down (checked once both sides wrote and delivered locally).
    assert.ok(!nodes[0].texts().includes('during: n3'), 'no message crossed the cut');
    // A cut short enough for TCP to retransmit through proves nothing: the cable stays down
    // until every connection across it is closed (libp2p's pings find them dead).
    const groupOf = new Map(nodes.map((node, i) => [node.peerId, groups[0].includes(i + 1) ? 0 : 1]));
    const openAcross = (node: LabNode, i: number) => {
      const open = new Map<string, number>();
      for (const l of node.lines) if (l.type === 'conn') open.set(l.peer, (open.get(l.peer) ?? 0) + (l.event === 'open' ? 1 : -1));
      const mine = groups[0].includes(i + 1) ? 0 : 1;
      return [...open].filter(([peer, n]) => n > 0 && groupOf.has(peer) && groupOf.get(peer) !== mine).length;
    };
    const cutAt = performance.now();
    await Promise.all(nodes.map((node, i) => node.waitFor(() => openAcross(node, i) === 0, 180_000, 'its connections across the cut to close')));
    t.diagnostic(`partition: every connection across the cut closed ${Math.round(performance.now() - cutAt)} ms after the cable went down`);

    const healedAt = performance.now();
    lab.setLink(core, switches[1].coreEnd, true);
    await Promise.all(nodes.map((node) => node.waitForTexts(during, 240_000)));
    const converged = performance.now();
    t.diagnostic(`partition healed: all 5 nodes converged ${Math.round(converged - healedAt)} ms after the cable came back`);
    assert.ok(nodes.every((node) => during.every((text) => node.texts().includes(text))));
  } finally {
    lab.cleanup();
  }
});
