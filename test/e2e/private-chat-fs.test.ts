/**
 * `walkaway chat <topic> --private --forward-secrecy` as two real processes
 * on 127.0.0.1: the owner creates the room under the message scheme, adds a
 * member, and hands over the room's ticket (version 3, naming the scheme).
 * They read each other; the member reads nothing written before its add;
 * neither store holds a plaintext.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { decodeTicket } from '../../src/node/index.ts';
import { ChatProcess, tempDirs } from '../helpers/chat-process.ts';
import { expectFailures, runCli } from '../helpers/cli.ts';

const { dirs, cleanup } = tempDirs(3);
const running: ChatProcess[] = [];
after(async () => {
  await Promise.all(running.map((p) => p.kill()));
  cleanup();
});

function storeHolds(dir: string, text: string): boolean {
  return readdirSync(dir)
    .filter((f) => f.startsWith('store.db'))
    .some((f) => readFileSync(join(dir, f)).includes(Buffer.from(text)));
}

test('chat --private --forward-secrecy: two processes read each other, the newcomer from its add on', async () => {
  const [ownerDir, memberDir] = dirs;
  const owner = await ChatProcess.chat('fs-room', ownerDir, ['--private', '--forward-secrecy']);
  running.push(owner);
  assert.equal(owner.ready.encryption, 'forward-secrecy');
  const before = 'written before anyone was added';
  owner.send(before);
  await owner.waitFor((l) => l.type === 'message' && l.text === before, 20_000, 'the owner’s own message');

  const member = await ChatProcess.chat(String(owner.ready.ticket), memberDir, ['--bootstrap', owner.address]);
  running.push(member);
  assert.equal(decodeTicket(String(owner.ready.ticket)).scheme, 'message', 'the ticket names the scheme');
  assert.equal(member.ready.encryption, 'forward-secrecy', 'the member takes the scheme from the ticket');
  owner.send(`/add ${member.ready.id} write`);
  await owner.waitFor((l) => l.type === 'member' && l.member === member.ready.id, 20_000, 'the member event');

  // The member reads the owner once the DCGKA add (after its pre-key bundle arrived) is through: the owner says
  // hello until it does; messages from before the add stay unreadable.
  let hello = '';
  for (let i = 0; ; i++) {
    hello = `hello member ${i}`;
    owner.send(hello);
    try {
      await member.waitFor((l) => l.type === 'message' && typeof l.text === 'string' && l.text.startsWith('hello member'), 3_000, 'a hello');
      break;
    } catch (err) {
      if (i >= 15) throw err;
    }
  }
  const reply = 'hi owner, forward-secret';
  member.send(reply);
  await owner.waitFor((l) => l.type === 'message' && l.text === reply && l.author === member.ready.id, 30_000, 'the reply at the owner');
  assert.ok(!member.messages().some((m) => m.text === before), 'nothing from before the add');

  await Promise.all([owner.kill('SIGTERM'), member.kill('SIGTERM')]);
  for (const dir of [ownerDir, memberDir]) for (const text of [before, hello, reply]) assert.ok(!storeHolds(dir, text), `a store holds "${text}"`);
});

test('walkaway ticket --private --forward-secrecy names the scheme; without --private it is one line, exit 2', async () => {
  const printed = await runCli(['ticket', 'fs-ticket-room', '--private', '--forward-secrecy', '--data', dirs[2]]);
  assert.equal(printed.status, 0, printed.stderr);
  const ticket = decodeTicket(printed.stdout.trim());
  assert.equal(ticket.scheme, 'message');
  assert.match(String(ticket.owner), /^[0-9a-f]{64}$/);
  await expectFailures([
    [['ticket', 'fs-ticket-room', '--forward-secrecy', '--data', dirs[2]], 2, /--forward-secrecy goes with --private/],
    [['ticket', 'fs-ticket-room', '--private', '--forward-secrecy', '--key', 'ab'.repeat(32), '--data', dirs[2]], 2, /--forward-secrecy goes with --private/],
  ]);
});
