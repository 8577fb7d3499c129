import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, test } from 'node:test';
import { ChatProcess, tempDirs } from '../helpers/chat-process.ts';

const { dirs, cleanup } = tempDirs(2);
const running: ChatProcess[] = [];
after(async () => {
  await Promise.all(running.map((p) => p.kill()));
  cleanup();
});

function attack(target: string, topic: string): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('./hostile-peer.ts', import.meta.url).pathname, target, topic], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  return new Promise((resolve) => child.on('exit', () => resolve(out)));
}

test('a peer that sends malformed frames and invalid operations does not stop a node from serving honest peers', async () => {
  const a = await ChatProcess.chat('hostile', dirs[0]);
  running.push(a);
  const b = await ChatProcess.chat('hostile', dirs[1], ['--bootstrap', a.address]);
  running.push(b);
  await b.waitFor((l) => l.type === 'neighbor', 30_000, 'a neighbour');
  const report = await attack(a.address, 'hostile');
  assert.match(report, /done/, `the attacker ran to the end: ${report.slice(-500)}`);
  assert.match(report, /reconnect: refused/, 'the attacker was banned: its new connection was refused');
  assert.equal(a.child.exitCode, null, 'the attacked node is still running');
  a.send('still here');
  b.send('me too');
  await b.waitForTexts(['still here', 'me too']);
  await a.waitForTexts(['still here', 'me too']);
  assert.ok(!a.texts().includes('forged'), 'the forged operation was not accepted');
});
