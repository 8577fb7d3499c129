/**
 * A peer floods a real `walkaway chat` process with gossip address frames
 * naming thousands of fake peers, then asks it (HyParView forward-join) to
 * take some of them as neighbours. Every address the attacker names is a
 * 127.0.0.1 port that counts connection attempts, a WebSocket server that
 * holds the handshake and then answers 404, or a form the victim's filter
 * must reject without dialling (10.0.0.1, documentation ranges, another
 * peer's id, UDP). The victim logs each address it dials (DEBUG=walkaway:dial).
 */
import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { after, test } from 'node:test';
import { multiaddr } from '@multiformats/multiaddr';
import { networkId, PrivateKey, topicId } from '../../src/core/index.ts';
import { ADDRESS_BOOK_LIMITS } from '../../src/net/address-book.ts';
import { DEFAULT_DIAL_GATE } from '../../src/net/transport/dial-gate.ts';
import { encodeGossipFrame, type GossipFrame } from '../../src/net/gossip/wire.ts';
import { createHost, protocolId } from '../../src/net/transport/host.ts';
import { peerIdOfPublicKey } from '../../src/net/transport/peer-ids.ts';
import { encodeFrames } from '../../src/sync/index.ts';
import { ChatProcess, tempDirs, type Line } from '../helpers/chat-process.ts';

const TOPIC = 'address-flood';
const { dirs, cleanup } = tempDirs(2);
const running: ChatProcess[] = [];
const servers: Server[] = [];
const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  await Promise.all(running.map((p) => p.kill()));
  await Promise.all(cleanups.map((c) => c().catch(() => {})));
  for (const s of servers) s.close();
  cleanup();
});

/** TCP ports on 127.0.0.1 that count (and drop) every connection. */
async function countingPorts(n: number): Promise<{ ports: number[]; hits: number[] }> {
  const hits: number[] = [];
  const ports: number[] = [];
  for (let i = 0; i < n; i++) {
    const server = createServer((socket) => {
      hits.push(Date.now());
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    ports.push((server.address() as { port: number }).port);
  }
  return { ports, hits };
}

/** An HTTP server that holds every request past libp2p's address dial timeout, then answers 404. */
async function lateNotFound(): Promise<{ port: number; hits: number[] }> {
  const hits: number[] = [];
  const answer = (socket: { write: (s: string) => unknown; destroy: () => void; destroyed: boolean }) => {
    const timer = setTimeout(() => {
      if (!socket.destroyed) socket.write('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n');
    }, 20_000);
    timer.unref();
  };
  const server = createHttpServer((req) => answer(req.socket));
  server.on('upgrade', (_req, socket) => answer(socket));
  server.on('connection', () => hits.push(Date.now()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server as unknown as Server);
  return { port: (server.address() as { port: number }).port, hits };
}

function peerIdHex(host: { peerId: { publicKey?: { raw: Uint8Array } } }): string {
  return Buffer.from(host.peerId.publicKey!.raw).toString('hex');
}

function fakePeer(): string {
  return PrivateKey.generate().publicKey.toHex();
}

function dialLines(p: ChatProcess): { at: number; address: string }[] {
  return p.stderr
    .join('')
    .split('\n')
    .flatMap((l) => {
      const m = /^(\S+) walkaway:dial dial (\S+)$/.exec(l);
      return m ? [{ at: Date.parse(m[1]), address: m[2] }] : [];
    });
}

function statsLines(p: ChatProcess): { peerStore: number; learned: number; learnedBytes: number; gate: string }[] {
  return p.stderr
    .join('')
    .split('\n')
    .flatMap((l) => {
      const m = /peer store: (\d+) peers .*address book: \d+ verified, (\d+) learned \((\d+) bytes\)/.exec(l);
      return m ? [{ peerStore: Number(m[1]), learned: Number(m[2]), learnedBytes: Number(m[3]), gate: l.split('dial gate: ')[1] ?? '' }] : [];
    });
}

test('address frames naming thousands of fake peers cause a trickle of loopback dials, bounded state, and no crash', { timeout: 240_000 }, async () => {
  const env = { DEBUG: process.env.FLOOD_DEBUG ?? 'walkaway:dial,walkaway:connections' };
  const victim = await ChatProcess.start(['chat', TOPIC, '--json', '--no-mdns', '--port', '0', '--data', dirs[0]], env);
  running.push(victim);
  const honest = await ChatProcess.chat(TOPIC, dirs[1], ['--bootstrap', victim.address]);
  running.push(honest);
  await honest.waitFor((l: Line) => l.type === 'neighbor', 30_000, 'a neighbour');

  const { ports, hits } = await countingPorts(8);
  const ws = await lateNotFound();
  const net = networkId('walkaway');
  const attacker = await createHost({ privateKey: PrivateKey.generate(), networkId: net, listen: ['/ip4/127.0.0.1/tcp/0'] });
  cleanups.push(async () => attacker.stop());
  // A victim may hang up on a flooding stream: the attacker then opens another.
  let stream = await attacker.dialProtocol(multiaddr(victim.address), protocolId(net, 'gossip'));
  let reopened = 0;
  const reopen = async () => {
    stream = await attacker.dialProtocol(multiaddr(victim.address), protocolId(net, 'gossip'));
  };
  // The reopening dial itself may meet a connection the victim is closing: try again, a few times.
  const send = async (frame: GossipFrame) => {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        if (!stream.send(encodeFrames([encodeGossipFrame(frame)]))) await stream.onDrain();
        return;
      } catch {
        reopened++;
        await reopen().catch(() => new Promise((resolve) => setTimeout(resolve, 500)));
      }
    }
  };

  const never = ['/ip4/10.0.0.1/tcp/4001', '/ip4/192.0.2.1/tcp/4001', '/ip4/198.51.100.7/tcp/4001/ws', '/ip4/127.0.0.1/udp/4001/quic-v1'];
  const addressesOf = (_peer: string, i: number) => [
    `/ip4/127.0.0.1/tcp/${ports[i % ports.length]}`,
    `/ip4/127.0.0.1/tcp/${ws.port}/ws`,
    `/ip4/127.0.0.1/tcp/${ports[(i + 1) % ports.length]}/p2p/${peerIdOfPublicKey(fakePeer()).toString()}`, // another peer's id
    ...never,
  ];
  const started = Date.now();
  // 100 frames of 64 fake peers each (6,400 peers, 44,800 addresses).
  const named: string[] = [];
  for (let f = 0; f < 100; f++) {
    const peers = Array.from({ length: 64 }, () => fakePeer());
    named.push(...peers);
    await send({ kind: 'addresses', peers: peers.map((p, i) => [p, addressesOf(p, f * 64 + i)]) });
  }
  // Wait until the victim has read them (it logs each frame), or stopped reading.
  const attackerTag = `learned from ${peerIdHex(attacker).slice(0, 8)}`;
  const learnedFrames = () => victim.stderr.join('').split(attackerTag).length - 1;
  for (let seen = -1; learnedFrames() < 100 && learnedFrames() !== seen; ) {
    seen = learnedFrames();
    await new Promise((resolve) => setTimeout(resolve, 3_000));
  }
  const framesRead = learnedFrames();
  // Then name 32 more, and ask the victim to take those and 168 of the flood as neighbours.
  await reopen().catch(() => reopened++); // send() opens another if this one failed
  const targets = Array.from({ length: 32 }, () => fakePeer());
  await send({ kind: 'addresses', peers: targets.map((p, i) => [p, addressesOf(p, i)]) });
  const topic = topicId(TOPIC);
  await send({ kind: 'overlay', topic, message: { type: 'join' } });
  for (const peer of [...targets, ...named.slice(-168)]) await send({ kind: 'overlay', topic, message: { type: 'forward-join', peer, ttl: 0 } });

  // Wait past the WebSocket dial timeout (15 s) and the late 404s (20 s), and for a peer-store sweep after that.
  const sweepsBefore = statsLines(victim).length;
  await new Promise((resolve) => setTimeout(resolve, 25_000));
  await victim.waitFor(() => statsLines(victim).length >= sweepsBefore + 3, 40_000, 'peer store sweeps after the attack');
  const elapsedS = (Date.now() - started) / 1000;
  if (process.env.FLOOD_DEBUG) (await import('node:fs')).writeFileSync('.scratch/victim-stderr.txt', victim.stderr.join(''));

  assert.equal(victim.child.exitCode, null, `the victim is still running; stderr: ${victim.stderr.join('').slice(-1500)}`);
  const dials = dialLines(victim);
  for (const d of dials) assert.match(d.address, /^\/ip4\/127\.0\.0\.1\//, `only loopback was dialled: ${d.address}`);
  for (const bad of ['10.0.0.1', '192.0.2.', '198.51.100.', '/udp/']) {
    assert.ok(!dials.some((d) => d.address.includes(bad)), `${bad} was never dialled`);
  }
  // libp2p's gater sees an address when it checks it is dialable (without
  // /p2p) and when it dials a peer at it (with /p2p): count the latter.
  const attempts = dials.filter((d) => /\/p2p\/\w+$/.test(d.address));
  const budget = DEFAULT_DIAL_GATE.burst + DEFAULT_DIAL_GATE.ratePerSecond * elapsedS;
  assert.ok(attempts.length <= budget, `${attempts.length} dials within the budget of ${budget.toFixed(0)}`);
  assert.ok(hits.length + ws.hits.length <= budget, `${hits.length + ws.hits.length} connections reached the counting servers`);
  // No burst: in any one second (victim's clock) at most burst + rate dials.
  for (const d of attempts) {
    const inWindow = attempts.filter((e) => e.at >= d.at && e.at < d.at + 1000).length;
    assert.ok(inWindow <= DEFAULT_DIAL_GATE.burst + DEFAULT_DIAL_GATE.ratePerSecond, `${inWindow} dials within a second`);
  }
  const stats = statsLines(victim);
  const last = stats.at(-1)!;
  assert.ok(last.learned <= ADDRESS_BOOK_LIMITS.maxLearnedPerAnnouncer, `learned addresses ${last.learned} within one announcer's cap`);
  assert.ok(Math.max(...stats.map((s) => s.peerStore)) <= 8, `peer store sizes ${stats.map((s) => s.peerStore).join(',')}`);
  const consulted = (last.gate.match(/\d+/g) ?? []).map(Number);
  assert.ok(consulted[0] + consulted[2] + consulted[3] + consulted[4] > 0, `the victim wanted fake peers and asked the dial gate: ${last.gate}`);
  console.log(`# dial gate: ${last.gate}`);
  // Errors that slipped through to the CLI's last-resort handler (the process kept running).
  const slipped = victim.lines.filter((l) => l.type === 'error' && /network error/.test(String(l.message)));
  console.log(`# ${slipped.length} uncaught network errors logged by the victim: ${JSON.stringify(slipped.slice(0, 3))}`);
  // Without the WebSocket fix (src/net/polyfill.ts) the late 404 lands here (and, before the CLI policy, ended the process).
  assert.equal(slipped.length, 0, 'every socket error was handled where it happened');
  console.log(
    `# ${framesRead} of 100 flood frames read, ${reopened} streams reopened; ${attempts.length} dials (${hits.length} tcp and ${ws.hits.length} ws connections seen) in ${elapsedS.toFixed(1)} s; peer store per sweep ${stats.map((s) => s.peerStore).join(',')}; learned ${last.learned} (${last.learnedBytes} bytes)`,
  );

  // Still serving the honest peer.
  victim.send('after the flood');
  honest.send('still friends');
  await honest.waitForTexts(['after the flood', 'still friends']);
  await victim.waitForTexts(['after the flood', 'still friends']);
});
