/**
 * The liveness service (src/net/transport/liveness.ts) on real libp2p hosts
 * over TCP with the private-network layer, its ping period shortened: a
 * peer that stops answering pings keeps its connection while its data
 * still arrives, and loses it once it goes silent (frozen: its socket no
 * longer read, so not even its muxer answers).
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import '../../src/net/polyfill.ts';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys';
import type { Connection, Stream } from '@libp2p/interface';
import { tcp } from '@libp2p/tcp';
import { createLibp2p, type Libp2p } from 'libp2p';
import { networkId } from '../../src/core/index.ts';
import { pnetKey } from '../../src/net/transport/host.ts';
import { liveness, type PingOutcome } from '../../src/net/transport/liveness.ts';
import { privateNetwork } from '../../src/net/transport/private-network.ts';
import { until } from '../helpers/wait.ts';

const PING = '/ipfs/ping/1.0.0';
const DRIP = '/walkaway-test/drip/1';
const hosts: Libp2p[] = [];
after(() => Promise.all(hosts.map((h) => h.stop())));

async function host(seed: number, services: Record<string, unknown> = {}): Promise<Libp2p> {
  const h = await createLibp2p({
    privateKey: await generateKeyPairFromSeed('Ed25519', new Uint8Array(32).fill(seed)),
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionProtector: privateNetwork({ psk: pnetKey(networkId('liveness-test')), timeoutMs: 10_000 }),
    connectionMonitor: { enabled: false },
    services: services as never,
  });
  hosts.push(h);
  return h;
}

test('a peer whose pings fail keeps its connection while its data arrives, and loses it once silent', async () => {
  const outcomes: PingOutcome[] = [];
  const watcher = await host(1, { liveness: liveness({ intervalMs: 200, timeoutMs: 150, onOutcome: (o) => outcomes.push(o) }) });
  const drip: Stream[] = [];
  await watcher.handle(DRIP, (stream) => void drip.push(stream));
  // The peer swallows pings (a loaded machine whose pings queue behind its data) and sends data.
  const peer = await host(2);
  let pingsSeen = 0;
  await peer.handle(PING, () => void pingsSeen++);
  const conn: Connection = await peer.dial(watcher.getMultiaddrs()[0]);
  const stream = await conn.newStream(DRIP);
  let dripping = true;
  const sender = (async () => {
    while (dripping) {
      stream.send(new Uint8Array([1]));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();

  await until(() => outcomes.filter((o) => o === 'kept').length >= 3, 'three failed pings kept the connection', 30_000);
  assert.equal(outcomes.includes('aborted'), false);
  assert.equal(watcher.getConnections(peer.peerId).length, 1, 'still connected');
  assert.ok(pingsSeen >= 3, 'the pings reached the peer');

  // Now frozen: no more data, and it no longer reads its socket (no muxer or negotiation replies either).
  const gone = new Promise<void>((resolve) => watcher.addEventListener('peer:disconnect', () => resolve(), { once: true }));
  dripping = false;
  await sender;
  (conn as unknown as { maConn: { pause(): void } }).maConn.pause();
  await gone;
  assert.equal(outcomes.at(-1), 'aborted');
  assert.equal(watcher.getConnections(peer.peerId).length, 0);
});

test('a peer that answers its pings is never dropped', async () => {
  const outcomes: PingOutcome[] = [];
  const watcher = await host(3, { liveness: liveness({ intervalMs: 100, timeoutMs: 1_000, onOutcome: (o) => outcomes.push(o) }) });
  const { ping } = await import('@libp2p/ping');
  const peer = await host(4, { ping: ping() });
  await peer.dial(watcher.getMultiaddrs()[0]);
  await until(() => outcomes.length >= 5, 'five pings', 30_000);
  assert.deepEqual(new Set(outcomes), new Set(['answered']));
  assert.equal(watcher.getConnections(peer.peerId).length, 1);
});
