/**
 * The webxdc bridge's semantics, below the HTTP server: serials (per
 * device, from 1, increasing, unchanged across restarts, one per operation
 * even when the node delivers it twice), the update size limit with a
 * clear error, update fields checked, realtime items cut and put back
 * together with bounds, and two real nodes running one app instance.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { isWalkawayError as isError } from '../../src/core/index.ts';
import { Node } from '../../src/node/index.ts';
import {
  decodeTopicBody,
  encodeUpdateBody,
  normalizeUpdate,
  Reassembler,
  SEND_UPDATE_MAX_SIZE,
  selfAddrOf,
  splitRealtime,
  UpdateLog,
  WebxdcApp,
} from '../../src/webxdc/index.ts';
import { decodeRealtimeChunk, REALTIME_CHUNK } from '../../src/webxdc/wire.ts';

const dirs: string[] = [];
const nodes: Node[] = [];
after(async () => {
  await Promise.all(nodes.map((n) => n.close()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function kv() {
  const map = new Map<string, Uint8Array>();
  return { getCursor: (k: string) => map.get(k), setCursor: (k: string, v: Uint8Array) => void map.set(k, v), map };
}

test('serials start at 1, increase by delivery, and a re-delivered operation keeps its first serial', () => {
  const store = kv();
  const log = new UpdateLog(store, 'aa');
  assert.equal(log.maxSerial, 0);
  assert.equal(log.add('h1', '{"payload":1}', {})?.serial, 1);
  assert.equal(log.add('h2', '{"payload":2}', { document: 'Doc', summary: '2 votes' })?.serial, 2);
  assert.equal(log.add('h1', '{"payload":1}', {}), undefined, 'a duplicate is not numbered again');
  assert.deepEqual(
    log.after(0).map((u) => u.serial),
    [1, 2],
  );
  assert.deepEqual(
    log.after(1).map((u) => u.json),
    ['{"payload":2}'],
  );
  assert.deepEqual(log.after(2), []);
  assert.equal(log.document, 'Doc');
  // After a restart the numbering and the latest document/summary are back, and duplicates still recognised.
  const again = new UpdateLog(store, 'aa');
  assert.equal(again.maxSerial, 2);
  assert.equal(again.summary, '2 votes');
  assert.equal(again.add('h2', '{"payload":2}', {}), undefined);
  assert.equal(again.add('h3', '{"payload":3}', {})?.serial, 3);
  // Another topic's log in the same store is separate.
  assert.equal(new UpdateLog(store, 'bb').maxSerial, 0);
  assert.throws(
    () => again.after(-1),
    (e: unknown) => isError(e, 'INVALID_ARGUMENT'),
  );
});

test('an entry written just before a crash (before the max was) is adopted on restart', () => {
  const store = kv();
  const log = new UpdateLog(store, 'aa');
  log.add('h1', '{"payload":1}', {});
  log.add('h2', '{"payload":2}', {});
  store.setCursor('webxdc/aa/max', new TextEncoder().encode('1'));
  const again = new UpdateLog(store, 'aa');
  assert.equal(again.maxSerial, 2);
  assert.equal(again.add('h2', '{}', {}), undefined);
});

test("updates: the size limit is the spec's 128000 bytes, with an error that says so; fields are checked", () => {
  const big = JSON.stringify({ payload: 'x'.repeat(SEND_UPDATE_MAX_SIZE) });
  assert.throws(
    () => normalizeUpdate(big),
    (e: unknown) => isError(e, 'TOO_LARGE') && /sendUpdateMaxSize \(128000\)/.test((e as Error).message),
  );
  const justFits = JSON.stringify({ payload: 'x'.repeat(SEND_UPDATE_MAX_SIZE - 20) });
  assert.ok(normalizeUpdate(justFits).json.length <= SEND_UPDATE_MAX_SIZE);
  assert.throws(
    () => normalizeUpdate('{"info":"no payload"}'),
    (e: unknown) => isError(e, 'INVALID_ARGUMENT'),
  );
  assert.throws(
    () => normalizeUpdate('[1]'),
    (e: unknown) => isError(e, 'INVALID_ARGUMENT'),
  );
  assert.throws(
    () => normalizeUpdate('{"payload":1,"info":5}'),
    (e: unknown) => isError(e, 'INVALID_ARGUMENT'),
  );
  const { json, meta } = normalizeUpdate(
    JSON.stringify({ payload: { a: [1] }, info: 'Alice voted', document: 'Lunch', summary: '3 votes', href: 'index.html#x', extra: 'dropped', notify: { '*': 'hi' } }),
  );
  assert.deepEqual(JSON.parse(json), { payload: { a: [1] }, info: 'Alice voted', document: 'Lunch', summary: '3 votes', href: 'index.html#x', notify: { '*': 'hi' } });
  assert.deepEqual(meta, { info: 'Alice voted', document: 'Lunch', summary: '3 votes' });
  assert.equal(normalizeUpdate('{"payload":null}').json, '{"payload":null}');
  // From the network: ours decode, anything else is dropped without an error.
  assert.deepEqual(decodeTopicBody(encodeUpdateBody('{"payload":1}')), { kind: 'update', json: '{"payload":1}', meta: {} });
  assert.equal(decodeTopicBody(encodeUpdateBody('{"nopayload":1}')), undefined);
  assert.equal(decodeTopicBody(new Uint8Array([0xff, 0x00])), undefined);
  assert.equal(decodeTopicBody(undefined), undefined);
  const deep = '['.repeat(100_000) + ']'.repeat(100_000);
  assert.throws(
    () => normalizeUpdate(`{"payload":${deep}}`),
    (e: unknown) => isError(e),
  );
});

test('realtime: items up to 128000 bytes are cut and put back together; bigger ones are refused', () => {
  const data = new Uint8Array(128_000).map((_, i) => i % 251);
  const pieces = splitRealtime(data, 7);
  assert.equal(pieces.length, Math.ceil(128_000 / REALTIME_CHUNK));
  const r = new Reassembler();
  let whole: Uint8Array | undefined;
  for (const p of [...pieces].reverse()) whole = r.add('alice', decodeRealtimeChunk(p)!, 0) ?? whole;
  assert.deepEqual(whole, data);
  assert.equal(r.size, 0);
  assert.throws(
    () => splitRealtime(new Uint8Array(128_001), 1),
    (e: unknown) => isError(e, 'TOO_LARGE') && /128000/.test((e as Error).message),
  );
  assert.deepEqual(r.add('bob', decodeRealtimeChunk(splitRealtime(new Uint8Array([1, 2]), 1)[0])!, 0), new Uint8Array([1, 2]));
});

test('realtime reassembly is bounded per author and overall, and incomplete items expire', () => {
  const r = new Reassembler({ perAuthor: 2, total: 3, expiryMs: 100 });
  const first = (id: number) => decodeRealtimeChunk(splitRealtime(new Uint8Array(REALTIME_CHUNK * 2), id)[0])!;
  for (let id = 0; id < 10; id++) r.add('mallory', first(id), 0);
  assert.equal(r.size, 2, 'one author holds at most perAuthor incomplete items');
  r.add('eve', first(1), 0);
  r.add('trent', first(1), 0);
  assert.equal(r.size, 3, 'at most total overall');
  r.expire(100);
  assert.equal(r.size, 0, 'incomplete items expire');
  // A short piece that is not the last is refused (it would make the item smaller than announced).
  const forged = { messageId: 9, index: 0, count: 2, bytes: new Uint8Array(5) };
  assert.equal(r.add('mallory', forged, 0), undefined);
  assert.equal(r.size, 1);
});

test('selfAddr is stable per identity and app, and differs between apps and people', () => {
  const topicA = new Uint8Array(32).fill(1);
  const topicB = new Uint8Array(32).fill(2);
  assert.equal(selfAddrOf('ab', topicA), selfAddrOf('ab', topicA));
  assert.notEqual(selfAddrOf('ab', topicA), selfAddrOf('ab', topicB));
  assert.notEqual(selfAddrOf('ab', topicA), selfAddrOf('cd', topicA));
  assert.match(selfAddrOf('ab', topicA), /^[0-9a-f]{64}$/);
});

async function nextUpdate(app: WebxdcApp, want: (json: string) => boolean): Promise<{ serial: number; json: string }> {
  const have = app.log.after(0).find((u) => want(u.json));
  if (have) return have;
  return new Promise((resolve) => {
    const on = (u: { serial: number; json: string }) => {
      if (!want(u.json)) return;
      app.off('update', on);
      resolve(u);
    };
    app.on('update', on);
  });
}

test('two nodes run one app: updates both ways, realtime to the other only, serials kept across a restart', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'walkaway-webxdc-'));
  dirs.push(dataDir);
  const a = await Node.create({ dataDir, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false });
  const b = await Node.create({ listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: a.addresses, mdns: false });
  nodes.push(b);
  const appA = new WebxdcApp(a, { topic: 'webxdc/test/1', selfName: 'alice' });
  const appB = new WebxdcApp(b, { topic: appA.ticket(), selfName: 'bob' });
  assert.equal(appA.topicHex, appB.topicHex);
  assert.notEqual(appA.selfAddr, appB.selfAddr);
  await appA.sendUpdate(JSON.stringify({ payload: { n: 1 }, summary: 'one' }));
  const own = await nextUpdate(appA, (j) => j.includes('"n":1'));
  assert.equal(own.serial, 1, 'the sender gets its own update too');
  await nextUpdate(appB, (j) => j.includes('"n":1'));
  await appB.sendUpdate(JSON.stringify({ payload: { n: 2 } }));
  await nextUpdate(appA, (j) => j.includes('"n":2'));
  assert.deepEqual(
    appA.log.after(0).map((u) => u.serial),
    [1, 2],
  );
  assert.equal(appA.log.summary, 'one');
  await assert.rejects(appA.sendUpdate(JSON.stringify({ payload: 'x'.repeat(SEND_UPDATE_MAX_SIZE) })), (e: unknown) => isError(e, 'TOO_LARGE'));

  // Realtime: b gets a's item (cut in pieces on the way), a never gets its own back.
  const mine: Uint8Array[] = [];
  appA.on('realtime', (d) => mine.push(d));
  const got = new Promise<Uint8Array>((resolve) => appB.once('realtime', resolve));
  const data = new Uint8Array(50_000).map((_, i) => i & 0xff);
  // Ephemeral messages go to the overlay neighbours of the moment: retry until b is one.
  const timer = setInterval(() => void appA.sendRealtime(data), 300);
  try {
    assert.deepEqual(await got, data);
  } finally {
    clearInterval(timer);
  }
  assert.equal(mine.length, 0);

  // Restart a: the same serials for the same updates, and new ones continue after them.
  const before = appA.log.after(0).map((u) => [u.serial, u.json]);
  appA.close();
  await a.close();
  const a2 = await Node.create({ dataDir, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: b.addresses, mdns: false });
  nodes.push(a2);
  const appA2 = new WebxdcApp(a2, { topic: appB.ticket(), selfName: 'alice' });
  assert.equal(appA2.selfAddr, appA.selfAddr, 'selfAddr survives a restart');
  assert.deepEqual(
    appA2.log.after(0).map((u) => [u.serial, u.json]),
    before,
  );
  await appB.sendUpdate(JSON.stringify({ payload: { n: 3 } }));
  const third = await nextUpdate(appA2, (j) => j.includes('"n":3'));
  assert.equal(third.serial, 3);
  appA2.close();
  appB.close();
});
