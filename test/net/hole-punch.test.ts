/**
 * The pieces of TCP hole punching that run without namespaces
 * (src/net/transport/hole-punch.ts): which observed addresses are believed,
 * and dials from one local port over real sockets. The punch itself across
 * two NATs: test/netns/nat-scenario.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import '../../src/net/polyfill.ts';
import { multiaddr } from '@multiformats/multiaddr';
import { networkId, PrivateKey } from '../../src/core/index.ts';
import { freePort, OBSERVERS_TO_CONFIRM, ObservedAddresses, ResponderDials } from '../../src/net/transport/hole-punch.ts';
import { createHost } from '../../src/net/transport/host.ts';

const OUT = '/ip4/11.99.0.12/tcp/40001';
const observer = (n: number) => `/ip4/11.99.1.${n}/tcp/4001/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WFqNK3r4zQA5zGkhTgmNmZVvx`;

function observedWithClock() {
  const clock = { now: 0 };
  const seen: string[] = [];
  const observed = new ObservedAddresses(() => clock.now);
  observed.onConfirmed((a) => seen.push(a));
  return { observed, seen, clock };
}

describe('observed outside addresses', () => {
  it('are taken only when two public observers at different IPs agree, once', () => {
    assert.equal(OBSERVERS_TO_CONFIRM, 2);
    const { observed, seen } = observedWithClock();
    observed.report(OUT, observer(1), true);
    observed.report(`${OUT}/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WFqNK3r4zQA5zGkhTgmNmZVvx`, observer(1), true);
    assert.deepEqual(observed.confirmed, [], 'one observer, twice, is not enough');
    observed.report(OUT, observer(2), true);
    observed.report(OUT, observer(3), true);
    assert.deepEqual(observed.confirmed, [OUT]);
    assert.deepEqual(seen, [OUT], 'announced once');
  });

  it('ignore inbound, relayed and private observers, and addresses that are not public TCP', () => {
    const { observed } = observedWithClock();
    const relayed = '/ip4/11.99.0.2/tcp/4001/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WFqNK3r4zQA5zGkhTgmNmZVvx/p2p-circuit';
    for (const [address, from, outbound] of [
      [OUT, observer(1), false],
      [OUT, observer(2), false],
      [OUT, relayed, true],
      [OUT, '/ip4/192.168.1.7/tcp/4001', true],
      [OUT, '/ip4/127.0.0.1/tcp/4001', true],
    ] as const) {
      observed.report(address, from, outbound);
    }
    for (const address of [
      '/ip4/192.168.1.2/tcp/40001',
      '/ip4/127.0.0.1/tcp/40001',
      '/ip4/11.99.0.12/tcp/25',
      `${OUT}/ws`,
      '/ip4/11.99.0.12/udp/40001/quic-v1',
      'not an address',
    ]) {
      observed.report(address, observer(1), true);
      observed.report(address, observer(2), true);
    }
    assert.deepEqual(observed.confirmed, []);
  });

  it('are bounded in number and forgotten ten minutes after the last report', () => {
    const { observed, clock } = observedWithClock();
    for (let port = 40_000; port < 40_020; port++) {
      observed.report(`/ip4/11.99.0.12/tcp/${port}`, observer(1), true);
      observed.report(`/ip4/11.99.0.12/tcp/${port}`, observer(2), true);
    }
    assert.equal(observed.confirmed.length, 16, 'at most 16 addresses tracked');
    clock.now += 10 * 60_000 + 1;
    assert.deepEqual(observed.confirmed, []);
    observed.report(OUT, observer(1), true);
    assert.deepEqual(observed.confirmed, [], 'old reports count no more');
    observed.report(OUT, observer(2), true);
    assert.deepEqual(observed.confirmed, [OUT]);
  });
});

describe('responder dials', () => {
  it('are known by address, with or without the peer id, only while they run', async () => {
    const responders = new ResponderDials();
    const peer = '/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WFqNK3r4zQA5zGkhTgmNmZVvx';
    const during = await responders.during([multiaddr(`${OUT}${peer}`)], async () => [responders.has(OUT), responders.has(`${OUT}${peer}`)]);
    assert.deepEqual(during, [true, true]);
    assert.equal(responders.has(OUT), false);
    await assert.rejects(
      responders.during([OUT], async () => {
        throw new Error('dial failed');
      }),
    );
    assert.equal(responders.has(OUT), false, 'forgotten after a failed dial too');
  });
});

type Host = Awaited<ReturnType<typeof createHost>>;

/** The ports `host` sees `peer` connect from, once it holds `count` connections from it. */
async function portsSeen(host: Host, peer: Host, count: number): Promise<number[]> {
  const ports = () => host.getConnections(peer.peerId).map((x) => Number(x.remoteAddr.toString().split('/')[4]));
  while (ports().length < count) await new Promise((resolve) => host.addEventListener('connection:open', resolve, { once: true }));
  return ports().sort();
}

describe('a host with a dial port', () => {
  it('dials every peer from that port over real sockets, and from another where that one is taken', { timeout: 120_000 }, async () => {
    const dialPort = await freePort();
    const id = networkId('dial-port-test');
    const listen = ['/ip4/127.0.0.1/tcp/0'];
    const a = await createHost({ privateKey: PrivateKey.generate(), networkId: id, listen, dialPort });
    const b = await createHost({ privateKey: PrivateKey.generate(), networkId: id, listen });
    const c = await createHost({ privateKey: PrivateKey.generate(), networkId: id, listen });
    try {
      for (const target of [b, c]) await a.dial(target.getMultiaddrs()[0], { signal: AbortSignal.timeout(20_000) });
      assert.deepEqual(await portsSeen(b, a, 1), [dialPort]);
      assert.deepEqual(await portsSeen(c, a, 1), [dialPort]);
      // A second connection to b from the same port cannot exist (same four-tuple): it leaves from a free port.
      const second = await a.dial(b.getMultiaddrs()[0], { signal: AbortSignal.timeout(20_000), force: true });
      assert.equal(second.status, 'open');
      const ports = await portsSeen(b, a, 2);
      assert.ok(ports.includes(dialPort) && ports.some((p) => p !== dialPort), `ports seen by b: ${ports}`);
    } finally {
      await Promise.all([a.stop(), b.stop(), c.stop()]);
    }
  });
});
