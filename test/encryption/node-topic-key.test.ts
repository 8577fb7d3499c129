/**
 * A topic key on real nodes over 127.0.0.1 (TCP, libp2p): two nodes with the
 * key read each other's plaintext; a third node that carries the topic
 * without the key relays and stores only ciphertext: no message's bytes
 * appear anywhere in its SQLite files, and its app sees no plaintext.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { utf8 } from '../../src/core/index.ts';
import { seededRandom, topicKeyEncryption } from '../../src/encryption/index.ts';
import type { TopicEvent } from '../../src/node/index.ts';
import { localNodes } from '../helpers/nodes.ts';
import type { Receiver } from '../../src/node/receiver.ts';

const root = mkdtempSync(join(tmpdir(), 'walkaway-topic-key-'));
const local = localNodes({ storage: 'memory' });
const node = local.node;
after(() => rmSync(root, { recursive: true, force: true }));

/** Events from rx until `n` arrived (bounded wait). */
async function take(rx: Receiver<TopicEvent>, n: number, timeoutMs = 30_000): Promise<TopicEvent[]> {
  const got: TopicEvent[] = [];
  const timer = setTimeout(() => rx.close(), timeoutMs);
  const it = rx[Symbol.asyncIterator]();
  while (got.length < n) {
    const { value, done } = await it.next();
    if (done) break;
    got.push(value);
    value.ack();
  }
  clearTimeout(timer);
  return got;
}

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(haystack.buffer, haystack.byteOffset, haystack.byteLength).indexOf(Buffer.from(needle)) >= 0;
}

test('members read plaintext; a relay without the key stores and sees only ciphertext', async () => {
  const random = seededRandom('node-topic-key');
  const key = random(32);
  const topic = 'walkaway/test/keyed-room';
  const relayDir = join(root, 'relay');
  const relay = await node({ dataDir: relayDir, storage: 'sqlite' });
  const a = await node({ bootstrap: relay.addresses });
  const b = await node({ bootstrap: relay.addresses });
  const relayStream = relay.stream(topic);
  const encA = topicKeyEncryption({ topic, key, author: a.privateKey.publicKey.toBytes(), random });
  const encB = topicKeyEncryption({ topic, key, author: b.privateKey.publicKey.toBytes(), random });
  const streamA = a.stream(topic, { encryption: encA });
  const streamB = b.stream(topic, { encryption: encB });
  const messages = ['the launch code is 0000', 'meet behind the old mill at nine', 'bring the blue folder'];
  await streamA.tx.publish(utf8(messages[0]));
  await streamB.tx.publish(utf8(messages[1]));
  await streamA.tx.publish(utf8(messages[2]));
  const atA = await take(streamA.rx, 3);
  const atB = await take(streamB.rx, 3);
  const atRelay = await take(relayStream.rx, 3);
  const texts = (events: TopicEvent[]) => events.map((e) => new TextDecoder().decode(e.body)).sort();
  assert.deepEqual(texts(atA), [...messages].sort());
  assert.deepEqual(texts(atB), [...messages].sort());
  assert.equal(atRelay.length, 3, 'the relay carries all three');
  for (const e of atRelay) for (const m of messages) assert.ok(!contains(e.body!, utf8(m)), 'the relay app sees ciphertext');
  // Even the members store ciphertext: the plaintext exists only on the way to the app.
  for (const op of a.store.operationsAfter(0, 100, relayStream.topic)) {
    for (const m of messages) assert.ok(!op.body || !contains(op.body, utf8(m)));
  }
  await relay.close();
  local.release(relay);
  const files = readdirSync(relayDir).filter((f) => f.startsWith('store'));
  assert.ok(files.length > 0, `the relay wrote its store (${readdirSync(relayDir).join(', ')})`);
  for (const f of files) {
    const bytes = readFileSync(join(relayDir, f));
    for (const m of messages) assert.ok(!contains(bytes, utf8(m)), `${f} holds no plaintext of "${m}"`);
  }
  assert.equal(encA.stats().rejected + encB.stats().rejected, 0);
});
