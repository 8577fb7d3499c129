/**
 * Live views over two nodes on 127.0.0.1 (real TCP, real libp2p): the LWW
 * map, the grow-only set, the DAG and the log, with change events; app
 * processors given to `stream`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Node, type LiveMap } from '../../src/node/index.ts';
import { LwwMap, type LwwChange } from '../../src/processors/index.ts';

const open: Node[] = [];
after(async () => {
  await Promise.all(open.map((n) => n.close()));
});

async function pair(): Promise<[Node, Node]> {
  const a = await Node.create({ listen: ['/ip4/127.0.0.1/tcp/0'] });
  const b = await Node.create({ listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: a.addresses });
  open.push(a, b);
  return [a, b];
}

type Changing = { on(e: 'change', f: () => void): unknown; off(e: 'change', f: () => void): unknown };

/** Waits (bounded) until `ok()` holds, checking after every change of `view` (of any, given several). */
async function until(view: Changing | Changing[], ok: () => boolean, what: string): Promise<void> {
  if (ok()) return;
  const views = Array.isArray(view) ? view : [view];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), 30_000);
    const check = () => {
      if (!ok()) return;
      clearTimeout(timer);
      for (const v of views) v.off('change', check);
      resolve();
    };
    for (const v of views) v.on('change', check);
  });
}

test('two nodes share an LWW map: writes, concurrent writes and deletes converge, with change events', async () => {
  const [a, b] = await pair();
  const boardA: LiveMap<string> = a.map('board');
  const boardB: LiveMap<string> = b.map('board');
  const changesB: LwwChange<string>[] = [];
  boardB.on('change', (c) => changesB.push(c));
  await boardA.set('title', 'one');
  assert.equal(boardA.get('title'), 'one', 'a write is in the local view when set() resolves');
  await until(boardB, () => boardB.get('title') === 'one', 'b to see the title');
  assert.equal(changesB[0].key, 'title');
  await Promise.all([boardA.set('x', 'from a'), boardB.set('x', 'from b')]);
  await until([boardA, boardB], () => boardA.entry('x')?.stamp.lamport === boardB.entry('x')?.stamp.lamport && boardA.get('x') === boardB.get('x'), 'x to converge');
  await boardB.delete('title');
  await until(boardA, () => !boardA.has('title'), 'the delete to reach a');
  assert.deepEqual(boardA.entries(), boardB.entries());
  // A view opened later starts from the history in the store.
  const late = b.map<string>('board');
  assert.deepEqual(late.entries(), boardB.entries());
});

test('grow-only set, DAG and log views; stream processors get the history and then live operations', async () => {
  const [a, b] = await pair();
  const tagsA = a.growSet<string>('tags');
  const tagsB = b.growSet<string>('tags');
  await tagsA.add('red');
  await tagsB.add('blue');
  await tagsA.add('red');
  await until(tagsA, () => tagsA.size === 2, 'both tags at a');
  await until(tagsB, () => tagsB.size === 2, 'both tags at b');
  assert.deepEqual(tagsA.values(), tagsB.values());
  assert.ok(tagsB.has('red'));

  const dagA = a.dag('notes');
  const first = await dagA.append(new Uint8Array([1]));
  const second = await dagA.append(new Uint8Array([2]));
  assert.deepEqual(
    dagA.heads().map((h) => h.toHex()),
    [second.toHex()],
  );
  assert.deepEqual(
    dagA.topological().map((h) => h.toHex()),
    [first.toHex(), second.toHex()],
  );

  const logB = b.log('notes');
  await until(logB, () => logB.entries(a.privateKey.publicKey).length === 2, 'a log of two entries at b');

  const outputs: unknown[] = [];
  const map = new LwwMap();
  const { rx } = b.stream('tags', { processors: [map], onOutput: (o) => outputs.push(o) });
  rx.close();
  assert.equal(outputs.length, 0, 'tags are no LWW writes: the map skips them, nothing breaks');
  const counted: string[] = [];
  let third: () => void = () => {};
  const thirdCame = new Promise<void>((resolve) => (third = resolve));
  const onOutput = (h: unknown, name: string) => counted.push(`${name}:${h}`) === 3 && third();
  b.stream('notes', { processors: [{ name: 'count', process: (o) => [o.operation.hash.toHex()] }], onOutput }).rx.close();
  assert.deepEqual(counted, [`count:${first.toHex()}`, `count:${second.toHex()}`], 'history in causal order');
  await a.stream('notes').tx.publish(new Uint8Array([3]));
  await thirdCame;
  assert.equal(counted.length, 3, 'and then the live operation');
});

test('node.useSlot: access and decryption processors sit between causal order and what the app gets', async () => {
  const a = await Node.create({ listen: ['/ip4/127.0.0.1/tcp/0'] });
  open.push(a);
  const order: string[] = [];
  a.useSlot('slots', 'decrypt', {
    name: 'xor',
    process: async (o) => (order.push('decrypt'), [{ ...o, operation: { ...o.operation, body: o.operation.body?.map((b) => b ^ 1) } }]),
  });
  a.useSlot('slots', 'access', { name: 'no-0xff', process: (o) => (order.push('access'), o.operation.body?.[0] === 0xff ? [] : [o]) });
  assert.throws(() => a.useSlot('slots', 'access', { name: 'again', process: (o) => [o] }), /taken/);
  const seen: number[] = [];
  const { tx, rx } = a.stream('slots', { processors: [{ name: 'first-byte', process: (o) => [o.operation.body![0]] }], onOutput: (b) => seen.push(b as number) });
  await tx.publish(new Uint8Array([0xff]));
  await tx.publish(new Uint8Array([4]));
  const it = rx[Symbol.asyncIterator]();
  const { value } = await it.next();
  assert.deepEqual([...value!.body!], [5], 'the denied operation never came; the other one came decrypted');
  assert.deepEqual(seen, [5], 'app processors get what passed the slots');
  assert.deepEqual(order, ['access', 'access', 'decrypt']);
});

test('after a restart a view starts from the stored history, acknowledged or not', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'walkaway-views-'));
  try {
    let a = await Node.create({ dataDir, listen: ['/ip4/127.0.0.1/tcp/0'] });
    // Part of the topic is acknowledged by a stream subscriber, the rest never is.
    const { rx } = a.stream('board');
    const board = a.map<number>('board');
    for (let i = 0; i < 5; i++) await board.set(`k${i % 3}`, i);
    const it = rx[Symbol.asyncIterator]();
    for (let i = 0; i < 3; i++) (await it.next()).value!.ack();
    const before = board.entries();
    await a.close();
    a = await Node.create({ dataDir, listen: ['/ip4/127.0.0.1/tcp/0'] });
    const again = a.map<number>('board');
    assert.deepEqual(again.entries(), before);
    assert.deepEqual(before, [
      ['k0', 3],
      ['k1', 4],
      ['k2', 2],
    ]);
    await a.close();
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
