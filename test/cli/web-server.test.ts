/**
 * The chat page's server against hostile local clients, over real HTTP on
 * 127.0.0.1, with a real ChatSession (memory store): DNS rebinding (spoofed
 * Host), cross-site posts (Origin, Content-Type), missing or wrong tokens,
 * oversized bodies, too many event streams and malformed requests.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { ChatSession, type ChatEvent } from '../../src/cli/chat-session.ts';
import { startWebServer, type WebServer } from '../../src/cli/web-server.ts';
import { newToken, tokenMatches } from '../../src/cli/web-guard.ts';
import { ChatProcess, tempDirs } from '../helpers/chat-process.ts';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

let chat: ChatSession;
let web: WebServer;
const events: ChatEvent[] = [];

/** Deterministic token bytes, so a failing run can be replayed. */
const seeded = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 37 + 11) & 0xff);

before(async () => {
  chat = await ChatSession.start({ topic: 'web-guard-test', name: 'ada', storage: 'memory', listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false });
  chat.on('event', (e: ChatEvent) => events.push(e));
  web = await startWebServer(chat, 0, false, { random: seeded, maxEventStreams: 2 });
});
after(async () => {
  await web.close();
  await chat.close();
});

function http(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: web.port, method, path, headers: { host: `127.0.0.1:${web.port}`, ...headers }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const auth = () => ({ authorization: `Bearer ${web.token}` });
const own = () => ({ origin: web.origin, 'content-type': 'application/json' });

/** Writes raw bytes to the server and returns all it answers until it closes. */
function raw(bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(web.port, '127.0.0.1', () => socket.write(bytes));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString()));
    socket.on('error', reject);
  });
}

/** Opens an event stream and resolves once its headers arrived. */
function openStream(): Promise<{ status: number; lines: string[]; close: () => void; next: (match: (data: string) => boolean) => Promise<string> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: web.port, path: '/api/events', headers: { host: `127.0.0.1:${web.port}`, ...auth() }, agent: false }, (res) => {
      const lines: string[] = [];
      const waiters = new Set<() => void>();
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        lines.push(
          ...chunk
            .split('\n')
            .filter((l) => l.startsWith('data: '))
            .map((l) => l.slice(6)),
        );
        for (const wake of waiters) wake();
      });
      res.on('error', () => {});
      const next = (match: (data: string) => boolean) =>
        new Promise<string>((done) => {
          const check = () => {
            const found = lines.find(match);
            if (found !== undefined) {
              waiters.delete(check);
              done(found);
            }
          };
          waiters.add(check);
          check();
        });
      resolve({ status: res.statusCode!, lines, close: () => req.destroy(), next });
    });
    req.on('error', reject);
    req.end();
  });
}

test('the token is 32 random bytes in base64url, from the injected source, and the printed URL carries it in its fragment', () => {
  assert.equal(web.token, Buffer.from(seeded(32)).toString('base64url'));
  assert.match(web.token, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(web.url, `http://127.0.0.1:${web.port}/#token=${web.token}`);
  assert.notEqual(newToken(), newToken(), 'the default source is random');
  assert.ok(tokenMatches(web.token, web.token));
  assert.ok(!tokenMatches(web.token, `${web.token.slice(0, -1)}${web.token.endsWith('A') ? 'B' : 'A'}`));
  assert.ok(!tokenMatches(web.token, web.token.slice(0, 40)));
});

test('a spoofed Host header gets 403 on every endpoint, even with the token (DNS rebinding)', async () => {
  const hosts = [
    'evil.example',
    `evil.example:${web.port}`,
    `127.0.0.1:${web.port + 1}`,
    '127.0.0.1',
    `localhost.evil.example:${web.port}`,
    `[::1]:${web.port}`,
    `127.0.0.2:${web.port}`,
  ];
  const endpoints: [string, string][] = [
    ['GET', '/'],
    ['GET', '/chat.js'],
    ['GET', '/chat.css'],
    ['GET', '/api/snapshot'],
    ['GET', '/api/events'],
    ['POST', '/api/send'],
    ['GET', '/nothing'],
    ['OPTIONS', '/api/send'],
  ];
  for (const host of hosts) {
    for (const [method, path] of endpoints) {
      const reply = await http(
        method,
        path,
        { ...auth(), host, origin: `http://${host}`, 'content-type': 'application/json' },
        method === 'POST' ? '{"text":"rebound"}' : undefined,
      );
      assert.equal(reply.status, 403, `${method} ${path} with Host ${host}`);
      assert.equal(JSON.parse(reply.body).error, 'FORBIDDEN_HOST');
      assert.ok(!reply.body.includes('snapshot'), 'no history in the answer');
    }
  }
  for (const host of [`127.0.0.1:${web.port}`, `localhost:${web.port}`, `LOCALHOST:${web.port}`]) {
    const reply = await http('GET', '/api/snapshot', { ...auth(), host });
    assert.equal(reply.status, 200, `Host ${host} is ours`);
    assert.equal(JSON.parse(reply.body).type, 'snapshot');
  }
  assert.ok(!events.some((e) => e.type === 'message' && e.text === 'rebound'), 'nothing was published');
});

test('a cross-origin text/plain POST /api/send is refused with 403 and nothing is published', async () => {
  const attempts: Record<string, string>[] = [
    // what <form method=post enctype=text/plain> or fetch(no-cors) from another site sends
    { origin: 'http://evil.example', 'content-type': 'text/plain' },
    { origin: 'http://evil.example', 'content-type': 'text/plain', ...auth() },
    { origin: 'null', 'content-type': 'text/plain', ...auth() },
    { origin: `http://127.0.0.1:${web.port + 1}`, 'content-type': 'application/json', ...auth() },
    { origin: `http://localhost:${web.port}`, 'content-type': 'application/json', ...auth() }, // Host says 127.0.0.1
    { 'content-type': 'application/json', ...auth() }, // a POST without Origin
  ];
  for (const headers of attempts) {
    const reply = await http('POST', '/api/send', headers, '{"text":"forged"}');
    assert.equal(reply.status, 403, JSON.stringify(headers));
    assert.equal(JSON.parse(reply.body).error, 'FORBIDDEN_ORIGIN');
  }
  const plain = await http('POST', '/api/send', { ...own(), ...auth(), 'content-type': 'text/plain' }, '{"text":"forged"}');
  assert.equal(plain.status, 415, 'our own origin still needs application/json');
  assert.equal(JSON.parse(plain.body).error, 'UNSUPPORTED_MEDIA_TYPE');
  // A real send after the refused ones: once it is delivered, the forged ones would have been too.
  const ok = await http('POST', '/api/send', { ...own(), ...auth() }, '{"text":"genuine"}');
  assert.equal(ok.status, 200);
  assert.match(JSON.parse(ok.body).hash, /^[0-9a-f]{64}$/);
  await until(() => events.some((e) => e.type === 'message' && e.text === 'genuine'));
  assert.ok(!events.some((e) => e.type === 'message' && e.text === 'forged'), 'no forged message was published');
  const snapshot = JSON.parse((await http('GET', '/api/snapshot', auth())).body);
  assert.deepEqual(
    snapshot.messages.map((m: ChatEvent) => m.text).filter((t: string) => t !== 'genuine'),
    [],
  );
});

test('every API endpoint answers 401 without the token or with a wrong one; the page itself needs none', async () => {
  const wrong = Buffer.alloc(32, 7).toString('base64url');
  const bad: (Record<string, string> | undefined)[] = [
    undefined,
    { authorization: `Bearer ${wrong}` },
    { authorization: `Bearer ${web.token.slice(0, 42)}` },
    { authorization: `Bearer ${web.token}x` },
    { authorization: `Basic ${web.token}` },
    { authorization: web.token },
    { cookie: `token=${web.token}` },
  ];
  for (const headers of bad) {
    for (const [method, path] of [
      ['GET', '/api/snapshot'],
      ['GET', '/api/events'],
      ['POST', '/api/send'],
      ['GET', '/api/other'],
    ]) {
      const reply = await http(method, path, { ...own(), ...headers }, method === 'POST' ? '{"text":"no token"}' : undefined);
      assert.equal(reply.status, 401, `${method} ${path} with ${JSON.stringify(headers)}`);
      assert.equal(JSON.parse(reply.body).error, 'UNAUTHORIZED');
      assert.equal(reply.headers['www-authenticate'], 'Bearer');
    }
  }
  const inQuery = await http('GET', `/api/snapshot?token=${web.token}`);
  assert.equal(inQuery.status, 401, 'a token in the query does not count: it would leak into logs and history');
  const page = await http('GET', '/');
  assert.equal(page.status, 200);
  assert.ok(!events.some((e) => e.type === 'message' && e.text === 'no token'));
});

test('responses carry CSP, nosniff, no-referrer and frame denial; the page has no inline script or style', async () => {
  for (const [path, headers] of [
    ['/', {}],
    ['/chat.js', {}],
    ['/api/snapshot', auth()],
    ['/api/snapshot', {}],
    ['/nothing', {}],
  ] as const) {
    const reply = await http('GET', path, headers);
    const csp = String(reply.headers['content-security-policy']);
    assert.match(csp, /default-src 'self'/, path);
    assert.match(csp, /frame-ancestors 'none'/, path);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, path);
    assert.equal(reply.headers['x-content-type-options'], 'nosniff', path);
    assert.equal(reply.headers['referrer-policy'], 'no-referrer', path);
    assert.equal(reply.headers['x-frame-options'], 'DENY', path);
    assert.equal(reply.headers['access-control-allow-origin'], undefined, path);
  }
  const html = readFileSync(new URL('../../web/index.html', import.meta.url), 'utf8');
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'every script is a file');
  assert.doesNotMatch(html, /<style|\sstyle=|\son[a-z]+=/i, 'no inline style or handler');
});

test('bodies over 64 KiB get a typed 413, declared or streamed; bad JSON a 400; the server keeps answering', async () => {
  const head = (extra: string) =>
    `POST /api/send HTTP/1.1\r\nHost: 127.0.0.1:${web.port}\r\nOrigin: ${web.origin}\r\nContent-Type: application/json\r\nAuthorization: Bearer ${web.token}\r\n${extra}\r\n`;
  const declared = await raw(head('Content-Length: 10000000\r\n'));
  assert.match(declared, /^HTTP\/1.1 413 /);
  assert.match(declared, /"error":"TOO_LARGE"/);
  const big = 'x'.repeat(64 * 1024 + 1);
  const streamed = await raw(`${head('Transfer-Encoding: chunked\r\n')}${big.length.toString(16)}\r\n${big}\r\n`);
  assert.match(streamed, /^HTTP\/1.1 413 /);
  assert.match(streamed, /"error":"TOO_LARGE"/);
  for (const body of ['{', 'null', '[]', '{"text":5}', '{"text":"   "}', JSON.stringify({ text: 'y'.repeat(16_001) })]) {
    const reply = await http('POST', '/api/send', { ...own(), ...auth() }, body);
    assert.equal(reply.status, 400, body.slice(0, 20));
    assert.equal(JSON.parse(reply.body).error, 'INVALID_ARGUMENT');
  }
  assert.equal((await http('PUT', '/api/send', { ...own(), ...auth() })).status, 405);
  assert.equal((await http('POST', '/', own())).status, 405);
  for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
    const reply = await http(method, '/', auth());
    assert.equal(reply.status, 403, `${method} without Origin`);
    assert.equal(JSON.parse(reply.body).error, 'FORBIDDEN_ORIGIN');
  }
  assert.match(await raw(`GET http://127.0.0.1:${web.port}/api/snapshot HTTP/1.1\r\nHost: 127.0.0.1:${web.port}\r\nConnection: close\r\n\r\n`), /^HTTP\/1.1 400 /);
  assert.match(await raw('\x00\x01garbage\r\n\r\n'), /^HTTP\/1.1 400 /);
  assert.match(await raw(`GET / HTTP/1.1\r\nConnection: close\r\n\r\n`), /^HTTP\/1.1 (400|403) /, 'no Host header');
  assert.equal((await http('GET', '/api/snapshot', auth())).status, 200, 'still serving');
});

test('event streams need the token, deliver messages, and are capped in number', async () => {
  const a = await openStream();
  const b = await openStream();
  assert.deepEqual([a.status, b.status], [200, 200]);
  const third = await http('GET', '/api/events', auth());
  assert.equal(third.status, 503);
  assert.equal(JSON.parse(third.body).error, 'TOO_MANY_STREAMS');
  assert.equal((await http('POST', '/api/send', { ...own(), ...auth() }, '{"text":"streamed"}')).status, 200);
  const got = JSON.parse(await a.next((d) => d.includes('"streamed"')));
  assert.equal(got.type, 'message');
  assert.equal(got.name, 'ada');
  a.close();
  b.close();
  let reopened: Awaited<ReturnType<typeof openStream>> | undefined;
  await until(async () => {
    const s = await openStream();
    if (s.status === 200) reopened = s;
    else s.close();
    return s.status === 200;
  });
  assert.equal(reopened?.status, 200, 'a closed stream frees its place');
  reopened?.close();
});

test('the URL that `walkaway chat --web 0 --json` prints opens the API; without its token nothing does', async () => {
  const { dirs, cleanup } = tempDirs(1);
  const p = await ChatProcess.chat('web-url-test', dirs[0], ['--name', 'cli', '--web', '0']);
  try {
    const url = new URL((await p.waitFor((l) => l.type === 'web', 20_000, 'web url')).url as string);
    assert.equal(url.hostname, '127.0.0.1');
    assert.match(url.hash, /^#token=[A-Za-z0-9_-]{43}$/);
    const token = url.hash.slice('#token='.length);
    const get = (headers: Record<string, string>) =>
      new Promise<number>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: Number(url.port), path: '/api/snapshot', headers, agent: false }, (res) => {
          res.resume();
          resolve(res.statusCode!);
        });
        req.on('error', reject);
        req.end();
      });
    assert.equal(await get({ authorization: `Bearer ${token}` }), 200);
    assert.equal(await get({}), 401);
    assert.equal(await get({ authorization: `Bearer ${token}`, host: `attacker.example:${url.port}` }), 403);
  } finally {
    await p.kill();
    cleanup();
  }
});

async function until(check: () => boolean | Promise<boolean>, attempts = 500): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.fail('condition never held');
}
