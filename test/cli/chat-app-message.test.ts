/**
 * Room messages that announce a shared webxdc app come from anyone: only
 * well-formed ones (64-hex topic and hash, a title, an integer size) are
 * taken, the title is cut, anything else is not an app message.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeChat, encodeChat } from '../../src/cli/chat-message.ts';

const hex = 'ab'.repeat(32);
const body = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

test('app announcements decode when well formed, and nothing else does', () => {
  const app = { topic: hex, title: 'Poll', sha: hex, size: 7257 };
  assert.deepEqual(decodeChat(encodeChat({ type: 'app', name: 'alice', app })), { type: 'app', name: 'alice', app });
  assert.equal((decodeChat(body({ type: 'app', name: 'a', app: { ...app, title: 'x'.repeat(1000) } })) as { app: { title: string } }).app.title.length, 128);
  for (const bad of [
    { ...app, topic: 'zz' },
    { ...app, sha: hex.toUpperCase() },
    { ...app, topic: `${hex}00` },
    { ...app, title: 5 },
    { ...app, size: 1.5 },
    { ...app, size: '1' },
    null,
  ]) {
    assert.equal(decodeChat(body({ type: 'app', name: 'mallory', app: bad })), undefined, JSON.stringify(bad));
  }
  assert.equal(decodeChat(body({ type: 'app', name: 'mallory' })), undefined);
});
