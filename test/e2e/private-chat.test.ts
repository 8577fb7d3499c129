/**
 * Private topics through the real command, as separate processes on
 * 127.0.0.1: `walkaway chat <topic> --private`, `/add`, `/remove`,
 * `/members`, `walkaway ticket --private`, and `walkaway group` offline
 * against a data directory. A stranger on the same network who knows the
 * topic's name stores nothing of it; a removed member's later write reaches
 * no one.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { BIN, ChatProcess, tempDirs } from '../helpers/chat-process.ts';
import { expectFailures } from '../helpers/cli.ts';

const { dirs, cleanup } = tempDirs(5);
const running: ChatProcess[] = [];
after(async () => {
  await Promise.all(running.map((p) => p.kill()));
  cleanup();
});

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function chat(topic: string, dir: string, extra: string[] = []): Promise<ChatProcess> {
  const p = await ChatProcess.chat(topic, dir, extra);
  running.push(p);
  return p;
}

/** Authors of the operations stored in a (closed) data directory. */
function storedAuthors(dir: string): string[] {
  const db = new Database(join(dir, 'store.db'), { readonly: true });
  try {
    const rows = db.prepare('SELECT DISTINCT hex(l.author) AS a FROM operations o JOIN logs l ON l.log_ref = o.log_ref').all() as { a: string }[];
    return rows.map((r) => r.a.toLowerCase());
  } finally {
    db.close();
  }
}

/** Whether any file of a (closed) store holds `text` in clear. */
function storeHolds(dir: string, text: string): boolean {
  return readdirSync(dir)
    .filter((f) => f.startsWith('store.db'))
    .some((f) => readFileSync(join(dir, f)).includes(Buffer.from(text)));
}

const idOf = (dir: string) => run(['id', '--data', dir]).stdout.trim();
const line = (name: string, author: string) => (l: { type: string; author?: string; text?: string }) => l.type === 'message' && l.text === name && l.author === author;

test('chat --private: members chat, a stranger stores nothing, a removed member’s later write reaches no one', async () => {
  const [ownerDir, memberDir, strangerDir] = dirs;
  const memberKey = idOf(memberDir);
  assert.match(memberKey, /^[0-9a-f]{64}$/);
  const owner = await chat('secret-room', ownerDir, ['--private']);
  assert.equal(owner.ready.private?.owner, owner.ready.id, 'the creator owns the topic');
  assert.match(String(owner.ready.private?.group), /^[0-9a-f]{64}$/, 'and created its group');
  assert.equal(owner.ready.encryption, 'group', 'a private room is encrypted for its group');

  owner.send(`/add ${memberKey} write`);
  await owner.waitFor((l) => l.type === 'member' && l.member === memberKey && l.level === 'write' && l.by === owner.ready.id, 20_000, 'the member event');

  const port = /\/tcp\/(\d+)\//.exec((owner.ready.addresses as string[]).find((a) => a.includes('/127.0.0.1/'))!)![1];
  const ticket = run(['ticket', 'secret-room', '--private', '--port', port, '--data', ownerDir]).stdout.trim();
  assert.match(ticket, /^walkaway:/);
  const member = await chat(ticket, memberDir);
  assert.equal(member.ready.private?.owner, owner.ready.id, 'the ticket names the owner');
  const stranger = await chat('secret-room', strangerDir, ['--bootstrap', owner.address]);
  assert.equal(stranger.ready.private, undefined, 'the stranger knows only the name');

  assert.equal(member.ready.encryption, 'group');
  owner.send('for members only');
  stranger.send('let me in');
  // Sealed under the owner's first secret: the member reads it once its welcome (with the history) arrives.
  await member.waitFor(line('for members only', owner.ready.id), 30_000, 'the owner’s message at the member');
  member.send('hello owner');
  await owner.waitFor(line('hello owner', memberKey), 30_000, 'the member’s message at the owner');
  await owner.waitFor((l) => l.type === 'peer' && l.peer === stranger.ready.id, 20_000, 'the stranger connected');
  owner.send('/members');
  const members = await owner.waitFor((l) => l.type === 'members', 10_000, 'the member list');
  assert.deepEqual(
    (members.members as { member: string; level: string }[]).map((m) => [m.member, m.level]).sort(),
    [
      [memberKey, 'write'],
      [owner.ready.id, 'manage'],
    ].sort(),
  );

  owner.send(`/remove ${memberKey}`);
  await owner.waitFor((l) => l.type === 'member' && l.member === memberKey && l.level === null, 20_000, 'the removal event');
  member.send('after my removal');
  // Either it still seals under an old secret, or it has seen its removal and holds no secret that seals.
  await member.waitFor((l) => line('after my removal', memberKey)(l) || l.type === 'error', 10_000, 'the member’s own late message');
  // Right after the removal the owner seals only once its fresh secret is in: try again until it is.
  for (let tries = 0; !owner.texts().includes('owner goes on'); tries++) {
    assert.ok(tries < 20, 'the owner writes again after the removal');
    owner.send('owner goes on');
    await owner.waitFor((l) => line('owner goes on', owner.ready.id)(l) || l.type === 'error', 10_000, 'the owner’s later message');
  }
  // The late write has been out for a while over a live connection; it must not have landed anywhere.
  await new Promise((r) => setTimeout(r, 3000));
  assert.ok(!owner.texts().includes('after my removal') && !stranger.texts().includes('after my removal'));
  assert.ok(!member.texts().includes('owner goes on'), 'the removed member gets nothing new either');
  assert.ok(!stranger.texts().includes('for members only'), 'the stranger got no message');
  for (const p of [owner, member, stranger]) await p.kill();
  assert.deepEqual(storedAuthors(strangerDir), [stranger.ready.id], 'the stranger stores only its own operations: no header, no body of the topic');
  assert.ok(!storedAuthors(ownerDir).includes(stranger.ready.id), 'nothing of the stranger reached the owner');
  for (const dir of [ownerDir, memberDir, strangerDir]) {
    for (const text of ['for members only', 'hello owner', 'owner goes on']) {
      assert.ok(!storeHolds(dir, text), `no plaintext of "${text}" at rest in ${dir}`);
    }
  }
});

test('walkaway group and device work offline on the data directory; bad flags are one line and exit 2', async () => {
  const dir = dirs[3];
  const key = 'ab'.repeat(32);
  const created = run(['group', 'create', 'team', '--data', dir, '--json']);
  assert.equal(created.status, 0, created.stderr);
  const { group, owner } = JSON.parse(created.stdout) as { group: string; owner: string };
  assert.match(group, /^[0-9a-f]{64}$/);
  assert.equal(run(['group', 'add', 'team', key, '--level', 'read', '--data', dir]).status, 0);
  assert.equal(run(['group', 'promote', 'team', key, '--level', 'manage', '--data', dir]).status, 0);
  const shown = JSON.parse(run(['group', 'show', 'team', '--data', dir, '--json']).stdout) as { group: string; members: { member: string; level: string }[] };
  assert.equal(shown.group, group, 'rebuilt from the store in a new process');
  assert.deepEqual(
    shown.members.map((m) => [m.member, m.level]).sort(),
    [
      [key, 'manage'],
      [owner, 'manage'],
    ].sort(),
  );
  assert.equal(run(['group', 'demote', 'team', key, '--level', 'pull', '--data', dir]).status, 0);
  assert.equal(run(['group', 'remove', 'team', key, '--data', dir]).status, 0);
  const after = JSON.parse(run(['group', 'show', 'team', '--data', dir, '--json']).stdout) as { members: { member: string }[] };
  assert.deepEqual(
    after.members.map((m) => m.member),
    [owner],
  );

  // A second device of the owner: added to the owner's identity group on every private topic here, it gets the owner's level.
  const device = 'ef'.repeat(32);
  const added = JSON.parse(run(['device', 'add', device, '--data', dir, '--json']).stdout) as { identity: string; devices: string[] };
  assert.match(added.identity, /^[0-9a-f]{64}$/);
  assert.deepEqual(added.devices.sort(), [owner, device].sort());
  const withDevice = JSON.parse(run(['group', 'show', 'team', '--data', dir, '--json']).stdout) as { members: { member: string; level: string }[] };
  assert.deepEqual(withDevice.members.find((m) => m.member === device)?.level, 'manage', 'the device holds the owner’s access through the identity');

  await expectFailures([
    [['device', 'add', 'zz', '--data', dir], 2, /the public key must be 64 hex characters/],
    [['device', 'list', device, '--data', dir], 2, /device list takes no public key/],
    [['group', 'add', 'team', 'not-a-key', '--data', dir], 2, /the public key must be 64 hex characters/],
    [['group', 'promote', 'team', key, '--data', dir], 2, /group promote needs --level/],
    [['group', 'add', 'team', key, '--level', 'boss', '--data', dir], 2, /the level must be one of pull, read, write, manage/],
    [['group', 'show', 'team', key, '--data', dir], 2, /group show takes no public key/],
    [['group', 'frob', 'team', '--data', dir], 2, /group needs an action/],
    [['group', 'add', 'other', key, '--data', dir], 2, /"other" is not a private topic/],
    [['chat', 'walkaway:abc', '--private', '--data', dirs[4]], 2, /--private takes a topic name/],
  ]);
});
