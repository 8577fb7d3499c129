/**
 * The multicast channel over real UDP sockets on 127.0.0.1 (group
 * 239.255.77.77 on the loopback interface): two channels exchange operations
 * and ephemeral messages; a raw listener in the group sees none of the topic
 * name, topic id, author or bodies; tampered datagrams and another network's
 * are dropped and counted, never thrown; receive budgets hold.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { after, test } from 'node:test';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, logIdForTopic, networkId, topicId, utf8 } from '../../src/core/index.ts';
import { MemoryStore, type StoredOperation } from '../../src/store/index.ts';
import { MulticastChannel, type MulticastOptions } from '../../src/net/multicast/multicast.ts';
import { ReceiveBudget } from '../../src/net/multicast/multicast-budget.ts';
import { deriveTopicKeys, MULTICAST_VERSION, seal } from '../../src/net/multicast/multicast-crypto.ts';
import { InboundStoreDriver } from '../../src/node/inbound/index.ts';
import { keyFor, makeLog } from '../helpers/ops.ts';

/** What a node passes as `ingest`: its inbound path over the store, recording what was stored. */
function inboundOf(store: MemoryStore, stored: StoredOperation[]): MulticastOptions['ingest'] {
  const driver = new InboundStoreDriver({ store, seed: 1, onStored: (_topic, op) => stored.push(op) });
  return (topic, operation, done) => driver.ingest('multicast', topic, operation, (result) => done(result.outcome));
}

const GROUP = '239.255.77.77';
const LOOPBACK = '127.0.0.1';
const TOPIC_NAME = 'multicast-secret-topic-name';
const topic = topicId(TOPIC_NAME);
const net = networkId('multicast-test-net');
const BODY_MARKER = 'plaintext-body-marker-';
const EPHEMERAL_MARKER = 'plaintext-ephemeral-marker';

const closers: (() => void)[] = [];
after(() => closers.forEach((close) => close()));

/** Deterministic nonces: SHA-256 of a seed and a counter. */
function seededRandom(seed: number): (length: number) => Uint8Array {
  let counter = 0;
  return (length) => {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i += 32) {
      out.set(sha256(utf8(`${seed}/${counter++}`)).subarray(0, length - i), i);
    }
    return out;
  };
}

async function freePort(): Promise<number> {
  const probe = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => probe.bind(0, LOOPBACK, resolve));
  const { port } = probe.address();
  probe.close();
  return port;
}

interface Peer {
  channel: MulticastChannel;
  store: MemoryStore;
  stored: StoredOperation[];
  ephemeral: string[];
}

async function peer(port: number, seed: number, options: Partial<MulticastOptions> = {}): Promise<Peer> {
  const store = MemoryStore.create();
  const stored: StoredOperation[] = [];
  const ephemeral: string[] = [];
  const channel = new MulticastChannel({
    store,
    networkId: net,
    port,
    interface: LOOPBACK,
    tickMs: 3_600_000, // ticks are driven by the test
    // The node's inbound path, as a node wires it (src/node/inbound).
    ingest: inboundOf(store, stored),
    onEphemeral: (_topic, bytes) => ephemeral.push(new TextDecoder().decode(bytes)),
    log: () => {},
    randomBytes: seededRandom(seed),
    ...options,
  });
  await channel.start();
  closers.push(() => channel.stop());
  channel.join(topic);
  return { channel, store, stored, ephemeral };
}

/** A plain socket in the group: hears every datagram, can send forged ones. */
async function rawSocket(port: number): Promise<{ heard: Uint8Array[]; send: (d: Uint8Array) => Promise<void> }> {
  const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  const heard: Uint8Array[] = [];
  socket.on('message', (d) => heard.push(new Uint8Array(d)));
  await new Promise<void>((resolve) => socket.bind(port, resolve));
  socket.setMulticastInterface(LOOPBACK);
  socket.addMembership(GROUP, LOOPBACK);
  socket.setMulticastLoopback(true);
  closers.push(() => socket.close());
  const send = (d: Uint8Array) => new Promise<void>((resolve, reject) => socket.send(d, port, GROUP, (err) => (err ? reject(err) : resolve())));
  return { heard, send };
}

/** Runs `step` and checks `done` every 25 ms, up to 10 s (UDP may drop). */
async function until(done: () => boolean, what: string, step: () => void = () => {}): Promise<void> {
  for (let i = 0; i < 400 && !done(); i++) {
    if (i % 8 === 0) step();
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  assert.ok(done(), what);
}

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

const author = keyFor(21);
const ops = makeLog(author, 3, { logId: logIdForTopic(topic), body: (seq) => utf8(`${BODY_MARKER}${seq}`) });

test('multicast: two channels exchange operations; a listener without the topic sees no plaintext; another network reads nothing', async () => {
  const port = await freePort();
  const raw = await rawSocket(port);
  const a = await peer(port, 1);
  const b = await peer(port, 2);
  const other = await peer(port, 3, { networkId: networkId('another-network') });
  for (const op of ops) a.store.ingest(op, topic);

  // B announces it has nothing; A then sends what B lacks.
  await until(
    () => b.stored.length === ops.length,
    'B stored every operation over multicast',
    () => {
      b.channel.tick();
      setTimeout(() => a.channel.tick(), 10);
    },
  );
  assert.deepEqual(
    b.stored.map((op) => op.hash.toHex()),
    ops.map((op) => op.hash.toHex()),
  );
  a.channel.sendEphemeral(topic, utf8(EPHEMERAL_MARKER));
  await until(
    () => b.ephemeral.includes(EPHEMERAL_MARKER),
    'B got the ephemeral message',
    () => a.channel.sendEphemeral(topic, utf8(EPHEMERAL_MARKER)),
  );

  // The listener heard the traffic, and none of it in clear.
  await until(() => raw.heard.length >= a.channel.stats().sent + b.channel.stats().sent, 'the listener heard every datagram sent');
  const secrets = [
    ['topic name', utf8(TOPIC_NAME)],
    ['topic id', topic],
    ['network id', net],
    ['author', author.publicKey.bytes],
    ['ephemeral body', utf8(EPHEMERAL_MARKER)],
    ['operation body', utf8(BODY_MARKER)],
    ...ops.map((op) => [`header ${op.header.seqNum}`, op.headerBytes.subarray(0, 40)] as const),
  ] as const;
  assert.ok(contains(concatBytes(utf8('x'), ops[0].body!), utf8(BODY_MARKER)), 'the search finds what is there');
  for (const datagram of raw.heard) {
    assert.equal(datagram[0], MULTICAST_VERSION);
    for (const [what, bytes] of secrets) assert.ok(!contains(datagram, bytes), `no ${what} in clear`);
  }

  // Another network joined to the same topic name hears it all and can read none of it.
  assert.ok(other.channel.stats().unknownTopic > 0, 'the other network heard datagrams');
  assert.equal(other.channel.stats().accepted, 0);
  assert.equal(other.stored.length, 0);
  assert.deepEqual(other.ephemeral, []);
  assert.deepEqual(other.store.heights(topic), []);
});

test('multicast: tampered and forged datagrams are counted and dropped, never thrown', async () => {
  const port = await freePort();
  const raw = await rawSocket(port);
  const a = await peer(port, 4);
  const b = await peer(port, 5);
  for (const op of ops.slice(0, 1)) a.store.ingest(op, topic);
  a.channel.tick();
  await until(() => raw.heard.length > 0, 'a datagram was heard');
  const genuine = raw.heard[0];
  const flip = (at: number) => {
    const d = genuine.slice();
    d[at] ^= 0x01;
    return d;
  };
  const before = b.channel.stats();
  // Ciphertext, Poly1305 tag and nonce altered: the tag still names B's topic, the seal fails.
  const tampered = [flip(genuine.length - 30), flip(genuine.length - 1), flip(1 + 16 + 3)];
  // A datagram sealed under another network's key with B's tag copied in.
  const foreignKeys = deriveTopicKeys(networkId('another-network'), topic);
  const forged = seal({ ...foreignKeys, tag: deriveTopicKeys(net, topic).tag }, 1, utf8('forged'), new Uint8Array(24));
  for (const d of [...tampered, forged]) await raw.send(d);
  await until(() => b.channel.stats().unauthenticated - before.unauthenticated === 4, 'B counted four unauthenticated datagrams');

  // Altered topic tag or version, truncated, oversized: dropped before any crypto.
  const mid = b.channel.stats();
  for (const d of [flip(5), flip(0), genuine.subarray(0, 40), new Uint8Array(60_001)]) {
    assert.doesNotThrow(() => b.channel.receive(d, 'tester:1'));
  }
  const end = b.channel.stats();
  assert.equal(end.unknownTopic - mid.unknownTopic, 1);
  assert.equal(end.malformed - mid.malformed, 3);
  assert.equal(end.unauthenticated, mid.unauthenticated);
  assert.deepEqual(b.ephemeral, [], 'nothing forged was delivered');

  // The genuine datagram still opens.
  b.channel.receive(genuine, 'tester:1');
  assert.equal(b.channel.stats().accepted, mid.accepted + 1);
});

test('multicast: a sender over its budget is dropped; others and later datagrams pass', () => {
  let now = 0;
  const ephemeral: string[] = [];
  const channel = new MulticastChannel({
    store: MemoryStore.create(),
    networkId: net,
    ingest: () => {},
    onEphemeral: (_t, bytes) => ephemeral.push(new TextDecoder().decode(bytes)),
    log: () => {},
    now: () => now,
    budget: { perSenderDatagramsPerSec: 5, burstSec: 1, totalDatagramsPerSec: 8 },
  });
  channel.join(topic);
  const keys = deriveTopicKeys(net, topic);
  const datagram = (i: number) => seal(keys, 1, utf8(`m${i}`), concatBytes(new Uint8Array(20), new Uint8Array([0, 0, 0, i])));
  for (let i = 0; i < 10; i++) channel.receive(datagram(i), 'flooder:1');
  assert.equal(channel.stats().accepted, 5);
  assert.equal(channel.stats().overBudget, 5);
  for (let i = 0; i < 5; i++) channel.receive(datagram(i), 'other:1');
  assert.equal(channel.stats().accepted, 8, 'the overall budget caps the sum');
  // Unknown tags cost no budget and are counted apart.
  channel.receive(seal(deriveTopicKeys(net, topicId('elsewhere')), 1, utf8('x'), new Uint8Array(24)), 'other:1');
  assert.equal(channel.stats().unknownTopic, 1);
  now += 1000;
  channel.receive(datagram(42), 'flooder:1');
  assert.equal(channel.stats().accepted, 9, 'a second later the sender is admitted again');
  assert.equal(ephemeral.length, 9);
});

test('multicast receive budget: senders tracked up to a count, idle ones expire', () => {
  const budget = new ReceiveBudget({ maxSenders: 2, senderIdleMs: 1000, perSenderDatagramsPerSec: 1, burstSec: 1 }, 0);
  assert.ok(budget.admit('a', 10, 0));
  assert.ok(budget.admit('b', 10, 0));
  // Beyond the count, senders share one bucket: forged addresses gain nothing.
  assert.ok(budget.admit('c', 10, 0));
  assert.ok(!budget.admit('d', 10, 0));
  assert.equal(budget.senders, 2);
  budget.expire(5000);
  assert.equal(budget.senders, 0);
  assert.ok(budget.admit('d', 10, 5000));
  assert.equal(budget.senders, 1);
});

test('multicast datagrams: version byte, then a tag that depends on network and topic', () => {
  const keys = deriveTopicKeys(net, topic);
  const sealed = seal(keys, 0, utf8('payload'), new Uint8Array(24));
  assert.equal(sealed[0], MULTICAST_VERSION);
  assert.deepEqual(sealed.subarray(1, 17), keys.tag);
  assert.notDeepEqual(deriveTopicKeys(networkId('x'), topic).tag, keys.tag);
  assert.notDeepEqual(deriveTopicKeys(net, topicId('y')).tag, keys.tag);
  assert.notDeepEqual(keys.tag, keys.key.subarray(0, 16), 'tag and key come from different info strings');
});
