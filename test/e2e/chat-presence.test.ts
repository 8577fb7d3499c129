/**
 * Two real `walkaway chat --json` processes: when one is killed, the other
 * reports it offline (a presence event with online:false) once its
 * heartbeats stop. The expiry itself is tested with injected time in
 * test/cli/presence.test.ts; here only the event is asserted.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { ChatProcess, tempDirs } from '../helpers/chat-process.ts';

const { dirs, cleanup } = tempDirs(2);
const running: ChatProcess[] = [];
after(async () => {
  await Promise.all(running.map((p) => p.kill()));
  cleanup();
});

test('a killed chat process is reported offline by the other', async () => {
  const ann = await ChatProcess.chat('presence-test', dirs[0], ['--name', 'ann']);
  running.push(ann);
  const bob = await ChatProcess.chat('presence-test', dirs[1], ['--name', 'bob', '--bootstrap', ann.address]);
  running.push(bob);
  const came = await ann.waitFor((l) => l.type === 'presence' && l.author === bob.ready.id && l.online === true, 60_000, 'bob online');
  assert.equal(came.name, 'bob');
  assert.deepEqual(came.here, [{ id: bob.ready.id, name: 'bob' }]);
  await bob.kill('SIGKILL');
  const left = await ann.waitFor((l) => l.type === 'presence' && l.author === bob.ready.id && l.online === false, 60_000, 'bob offline');
  assert.equal(left.name, 'bob');
  assert.deepEqual(left.here, [], 'no one is online');
});
