/**
 * Forks reach the app (issue 16, item 4), over real sockets on 127.0.0.1:
 * an author signs two different operations at one seqNum; every node that
 * learns of it, by gossip or by sync, fires one `fork` event naming the
 * author and carrying both headers, on the node and on the topic's stream.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, test } from 'node:test';
import { createOperation, logIdForTopic, topicId, toHex, type Operation } from '../../src/core/index.ts';
import { Node, type ForkEvent } from '../../src/node/index.ts';
import { encodePayload } from '../../src/node/payload.ts';
import { InboundStoreDriver, inlineVerifier, type ForkReport } from '../../src/node/inbound/index.ts';
import { MemoryStore } from '../../src/store/index.ts';
import { syncOverStream } from '../../src/sync/index.ts';
import { GossipAttacker, until } from './gossip-attacker.ts';

const TOPIC = 'forks';
const open: { close(): Promise<void> }[] = [];
after(async () => {
  await Promise.all(open.map((n) => n.close()));
});

async function node(options: Parameters<typeof Node.create>[0] = {}): Promise<Node> {
  const n = await Node.create({ listen: ['/ip4/127.0.0.1/tcp/0'], ...options });
  open.push(n);
  return n;
}

function forksOf(n: Node): ForkEvent[] {
  const seen: ForkEvent[] = [];
  n.on('fork', (fork: ForkEvent) => seen.push(fork));
  return seen;
}

const hexHeaders = (headers: Uint8Array[]) => new Set(headers.map(toHex));

test('an author who signs two operations at one seqNum: every node that learns of it, by gossip or sync, fires one fork event', async () => {
  const b = await node();
  const c = await node({ bootstrap: b.addresses });
  const atB = forksOf(b);
  const atC = forksOf(c);
  const onStreamB: ForkEvent[] = [];
  b.stream(TOPIC).onFork((fork) => onStreamB.push(fork));
  c.stream(TOPIC);
  await until(() => b.neighbors(TOPIC).active.includes(c.id), 'b and c neighbours');

  // The forking author gossips from a host of its own that joins b's overlay.
  const author = new GossipAttacker(TOPIC);
  open.push({ close: () => author.stop() });
  await author.join(b.addresses[0], b.id);
  await until(() => b.neighbors(TOPIC).active.includes(author.id), 'the author as a neighbour of b');
  const logId = logIdForTopic(topicId(TOPIC));
  const branch = (body: string): Operation =>
    createOperation({ privateKey: author.key, body: new TextEncoder().encode(body), seqNum: 0, extensions: { variant: 'basic', logId, timestamp: 1, pruneFlag: false } });
  const [one, two] = [branch('one'), branch('two')];
  const payload = (op: Operation) => encodePayload({ kind: 'operation', headerBytes: op.headerBytes, body: op.body });
  assert.ok(await author.gossip([payload(one)], b.addresses[0]));
  await until(() => c.store.hasOperation(one.hash), 'the first branch at c');
  assert.ok(await author.gossip([payload(two)], b.addresses[0]));

  await until(() => atB.length > 0 && atC.length > 0 && onStreamB.length > 0, 'fork events at b and c');
  const both = hexHeaders([one.headerBytes, two.headerBytes]);
  for (const [name, events] of [
    ['b', atB],
    ['c', atC],
    ['b stream', onStreamB],
  ] as const) {
    assert.equal(events.length, 1, `one fork event at ${name}`);
    const [fork] = events;
    assert.equal(fork.author, author.id, name);
    assert.equal(fork.seqNum, 0, name);
    assert.equal(fork.topic, toHex(topicId(TOPIC)), name);
    assert.deepEqual(hexHeaders(fork.headers), both, `both headers at ${name}`);
  }
  assert.equal(atB[0].via, 'gossip', 'b learnt it from gossip');

  // A node that comes later learns of it too: from the evidence sync carries,
  // or from gossip if its new neighbour's tree still caches the branches.
  const d = await node({ bootstrap: c.addresses });
  const atD = forksOf(d);
  d.stream(TOPIC);
  await until(() => atD.length > 0, 'a fork event at d');
  assert.ok(['sync', 'gossip'].includes(atD[0].via));
  assert.equal(atD[0].author, author.id);
  assert.deepEqual(hexHeaders(atD[0].headers), both, 'both headers at d');
  assert.equal(atD.length, 1);
  // Neither branch stays stored anywhere: nothing of the log from the fork point on.
  for (const n of [b, c, d]) assert.ok(!n.store.hasOperation(one.hash) && !n.store.hasOperation(two.hash));
});

test('fork evidence carried by sync over TCP: the receiving inbound path reports the fork with both headers, by sync', async () => {
  const key = new GossipAttacker(TOPIC).key;
  const topic = topicId(TOPIC);
  const logId = logIdForTopic(topic);
  const branch = (body: string): Operation =>
    createOperation({ privateKey: key, body: new TextEncoder().encode(body), seqNum: 0, extensions: { variant: 'basic', logId, timestamp: 1, pruneFlag: false } });
  const [one, two] = [branch('one'), branch('two')];
  // The serving store saw both branches: it keeps the evidence, not the entries.
  const served = MemoryStore.create();
  served.ingest(one, topic);
  assert.equal(served.ingest(two, topic).status, 'rejected');
  assert.equal(served.forks().length, 1);

  const fetched = MemoryStore.create();
  const forks: ForkReport[] = [];
  const inbound = new InboundStoreDriver({ store: fetched, verifier: inlineVerifier, seed: 1, onFork: (f) => forks.push(f) });
  const server = net.createServer(
    (socket) =>
      void syncOverStream(served, socket, { ingest: new InboundStoreDriver({ store: served, verifier: inlineVerifier, seed: 2 }), role: 'acceptor', topic }).done.catch(
        () => {},
      ),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  open.push({ close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
  const socket = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  await syncOverStream(fetched, socket, { ingest: inbound, role: 'initiator', topic }).done;
  assert.equal(forks.length, 1, 'one fork event');
  assert.equal(forks[0].via, 'sync');
  assert.equal(forks[0].author.toHex(), key.publicKey.toHex());
  assert.deepEqual(hexHeaders(forks[0].headers), hexHeaders([one.headerBytes, two.headerBytes]));
  assert.equal(fetched.forks().length, 1, 'the fetching store keeps the evidence too');
});
