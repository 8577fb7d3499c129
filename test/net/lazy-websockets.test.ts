import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import '../../src/net/polyfill.ts';
import { multiaddr } from '@multiformats/multiaddr';
import { networkId, PrivateKey } from '../../src/core/index.ts';
import { createHost } from '../../src/net/transport/host.ts';
import { isWebSocketAddress, loadWebSockets } from '../../src/net/transport/lazy-websockets.ts';

const ID = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA';

const ADDRESSES = [
  '/ip4/1.2.3.4/tcp/80/ws',
  `/ip4/1.2.3.4/tcp/80/ws/p2p/${ID}`,
  '/ip6/::1/tcp/4001/wss',
  '/dns4/example.com/tcp/443/tls/ws',
  '/dns4/example.com/tcp/443/tls/sni/example.com/ws',
  '/dns/example.com/ws',
  '/ip4/1.2.3.4/tcp/4001',
  `/ip4/1.2.3.4/tcp/4001/p2p/${ID}`,
  `/ip4/1.2.3.4/tcp/80/ws/p2p/${ID}/p2p-circuit/p2p/${ID}`,
  '/ip4/1.2.3.4/tcp/80/ws/ws',
  '/ip4/1.2.3.4/tcp/80/http',
  '/ip4/1.2.3.4/udp/4001/quic-v1',
  '/p2p-circuit',
];

describe('WebSockets loaded on first use', () => {
  it('filters the addresses the real transport dials, without loading it', async () => {
    const factory = await loadWebSockets();
    const logger = { forComponent: () => Object.assign(() => {}, { error: () => {}, trace: () => {}, enabled: false }) };
    const real = factory({ logger });
    for (const address of ADDRESSES) {
      const ma = multiaddr(address);
      assert.equal(isWebSocketAddress(ma), real.dialFilter([ma]).length === 1, address);
    }
  });

  it('a host listening on TCP only dials a WebSocket address, loading the transport then', async () => {
    // A plain WebSocket server: the dial reaches it (and fails after, as it speaks no libp2p).
    const { WebSocketServer } = await import('ws');
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => server.once('listening', resolve));
    let upgrades = 0;
    server.on('connection', (socket) => {
      upgrades++;
      socket.close();
    });
    const client = await createHost({ privateKey: PrivateKey.generate(), networkId: networkId('lazy-ws-test'), listen: ['/ip4/127.0.0.1/tcp/0'] });
    try {
      const { port } = server.address() as { port: number };
      await assert.rejects(client.dial(multiaddr(`/ip4/127.0.0.1/tcp/${port}/ws/p2p/${ID}`), { signal: AbortSignal.timeout(20_000) }));
      assert.equal(upgrades, 1);
    } finally {
      await client.stop();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('two Walkaway hosts connect over /ws (the private network: both sides send first)', async () => {
    const server = await createHost({ privateKey: PrivateKey.generate(), networkId: networkId('lazy-ws-test'), listen: ['/ip4/127.0.0.1/tcp/0/ws'] });
    const client = await createHost({ privateKey: PrivateKey.generate(), networkId: networkId('lazy-ws-test'), listen: ['/ip4/127.0.0.1/tcp/0'] });
    try {
      const address = server.getMultiaddrs().find((m) => isWebSocketAddress(m))!;
      const rtt = await (client.services as { ping: { ping(a: unknown, o?: unknown): Promise<number> } }).ping.ping(address, { signal: AbortSignal.timeout(20_000) });
      assert.equal(typeof rtt, 'number');
      assert.ok(client.getConnections(server.peerId).some((c) => isWebSocketAddress(c.remoteAddr)));
    } finally {
      await Promise.all([server.stop(), client.stop()]);
    }
  });

  it("the global WebSocket keeps a message that came before its first 'message' listener", async () => {
    await loadWebSockets(); // installs the global on Node 20
    const { WebSocketServer } = await import('ws');
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => server.once('listening', resolve));
    server.on('connection', (socket) => socket.send(new Uint8Array([1, 2, 3])));
    try {
      const { port } = server.address() as { port: number };
      const socket = new (globalThis as unknown as { WebSocket: typeof import('ws').WebSocket }).WebSocket(`ws://127.0.0.1:${port}`);
      socket.binaryType = 'arraybuffer';
      await new Promise((resolve) => socket.addEventListener('open', resolve));
      // Listen only once the message is surely in (as a dialer that listens late).
      await new Promise((resolve) => setTimeout(resolve, 200));
      const data = await new Promise<unknown>((resolve) => socket.addEventListener('message', (event) => resolve(event.data)));
      assert.deepEqual(new Uint8Array(data as ArrayBuffer), new Uint8Array([1, 2, 3]));
      socket.close();
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('a socket that receives more than the early cap before anyone listens is closed', async () => {
    await loadWebSockets();
    const { WebSocketServer } = await import('ws');
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => server.once('listening', resolve));
    // Two 40 KiB messages: over the 64 KiB kept for a late listener.
    server.on('connection', (socket) => {
      socket.send(new Uint8Array(40 * 1024));
      socket.send(new Uint8Array(40 * 1024));
    });
    try {
      const { port } = server.address() as { port: number };
      const socket = new (globalThis as unknown as { WebSocket: typeof import('ws').WebSocket }).WebSocket(`ws://127.0.0.1:${port}`);
      socket.binaryType = 'arraybuffer';
      const closed = new Promise((resolve) => socket.addEventListener('close', resolve));
      await closed;
      assert.equal(socket.readyState, socket.CLOSED);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
