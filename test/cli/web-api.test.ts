/**
 * The chat page's newer endpoints over real HTTP on 127.0.0.1 with a real
 * ChatSession (memory store): GET /api/invite, POST /api/name and send ids
 * on POST /api/send. Each keeps the Host/Origin/token checks; bad input is
 * a typed 400 and changes nothing; a send id publishes once per launch.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, test } from 'node:test';
import { ChatSession, type ChatEvent } from '../../src/cli/chat-session.ts';
import { startWebServer, type WebServer } from '../../src/cli/web-server.ts';
import { decodeTicket } from '../../src/node/index.ts';
import { toHex } from '../../src/core/index.ts';

let chat: ChatSession;
let web: WebServer;
const events: ChatEvent[] = [];
const seeded = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 53 + 5) & 0xff);

before(async () => {
  chat = await ChatSession.start({ topic: 'web-api-test', name: 'ada', storage: 'memory', listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false });
  chat.on('event', (e: ChatEvent) => events.push(e));
  web = await startWebServer(chat, 0, false, { random: seeded });
});
after(async () => {
  await web.close();
  await chat.close();
});

function http(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: web.port, method, path, headers: { host: `127.0.0.1:${web.port}`, ...headers }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(Buffer.concat(chunks).toString() || 'null') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
const auth = () => ({ authorization: `Bearer ${web.token}` });
const post = (path: string, value: unknown, headers: Record<string, string> = { ...auth(), origin: web.origin, 'content-type': 'application/json' }) =>
  http('POST', path, headers, typeof value === 'string' ? value : JSON.stringify(value));
const messages = (text: string) => events.filter((e) => e.type === 'message' && e.text === text);
/** Waits (bounded: 30 s) until `done()` holds. */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; !done(); i++) {
    if (i > 3000) throw new Error('gave up waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

test("GET /api/invite answers the ticket of the chat's topic, with this node's addresses; only with the token", async () => {
  const reply = await http('GET', '/api/invite', auth());
  assert.equal(reply.status, 200);
  const ticket = decodeTicket(reply.json.ticket);
  assert.equal(toHex(ticket.topic), chat.topicHex);
  assert.equal(reply.json.topic, chat.topicHex);
  assert.deepEqual(ticket.addresses, chat.node.addresses.slice(0, 8));
  assert.equal((await http('GET', '/api/invite')).status, 401);
  assert.equal((await http('GET', '/api/invite', { ...auth(), host: `evil.test:${web.port}` })).status, 403);
  assert.equal((await http('POST', '/api/invite', { ...auth(), origin: web.origin })).status, 405);
});

test('POST /api/name changes the name on the next message; bad names are a 400 and change nothing', async () => {
  for (const bad of [{}, { name: '' }, { name: '   ' }, { name: 'x'.repeat(65) }, { name: 'a\u0007b' }, { name: 'line\nbreak' }, { name: 7 }, [], 'not json']) {
    const reply = await post('/api/name', bad);
    assert.equal(reply.status, 400, JSON.stringify(bad));
    assert.equal(reply.json.error, 'INVALID_ARGUMENT');
  }
  assert.equal(chat.name, 'ada');
  assert.equal((await post('/api/name', { name: 'mallory' }, { ...auth(), 'content-type': 'application/json' })).status, 403, 'a POST without Origin');
  assert.equal((await post('/api/name', { name: 'mallory' }, { ...auth(), origin: 'http://evil.test', 'content-type': 'application/json' })).status, 403);
  assert.equal((await post('/api/name', { name: 'mallory' }, { origin: web.origin, 'content-type': 'application/json' })).status, 401);
  assert.equal((await post('/api/name', { name: 'mallory' }, { ...auth(), origin: web.origin, 'content-type': 'text/plain' })).status, 415);
  assert.equal(chat.name, 'ada');

  const renamed = await post('/api/name', { name: '  Ada L.  ' });
  assert.deepEqual([renamed.status, renamed.json], [200, { name: 'Ada L.' }]);
  assert.equal((await http('GET', '/api/snapshot', auth())).json.name, 'Ada L.');
  assert.equal((await post('/api/send', { text: 'signed with the new name' })).status, 200);
  await until(() => messages('signed with the new name').length === 1);
  assert.equal(messages('signed with the new name')[0].name, 'Ada L.');
});

test('a send id publishes once: the same id again answers the same hash; a bad id is a 400', async () => {
  const id = 'page-0123456789abcdef';
  const first = await post('/api/send', { text: 'exactly once', id });
  const again = await post('/api/send', { text: 'exactly once', id });
  assert.equal(first.status, 200);
  assert.equal(again.json.hash, first.json.hash);
  const other = await post('/api/send', { text: 'exactly once', id: 'page-fedcba9876543210' });
  assert.notEqual(other.json.hash, first.json.hash, 'another id is another message');
  await until(() => messages('exactly once').length === 2);
  assert.equal(new Set(messages('exactly once').map((m) => m.hash)).size, 2);
  for (const bad of ['short', 'x'.repeat(65), 'has space in it', 12345678, null]) {
    const reply = await post('/api/send', { text: 'bad id', id: bad });
    assert.equal(reply.status, 400, JSON.stringify(bad));
  }
  assert.equal(messages('bad id').length, 0);
});

test("the page's script modules are served with the page's security headers", async () => {
  for (const path of ['/qr.js', '/outbox.js', '/sidebar.js', '/chat.js']) {
    const reply = await new Promise<{ status: number; type?: string; csp?: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: web.port, path, headers: { host: `127.0.0.1:${web.port}` }, agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode!, type: res.headers['content-type'], csp: res.headers['content-security-policy'] as string }));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(reply.status, 200, path);
    assert.match(reply.type ?? '', /^text\/javascript/, path);
    assert.match(reply.csp ?? '', /script-src 'self'/, path);
  }
});
