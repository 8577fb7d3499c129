import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { expectFailures, runCli } from '../helpers/cli.ts';
import { ChatProcess, tempDirs } from '../helpers/chat-process.ts';

const { dirs, cleanup } = tempDirs(4);
const running: ChatProcess[] = [];
after(async () => {
  await Promise.all(running.map((p) => p.kill()));
  cleanup();
});

async function chat(dir: string, extra: string[] = []): Promise<ChatProcess> {
  const p = await ChatProcess.chat('cli-test', dir, extra);
  running.push(p);
  return p;
}

test('two chat --json processes exchange lines both ways, with the JSON fields of the interface', async () => {
  const daphne = await chat(dirs[0], ['--name', 'daphne']);
  const bobby = await chat(dirs[1], ['--name', 'bobby', '--bootstrap', daphne.address]);
  assert.match(daphne.ready.id, /^[0-9a-f]{64}$/);
  assert.ok((daphne.ready.addresses as string[]).every((a) => a.endsWith(`/p2p/${daphne.ready.peerId}`)));
  await daphne.waitFor((l) => l.type === 'peer' && l.peer === bobby.ready.id, 20_000, 'peer line');
  daphne.send('hello bobby');
  bobby.send('hello daphne');
  await bobby.waitForTexts(['hello bobby', 'hello daphne']);
  await daphne.waitForTexts(['hello bobby', 'hello daphne']);
  const got = bobby.messages().find((m) => m.text === 'hello bobby')!;
  assert.equal(got.author, daphne.ready.id);
  assert.equal(got.name, 'daphne');
  assert.equal(got.own, false);
  assert.match(got.hash, /^[0-9a-f]{64}$/);
  assert.ok(got.timestamp > 1e15, 'timestamp is in microseconds');
  assert.equal(daphne.messages().find((m) => m.text === 'hello bobby')!.own, true);
});

test('a killed node misses nothing: the other keeps writing, the restarted one catches up from its data directory', async () => {
  const [daphne, bobby] = running;
  await bobby.kill('SIGKILL');
  daphne.send('while you were away 1');
  daphne.send('while you were away 2');
  await daphne.waitForTexts(['while you were away 1', 'while you were away 2']);
  const again = await chat(dirs[1], ['--name', 'bobby', '--bootstrap', daphne.address]);
  assert.equal(again.ready.id, bobby.ready.id, 'the identity persists in the data directory');
  // What it had acknowledged before the kill is not delivered again; what it missed is.
  await again.waitForTexts(['while you were away 1', 'while you were away 2']);
  again.send('back again');
  await daphne.waitForTexts(['back again']);
});

test('Ctrl-C (SIGINT) closes cleanly: exit code 0 and a consistent store', async () => {
  const p = await chat(dirs[2], ['--name', 'carol']);
  p.send('before ctrl-c');
  await p.waitForTexts(['before ctrl-c']);
  const exited = new Promise<number | null>((resolve) => p.child.once('exit', (code) => resolve(code)));
  p.child.kill('SIGINT');
  assert.equal(await exited, 0);
  const db = new Database(join(dirs[2], 'store.db'));
  assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
  assert.equal((db.prepare('SELECT count(*) AS n FROM operations').get() as { n: number }).n, 1);
  db.close();
});

test('bad flags exit 2 with a message and no stack trace', async () => {
  await expectFailures([
    [['chat'], 2, /chat needs a topic or a ticket/],
    [['chat', 'x', '--port', 'nope'], 2, /--port must be a port number/],
    [['chat', 'x', '--bogus'], 2, /unknown flag --bogus/],
    [['nonsense'], 2, /unknown command "nonsense"/],
    [['chat', 'walkaway:!!!', '--no-mdns', '--port', '0', '--data', dirs[3]], 2, /ticket is not valid/],
  ]);
});

test('id prints the node public key of a data directory; --help explains every command', async () => {
  const id = await runCli(['id', '--data', dirs[0]]);
  assert.equal(id.stdout.trim(), running[0].ready.id);
  const helps = await Promise.all(['chat', 'id', 'ticket', 'relay'].map((command) => runCli([command, '--help'])));
  for (const help of helps) {
    assert.equal(help.status, 0);
    assert.match(help.stdout, /^usage: walkaway/);
  }
});
