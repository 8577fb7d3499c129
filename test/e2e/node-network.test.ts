/**
 * Issue 6 end to end: real node processes (`walkaway chat --json`) on
 * 127.0.0.1 with SQLite stores in temp directories, mDNS off, bootstrap
 * addresses instead.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { SqliteStore } from '../../src/store/index.ts';
import { ChatProcess, tempDirs } from '../helpers/chat-process.ts';

const { dirs, cleanup } = tempDirs(16);
const running: ChatProcess[] = [];
let next = 0;
after(async () => {
  await Promise.all(running.map((p) => p.kill()));
  cleanup();
});

async function node(topic: string, extra: string[] = [], dir = dirs[next++]): Promise<ChatProcess> {
  const p = await ChatProcess.chat(topic, dir, extra);
  running.push(p);
  return p;
}

function countStored(dir: string): number {
  const store = SqliteStore.open(join(dir, 'store.db'));
  try {
    return store.operationsAfter(0, 100_000).length;
  } finally {
    store.close();
  }
}

describe('two nodes', () => {
  test('ephemeral messages (presence) arrive live and are never stored', async () => {
    const a = await node('eph');
    const b = await node('eph', ['--bootstrap', a.address]);
    await b.waitFor((l) => l.type === 'presence' && l.author === a.ready.id, 30_000, 'presence of a');
    await a.waitFor((l) => l.type === 'presence' && l.author === b.ready.id, 30_000, 'presence of b');
    a.send('one stored message');
    await b.waitForTexts(['one stored message']);
    await a.kill('SIGTERM');
    assert.equal(countStored(dirs[0]), 1, 'only the chat message is in the store, no presence');
  });

  test('a node with another network id cannot complete a connection', async () => {
    const a = await node('net');
    const stranger = await node('net', ['--network', 'elsewhere', '--bootstrap', a.address]);
    // Give the stranger's dial every chance to succeed, then check that it never did.
    await new Promise((resolve) => setTimeout(resolve, 4000));
    assert.equal(stranger.lines.filter((l) => l.type === 'peer').length, 0);
    assert.equal(a.lines.filter((l) => l.type === 'peer').length, 0);
    const friend = await node('net', ['--bootstrap', a.address]);
    await friend.waitFor((l) => l.type === 'peer' && l.peer === a.ready.id, 30_000, 'same-network connection');
  });
});

describe('five nodes in a chain of bootstrap addresses', () => {
  const chain: ChatProcess[] = [];
  const chainDirs: string[] = [];

  test("every node receives every other node's operations", async () => {
    for (let i = 0; i < 5; i++) {
      chainDirs.push(dirs[next]);
      chain.push(await node('chain', i === 0 ? [] : ['--bootstrap', chain[i - 1].address]));
    }
    await Promise.all(chain.slice(1).map((p) => p.waitFor((l) => l.type === 'neighbor', 30_000, 'a neighbour')));
    chain.forEach((p, i) => p.send(`from node ${i}`));
    const all = chain.map((_, i) => `from node ${i}`);
    await Promise.all(chain.map((p) => p.waitForTexts(all, 60_000)));
  });

  test('after a SIGKILL the others keep delivering; the restarted node catches up by sync', async () => {
    await chain[2].kill('SIGKILL');
    chain[0].send('after the kill');
    chain[4].send('also after the kill');
    for (const i of [0, 1, 3, 4]) await chain[i].waitForTexts(['after the kill', 'also after the kill'], 60_000);
    const again = await node('chain', ['--bootstrap', chain[1].address], chainDirs[2]);
    await again.waitForTexts(['after the kill', 'also after the kill'], 60_000);
  });
});

test('partition: two groups that cannot reach each other write, a link comes back, all converge', async () => {
  const a0 = await node('split');
  const a1 = await node('split', ['--bootstrap', a0.address]);
  const b0 = await node('split');
  const b1 = await node('split', ['--bootstrap', b0.address]);
  await a1.waitFor((l) => l.type === 'neighbor', 30_000, 'a neighbour in group a');
  await b1.waitFor((l) => l.type === 'neighbor', 30_000, 'a neighbour in group b');
  a0.send('written in a');
  b1.send('written in b');
  await a1.waitForTexts(['written in a']);
  await b0.waitForTexts(['written in b']);
  assert.ok(!a0.texts().includes('written in b') && !b0.texts().includes('written in a'), 'the groups were apart');
  a1.send(`/connect ${b0.address}`);
  const everything = ['written in a', 'written in b'];
  await Promise.all([a0, a1, b0, b1].map((p) => p.waitForTexts(everything, 60_000)));
});

test('relay: two nodes that can reach only the relay exchange operations through it, including a sync of 1,000', async () => {
  const relay = await ChatProcess.start(['relay', '--port', '0', '--json']);
  running.push(relay);
  const relayAddr = (relay.ready.addresses as string[]).find((a) => a.includes('127.0.0.1'))!;
  const circuit = `${relayAddr}/p2p-circuit`;
  const a = await node('relayed', ['--listen', circuit]);
  const hasCircuit = (l: Record<string, unknown>) => ((l.addresses as string[] | undefined) ?? []).some((x) => x.includes('127.0.0.1') && x.includes('/p2p-circuit/'));
  const reserved = await a.waitFor((l) => (l.type === 'ready' || l.type === 'addresses') && hasCircuit(l), 30_000, 'a relay reservation');
  const aAddr = (reserved.addresses as string[]).find((x) => x.includes('127.0.0.1') && x.includes('/p2p-circuit/'))!;
  const backlog = Array.from({ length: 1000 }, (_, i) => `backlog ${i}`);
  a.child.stdin.write(backlog.join('\n') + '\n');
  await a.waitFor(() => a.texts().length >= 1000, 60_000, 'a stored its backlog');
  const b = await node('relayed', ['--listen', circuit, '--bootstrap', aAddr]);
  await b.waitForTexts(backlog, 120_000);
  b.send('through the relay');
  await a.waitForTexts(['through the relay'], 60_000);
  assert.ok(
    (b.ready.addresses as string[]).every((x) => x.includes('/p2p-circuit')),
    'b listens only through the relay',
  );
});
