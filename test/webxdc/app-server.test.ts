/**
 * The app server over a real socket, without a browser: who gets in (Host,
 * Origin, Sec-Fetch-Site, the launch cookie), what the app's files carry
 * (CSP, guard.js first, the bridge with this app's values), the update size
 * limit over HTTP, and the update stream: replay after a serial, caught-up,
 * then live.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, test } from 'node:test';
import { strToU8, zipSync } from 'fflate';
import { Node } from '../../src/node/index.ts';
import { openXdc, RateLimit, startAppServer, WebxdcApp, withGuard, type AppServer } from '../../src/webxdc/index.ts';

let node: Node;
let app: WebxdcApp;
let server: AppServer;
let cookie: string;
let port: number;

before(async () => {
  node = await Node.create({ listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false });
  const archive = openXdc(
    zipSync({ 'index.html': strToU8('<!DOCTYPE html><html><script src="webxdc.js"></script></html>'), 'data/x.json': strToU8('{"a":1}') }),
    'test.xdc',
  );
  app = new WebxdcApp(node, { topic: 'webxdc/server-test', archive, selfName: 'alice </script>' });
  server = await startAppServer(app, { port: 0 });
  port = server.port;
});
after(async () => {
  await server.close();
  app.close();
  await node.close();
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function call(path: string, options: { method?: string; headers?: Record<string, string>; body?: string | Uint8Array; until?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: { host: `127.0.0.1:${port}`, ...options.headers } }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => {
        body += chunk.toString();
        // Event streams stay open: stop once the awaited text arrived.
        if (options.until && body.includes(options.until)) {
          res.destroy();
          resolve({ status: res.statusCode!, headers: res.headers, body });
        }
      });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

test('the printed URL swaps the token for an HttpOnly, SameSite=Strict cookie; a wrong token gets nothing', async () => {
  const url = new URL(server.url);
  const bad = await call(`${url.pathname}?t=${'A'.repeat(43)}`);
  assert.equal(bad.status, 403);
  const good = await call(`${url.pathname}${url.search}`);
  assert.equal(good.status, 303);
  assert.equal(good.headers.location, '/');
  const setCookie = String(good.headers['set-cookie']);
  assert.match(setCookie, new RegExp(`^walkaway-xdc-${port}=[A-Za-z0-9_-]{43}; Path=/; HttpOnly; SameSite=Strict$`));
  cookie = setCookie.split(';')[0];
});

test('without the cookie, from another host, origin or site: refused', async () => {
  assert.equal((await call('/index.html')).status, 403);
  assert.equal((await call('/index.html', { headers: { cookie: `walkaway-xdc-${port}=${'A'.repeat(43)}` } })).status, 403);
  assert.equal((await call('/index.html', { headers: { cookie, host: `evil.test:${port}` } })).status, 421);
  assert.equal((await call('/.walkaway/info', { headers: { cookie, origin: 'http://127.0.0.1:1' } })).status, 403);
  assert.equal((await call('/.walkaway/info', { headers: { cookie, 'sec-fetch-site': 'same-site' } })).status, 403);
  assert.equal((await call('/.walkaway/info', { headers: { cookie, 'sec-fetch-site': 'same-origin' } })).status, 200);
});

test("app files: CSP with no other origin, guard.js first, the bridge with this app's values", async () => {
  const index = await call('/index.html', { headers: { cookie } });
  assert.equal(index.status, 200);
  const csp = String(index.headers['content-security-policy']);
  assert.match(csp, /default-src 'self'/);
  assert.match(csp, /connect-src 'self'(;|$)/);
  assert.doesNotMatch(csp, /https?:|\*/);
  assert.ok(index.body.startsWith('<!DOCTYPE html><script src="/.walkaway/guard.js"></script><html>'), index.body);
  const json = await call('/data/x.json', { headers: { cookie } });
  assert.equal(json.headers['content-type'], 'application/json');
  const bridge = await call('/webxdc.js', { headers: { cookie } });
  assert.ok(bridge.body.includes(`"selfAddr":"${app.selfAddr}"`));
  assert.ok(bridge.body.includes('alice \\u003c/script>'), 'a name cannot close the script');
  assert.ok(bridge.body.includes('"sendUpdateMaxSize":128000'));
  for (const path of ['/../../etc/passwd', '/.walkaway/nothing', '/nothing.html', '/%2e%2e/etc/passwd'])
    assert.equal((await call(path, { headers: { cookie } })).status, 404, path);
  assert.equal(withGuard(strToU8('<p>no doctype')).toString(), '<script src="/.walkaway/guard.js"></script><p>no doctype');
});

test('updates over HTTP: the size limit answers 413 with the reason; the stream replays after a serial, then goes live', async () => {
  const post = (body: string) =>
    call('/.walkaway/update', { method: 'POST', headers: { cookie, origin: `http://127.0.0.1:${port}`, 'content-type': 'application/json' }, body });
  const big = await post(JSON.stringify({ payload: 'x'.repeat(128_000) }));
  assert.equal(big.status, 413);
  assert.match(JSON.parse(big.body).message, /128000/);
  assert.equal((await post('{"nopayload":1}')).status, 400);
  assert.equal((await post('{"payload":"first","summary":"1"}')).status, 200);
  assert.equal((await post('{"payload":"second","document":"Doc"}')).status, 200);
  while (app.log.maxSerial < 2) await new Promise((r) => setTimeout(r, 20));
  const all = await call('/.walkaway/events?after=0', { headers: { cookie }, until: 'caught-up' });
  const updates = [...all.body.matchAll(/event: update\ndata: (.*)\n/g)].map((m) => JSON.parse(m[1]));
  assert.deepEqual(updates, [
    { serial: 1, max_serial: 2, update: { payload: 'first', summary: '1' } },
    { serial: 2, max_serial: 2, update: { payload: 'second', document: 'Doc' } },
  ]);
  const later = await call('/.walkaway/events?after=1', { headers: { cookie }, until: 'caught-up' });
  assert.equal([...later.body.matchAll(/event: update/g)].length, 1);
  assert.equal((await call('/.walkaway/events?after=-1', { headers: { cookie } })).status, 400);
  // Live: an update published while a stream is open arrives on it.
  const live = call('/.walkaway/events?after=2', { headers: { cookie }, until: '"payload":"third"' });
  await post('{"payload":"third"}');
  assert.match((await live).body, /"serial":3,"max_serial":3,"update":\{"payload":"third"\}/);
  const info = JSON.parse((await call('/.walkaway/info', { headers: { cookie } })).body);
  assert.equal(info.document, 'Doc');
  assert.equal(info.summary, '1');
  assert.equal(info.chat, false);
});

test('realtime over HTTP: over 128000 bytes is refused; send-to-chat is only for apps from a chat', async () => {
  const headers = { cookie, origin: `http://127.0.0.1:${port}`, 'content-type': 'application/octet-stream' };
  assert.equal((await call('/.walkaway/realtime', { method: 'POST', headers, body: new Uint8Array(128_001) })).status, 413);
  assert.equal((await call('/.walkaway/realtime', { method: 'POST', headers, body: new Uint8Array(10) })).status, 200);
  const chat = await call('/.walkaway/send-to-chat', { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: '{"text":"hi"}' });
  assert.equal(chat.status, 404);
});

test('a runaway app is held to a burst, then a steady rate', () => {
  const rate = new RateLimit(3, 2, 0);
  assert.deepEqual([rate.take(0), rate.take(0), rate.take(0), rate.take(0)], [true, true, true, false]);
  assert.equal(rate.take(499), false, 'not yet a whole token back');
  assert.equal(rate.take(500), true, 'one token after half a second at 2 a second');
  assert.equal(rate.take(10_000), true);
  assert.deepEqual([rate.take(10_000), rate.take(10_000), rate.take(10_000)], [true, true, false], 'refills to the burst, no more');
});
