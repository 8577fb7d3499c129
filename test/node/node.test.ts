/**
 * The Node in one process (two nodes over real TCP sockets on 127.0.0.1):
 * publish and receive, acknowledgements and replay, large operations by
 * sync, multicast without any connection.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Node, type TopicEvent } from '../../src/node/index.ts';
import type { Receiver } from '../../src/node/receiver.ts';

const root = mkdtempSync(join(tmpdir(), 'walkaway-node-'));
const open: Node[] = [];
after(async () => {
  await Promise.all(open.map((n) => n.close()));
  rmSync(root, { recursive: true, force: true });
});

async function node(options: Parameters<typeof Node.create>[0] = {}): Promise<Node> {
  const n = await Node.create({ listen: ['/ip4/127.0.0.1/tcp/0'], ...options });
  open.push(n);
  return n;
}

const text = (e: TopicEvent) => new TextDecoder().decode(e.body);
const bytes = (s: string) => new TextEncoder().encode(s);

/** Collects texts from rx until `want` are all there (bounded wait). */
async function collect(rx: Receiver<TopicEvent>, want: string[], timeoutMs = 30_000, ack = true): Promise<TopicEvent[]> {
  const got: TopicEvent[] = [];
  const timer = setTimeout(() => rx.close(), timeoutMs);
  // Not `for await`: leaving that loop would close the receiver.
  const it = rx[Symbol.asyncIterator]();
  for (;;) {
    const { value: event, done } = await it.next();
    if (done) break;
    got.push(event);
    if (ack) event.ack();
    if (want.every((w) => got.some((e) => text(e) === w))) break;
  }
  clearTimeout(timer);
  assert.deepEqual(
    want.filter((w) => !got.some((e) => text(e) === w)),
    [],
    'every expected message arrived',
  );
  return got;
}

test('a node publishes while alone, a second node gets it by sync, then both exchange live', async () => {
  const a = await node();
  const { tx: txA, rx: rxA } = a.stream('room');
  await txA.publish(bytes('written alone'));
  const b = await node({ bootstrap: a.addresses });
  const { tx: txB, rx: rxB } = b.stream('room');
  await collect(rxB, ['written alone']);
  await txB.publish(bytes('hello a'));
  await txA.publish(bytes('hello b'));
  await collect(rxA, ['written alone', 'hello a', 'hello b']);
  await collect(rxB, ['hello b']);
  assert.ok(a.seenBy('room', { author: a.id, seqNum: 0 }).includes(b.id), 'a knows b holds its first message');
});

test('operations over the gossip limit travel by sync to the neighbours', async () => {
  const a = await node({ maxGossipBytes: 1024 });
  const b = await node({ bootstrap: a.addresses });
  const { rx: rxB } = b.stream('big');
  const { tx: txA } = a.stream('big');
  await new Promise<void>((resolve) => b.once('neighbor:up', () => resolve()));
  const large = 'x'.repeat(50_000);
  await txA.publish(bytes(large));
  const [event] = await collect(rxB, [large]);
  assert.equal(event.body!.length, 50_000);
});

test('unacknowledged events come again after a restart; acknowledged ones do not; from: cursor replays', async () => {
  const dataDir = join(root, 'restart');
  let a = await Node.create({ dataDir, listen: ['/ip4/127.0.0.1/tcp/0'] });
  const { tx, rx } = a.stream('ack');
  for (const t of ['one', 'two', 'three']) await tx.publish(bytes(t));
  const seen = await collect(rx, ['one', 'two', 'three'], 30_000, false);
  for (const e of seen) if (text(e) !== 'three') e.ack();
  await a.close();
  a = await Node.create({ dataDir, listen: ['/ip4/127.0.0.1/tcp/0'] });
  open.push(a);
  const again = a.stream('ack');
  const first = await collect(again.rx, ['three']);
  assert.deepEqual(first.map(text), ['three'], 'only the unacknowledged event is delivered again');
  const replay = a.stream('ack', { from: seen[0].cursor });
  const replayed = await collect(replay.rx, ['two', 'three']);
  assert.deepEqual(replayed.slice(0, 2).map(text), ['two', 'three']);
});

test('publishes of one turn are committed together: each resolves, the log is one chain, all of it after a restart', async () => {
  const dataDir = join(root, 'burst');
  let a = await Node.create({ dataDir, listen: ['/ip4/127.0.0.1/tcp/0'] });
  const texts = Array.from({ length: 12 }, (_, i) => `burst ${i}`);
  const hashes = await Promise.all(texts.map((t) => a.stream('burst').tx.publish(bytes(t))));
  await a.stream('burst').tx.publish(bytes('after'));
  await a.close();
  a = await Node.create({ dataDir, listen: ['/ip4/127.0.0.1/tcp/0'] });
  open.push(a);
  const { rx } = a.stream('burst');
  const got = await collect(rx, [...texts, 'after']);
  assert.deepEqual(got.map(text), [...texts, 'after'], 'every publish survived the restart, in order');
  assert.deepEqual(
    got.slice(0, 12).map((e) => e.hash.toHex()),
    hashes.map((h) => h.toHex()),
  );
  assert.deepEqual(
    got.map((e) => e.seqNum),
    Array.from({ length: 13 }, (_, i) => i),
    'one unbroken log',
  );
});

test('multicast: nodes with no connection at all converge and see ephemeral messages', async () => {
  const port = 40_000 + Math.floor(Math.random() * 20_000);
  const multicast = { interface: '127.0.0.1', port, tickMs: 200 };
  const a = await node({ multicast });
  const b = await node({ multicast });
  const { tx } = a.stream('lan');
  const { rx } = b.stream('lan');
  const eph = b.ephemeralStream('lan');
  await tx.publish(bytes('over multicast 1'));
  await tx.publish(bytes('over multicast 2'));
  await collect(rx, ['over multicast 1', 'over multicast 2']);
  assert.equal(a.peers().length, 0, 'no libp2p connection was used');
  const waiting = (async () => {
    for await (const e of eph.rx) if (!e.own) return new TextDecoder().decode(e.body);
  })();
  await a.ephemeralStream('lan').tx.publish(bytes('here'));
  assert.equal(await waiting, 'here');
});

test('a restarted node finds its peers again from its address book, without bootstrap', async () => {
  const a = await node();
  const dataDir = join(root, 'book');
  let b = await Node.create({ dataDir, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: a.addresses });
  await new Promise<void>((resolve) => b.once('peer:connect', () => resolve()));
  await new Promise((resolve) => setTimeout(resolve, 500)); // identify fills the address book
  await b.close();
  b = await Node.create({ dataDir, listen: ['/ip4/127.0.0.1/tcp/0'] });
  open.push(b);
  const { peer } = await new Promise<{ peer: string }>((resolve) => b.once('peer:connect', resolve));
  assert.equal(peer, a.id);
});

test('deny lists keep a peer out; allow lists keep everyone else out', async () => {
  const a = await node();
  const denied = await node();
  const guarded = await node({ deny: [denied.id] });
  const strict = await node({ allow: [a.id] });
  // The gater of the dialling side refuses at once.
  await assert.rejects(guarded.host.dial(denied.host.getMultiaddrs()[0]));
  // The gater of the listening side hangs up during the upgrade: the dialler may see
  // a connection for a moment, but none survives.
  await denied.host.dial(guarded.host.getMultiaddrs()[0]).catch(() => {});
  await denied.host.dial(strict.host.getMultiaddrs()[0]).catch(() => {});
  await new Promise((resolve) => setTimeout(resolve, 1000));
  assert.ok(!guarded.peers().includes(denied.id) && !denied.peers().includes(guarded.id));
  assert.ok(!strict.peers().includes(denied.id) && !denied.peers().includes(strict.id));
  const accepted = new Promise<{ peer: string }>((resolve) => strict.once('peer:connect', resolve));
  await a.host.dial(strict.host.getMultiaddrs()[0]);
  assert.equal((await accepted).peer, a.id, 'the allowed peer gets in');
});

test('leave ends the topic streams and the node stops serving the topic', async () => {
  const a = await node();
  const { rx } = a.stream('short-lived');
  const ended = (async () => {
    for await (const _ of rx) {
      // nothing is published
    }
    return true;
  })();
  a.leave('short-lived');
  assert.equal(await ended, true);
  assert.deepEqual(a.neighbors('short-lived'), { active: [], passive: [] });
});

test('a long history synced to a late node is ordered in batches and reaches its subscriber whole and in order', async () => {
  const a = await node();
  const { tx } = a.stream('history');
  const want = Array.from({ length: 300 }, (_, i) => `m${i}`);
  for (const m of want) await tx.publish(bytes(m));
  const b = await node({ bootstrap: a.addresses });
  const got = await collect(b.stream('history').rx, want);
  assert.deepEqual(got.map(text), want, 'one author: causal order is log order');
  assert.deepEqual(
    got.map((e) => e.lamport),
    want.map((_, i) => i),
  );
});
