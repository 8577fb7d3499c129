/**
 * One process of the faults benchmark (bench/faults.ts), by role:
 *   victim DATA TOPIC            a node on SQLite; prints its memory every 250 ms
 *                                and the delay of every honest message it delivers
 *   author TOPIC ADDR RATE       an honest node that writes RATE messages a second
 *   attacker TOPIC ADDR          joins the topic like any peer, then floods the
 *                                victim on the gossip protocol (issue 15, item 5)
 * Every line on stdout is one JSON object. Traffic stays on 127.0.0.1.
 */
import '../src/net/polyfill.ts';
import { multiaddr } from '@multiformats/multiaddr';
import { createOperation, encodeHeader, PrivateKey, topicId, withSignature } from '../src/core/index.ts';
import { encodeGossipFrame } from '../src/net/gossip/wire.ts';
import { protocolId } from '../src/net/transport/host.ts';
import { Node } from '../src/node/index.ts';
import { encodePayload } from '../src/node/payload.ts';
import { encodeFrames } from '../src/sync/index.ts';

const [role, ...args] = process.argv.slice(2);
const say = (line: Record<string, unknown>) => process.stdout.write(JSON.stringify(line) + '\n');
const now = () => performance.timeOrigin + performance.now();
const LOCAL = ['/ip4/127.0.0.1/tcp/0'];

/** Flood sizes of the issue: 100 address frames, 6,000 junk frames of 15 KB, 30,000 forged operations. */
/** The attacker gives up after this long, whatever is left of the flood. */
const FLOOD_LIMIT_MS = 90_000;

export const FLOOD = { addressFrames: 100, peersPerAddressFrame: 20, junkFrames: 6_000, junkBytes: 15_000, forgedOps: 30_000 };

async function victim(dataDir: string, topic: string): Promise<void> {
  const node = await Node.create({ dataDir, listen: LOCAL, mdns: false });
  const { rx } = node.stream(topic);
  say({ type: 'ready', addresses: node.addresses, id: node.id });
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    say({ type: 'memory', at: now(), rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers });
  }, 250);
  process.stdin.on('data', (chunk) => {
    if (String(chunk).includes('stats')) say({ type: 'stats', stats: node.stats() as unknown as Record<string, unknown> });
  });
  process.stdin.on('end', () => {
    clearInterval(timer);
    void node.close().then(() => process.exit(0));
  });
  for await (const event of rx) {
    try {
      const body = JSON.parse(new TextDecoder().decode(event.body)) as { sent?: number; i?: number };
      if (typeof body.sent === 'number') say({ type: 'deliver', i: body.i, delayMs: now() - body.sent });
    } catch {
      // not one of the author's messages
    }
    event.ack();
  }
}

async function author(topic: string, address: string, rate: number): Promise<void> {
  const node = await Node.create({ listen: LOCAL, mdns: false, bootstrap: [address] });
  const { tx } = node.stream(topic);
  node.once('neighbor:up', () => say({ type: 'ready' }));
  let i = 0;
  let writing = false;
  process.stdin.on('data', (chunk) => {
    if (String(chunk).includes('start')) writing = true;
  });
  process.stdin.on('end', () => void node.close().then(() => process.exit(0)));
  setInterval(() => {
    if (!writing) return;
    const body = new TextEncoder().encode(JSON.stringify({ sent: now(), i: i++ }));
    void tx.publish(body).then(() => say({ type: 'sent', i }));
  }, 1000 / rate);
}

function frames(topic: Uint8Array, messages: Record<string, unknown>[]): Uint8Array {
  return encodeFrames(messages.map((message) => encodeGossipFrame({ kind: 'overlay', topic, message: message as never })));
}

/** 30,000 operations, each by a throwaway author, each with a broken signature. */
function forgedPayloads(count: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const op = createOperation({ privateKey: PrivateKey.generate(), body: new TextEncoder().encode(`forged ${i}`), seqNum: 0 });
    const signature = new Uint8Array(op.header.signature);
    signature[0] ^= 0xff;
    out.push(encodePayload({ kind: 'operation', headerBytes: withSignature(encodeHeader(op.header), signature), body: op.body }));
  }
  return out;
}

async function attacker(topicName: string, address: string): Promise<void> {
  const topic = topicId(topicName);
  const forged = forgedPayloads(FLOOD.forgedOps);
  const junk = new Uint8Array(FLOOD.junkBytes).fill(0xa5);
  const counts = { identities: 0, bytesSent: 0, refused: 0 };
  let next = 0;
  // Batches of the whole flood; a new identity joins (and a new stream
  // carries the rest) whenever the victim hangs up on the last one.
  const addressBatches: Uint8Array[] = [];
  const junkBatches: Uint8Array[] = [];
  const forgedBatches: Uint8Array[] = [];
  for (let a = 0; a < FLOOD.addressFrames; a++) {
    const peers: [string, string[]][] = [];
    for (let p = 0; p < FLOOD.peersPerAddressFrame; p++) {
      const fake = PrivateKey.generate().publicKey.toHex();
      peers.push([fake, [`/ip4/127.0.0.1/tcp/${1 + ((a * FLOOD.peersPerAddressFrame + p) % 1000)}`]]);
    }
    addressBatches.push(encodeFrames([encodeGossipFrame({ kind: 'addresses', peers })]));
  }
  for (let j = 0; j < FLOOD.junkFrames; j += 10) {
    const msgs = [];
    for (let k = j; k < Math.min(FLOOD.junkFrames, j + 10); k++) msgs.push({ type: 'gossip', id: `junk-${k}`, payload: junk, hop: 1 });
    junkBatches.push(frames(topic, msgs));
  }
  for (let j = 0; j < forged.length; j += 100) {
    const msgs = forged.slice(j, j + 100).map((payload, k) => ({ type: 'gossip', id: `forged-${j + k}`, payload, hop: 1 }));
    forgedBatches.push(frames(topic, msgs));
  }
  // The three kinds interleaved, so that every part of the flood is in flight at once.
  const batches: Uint8Array[] = [];
  const kinds = [addressBatches, junkBatches, forgedBatches];
  const total = kinds.reduce((n, k) => n + k.length, 0);
  const cursors = kinds.map(() => 0);
  while (batches.length < total) {
    // Take from the kind that is furthest behind its share.
    let best = -1;
    for (let k = 0; k < kinds.length; k++) {
      if (cursors[k] >= kinds[k].length) continue;
      if (best < 0 || cursors[k] / kinds[k].length < cursors[best] / kinds[best].length) best = k;
    }
    batches.push(kinds[best][cursors[best]++]);
  }
  say({ type: 'ready', batches: batches.length });
  const started = now();
  while (next < batches.length && now() - started < FLOOD_LIMIT_MS) {
    const node = await Node.create({ listen: LOCAL, mdns: false, bootstrap: [address] });
    counts.identities++;
    node.stream(topicName);
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 3000);
      node.once('neighbor:up', () => (clearTimeout(t), resolve()));
    });
    try {
      const stream = await node.host.dialProtocol(multiaddr(address), protocolId(node.networkId, 'gossip'));
      // Until the victim cuts this identity off; then the next one goes on.
      while (next < batches.length && stream.status === 'open' && node.host.getConnections().length > 0) {
        const batch = batches[next];
        if (!stream.send(batch)) await stream.onDrain({ signal: AbortSignal.timeout(5000) });
        await new Promise((resolve) => setImmediate(resolve));
        if (stream.status !== 'open') break;
        counts.bytesSent += batch.length;
        next++;
      }
      if (next < batches.length) counts.refused++;
      await stream.close().catch(() => {});
    } catch {
      counts.refused++;
    }
    await node.close().catch(() => {});
  }
  say({ type: 'done', ms: now() - started, ...counts, batchesSent: next, batches: batches.length });
  process.exit(0);
}

try {
  if (role === 'victim') await victim(args[0], args[1]);
  else if (role === 'author') await author(args[0], args[1], Number(args[2]));
  else if (role === 'attacker') await attacker(args[0], args[1]);
  else throw new Error(`unknown role ${role}`);
} catch (err) {
  say({ type: 'fatal', message: (err as Error).message });
  process.exit(1);
}
