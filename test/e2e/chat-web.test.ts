/**
 * The chat page in headless Chromium (Debian's `chromium`, driven by
 * playwright-core): two nodes' pages, a message typed in one shows up in
 * the other, through the tokened URL each CLI prints. The same browser then
 * plays the hostile website: a page without the token, a cross-origin post,
 * and DNS rebinding (a foreign name resolved to 127.0.0.1) are all refused.
 * A screenshot goes to test/artifacts/ (ignored by git).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { ChatProcess, tempDirs } from '../helpers/chat-process.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const missing = existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM}: install Debian's "chromium" package (apt-get install chromium) to run the page test`;
if (missing) console.log(`# ${missing}`);

const { dirs, cleanup } = tempDirs(2);
const running: ChatProcess[] = [];
let browser: Browser | undefined;
let attacker: Server | undefined;
after(async () => {
  attacker?.close();
  await browser?.close();
  await Promise.all(running.map((p) => p.kill()));
  cleanup();
});

test("type on one node's page, see the message on the other's", { skip: missing }, async () => {
  const daphne = await ChatProcess.chat('web-test', dirs[0], ['--name', 'daphne', '--web', '0']);
  running.push(daphne);
  const bobby = await ChatProcess.chat('web-test', dirs[1], ['--name', 'bobby', '--web', '0', '--bootstrap', daphne.address]);
  running.push(bobby);
  const urlOf = async (p: ChatProcess) => (await p.waitFor((l) => l.type === 'web', 10_000, 'web url')).url as string;
  await bobby.waitFor((l) => l.type === 'neighbor', 30_000, 'a neighbour');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // evil.test resolves to 127.0.0.1, as a rebinding attacker's DNS would make it.
    args: [
      '--host-resolver-rules=MAP evil.test 127.0.0.1',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const pageA = await browser.newPage();
  const pageB = await browser.newPage();
  const urlA = await urlOf(daphne);
  const urlB = await urlOf(bobby);
  for (const url of [urlA, urlB]) assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/#token=[A-Za-z0-9_-]{43}$/);
  await pageA.goto(urlA);
  await pageB.goto(urlB);
  assert.equal(new URL(pageA.url()).hash, '', 'the page takes the token out of the address bar');
  await pageA.fill('#text', 'hello from the page');
  await pageA.press('#text', 'Enter');
  await pageB.locator('#messages li', { hasText: 'hello from the page' }).waitFor({ timeout: 30_000 });
  const name = await pageB.locator('#messages li', { hasText: 'hello from the page' }).locator('.name').textContent();
  assert.equal(name, 'daphne');
  await pageB.locator('#peers li', { hasText: daphne.ready.id.slice(0, 8) }).waitFor({ timeout: 10_000 });
  await pageA.reload();
  await pageA.locator('#messages li', { hasText: 'hello from the page' }).waitFor({ timeout: 10_000 });

  // Another website (its own server on another port) posts to daphne's: refused, so nothing is published.
  const originA = new URL(urlA).origin;
  const tokenA = new URL(urlA).hash.slice('#token='.length);
  attacker = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>evil</title>'));
  await new Promise<void>((resolve) => attacker!.listen(0, '127.0.0.1', resolve));
  const evil = await browser.newPage();
  await evil.goto(`http://evil.test:${(attacker.address() as AddressInfo).port}/`);
  // A cross-origin fetch: the server answers 403 and, with CORP same-origin, the page cannot even see that.
  const fetched = await evil.evaluate(
    async ([origin, token]) => {
      const plain = await fetch(`${origin}/api/send`, {
        method: 'POST',
        mode: 'no-cors',
        headers: { 'content-type': 'text/plain' },
        body: '{"text":"forged by fetch"}',
      }).then(
        (r) => r.type,
        (e: Error) => e.name,
      );
      const json = await fetch(`${origin}/api/send`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: '{"text":"forged with the token"}',
      }).then(
        (r) => r.status,
        (e: Error) => e.name,
      );
      return { plain, json };
    },
    [originA, tokenA] as const,
  );
  assert.deepEqual(fetched, { plain: 'TypeError', json: 'TypeError' });
  // A classic CSRF form post (text/plain, top-level navigation): 403.
  const [formAnswer] = await Promise.all([
    evil.waitForResponse((r) => r.url().endsWith('/api/send')),
    evil.evaluate((origin) => {
      const form = Object.assign(document.createElement('form'), { method: 'POST', action: `${origin}/api/send`, enctype: 'text/plain' });
      form.append(Object.assign(document.createElement('input'), { name: '{"text":"forged by a form","x":"', value: '"}' }));
      document.body.append(form);
      form.submit();
    }, originA),
  ]);
  assert.equal(formAnswer.status(), 403);

  // DNS rebinding: the page under a foreign name gets 403 for the page and for the API.
  const rebound = await browser.newPage();
  const port = new URL(urlA).port;
  const answer = await rebound.goto(`http://evil.test:${port}/`);
  assert.equal(answer?.status(), 403);
  const snapshot = await rebound.evaluate(async (token) => (await fetch('/api/snapshot', { headers: { authorization: `Bearer ${token}` } })).status, tokenA);
  assert.equal(snapshot, 403);

  // Without the token the page loads but reads nothing.
  const bare = await browser.newPage();
  await bare.goto(`${originA}/`);
  await bare.locator('#status', { hasText: 'token' }).waitFor({ timeout: 10_000 });
  assert.equal(await bare.locator('#messages li').count(), 0);

  // A message after the forged posts arrives; the forged ones never do.
  await pageA.fill('#text', 'after the forgeries');
  await pageA.press('#text', 'Enter');
  await daphne.waitForTexts(['after the forgeries']);
  assert.deepEqual(
    daphne.texts().filter((t) => t.startsWith('forged')),
    [],
  );
  mkdirSync(new URL('../artifacts/', import.meta.url), { recursive: true });
  await pageB.screenshot({ path: new URL('../artifacts/chat-page.png', import.meta.url).pathname });
  assert.ok(existsSync(new URL('../artifacts/chat-page.png', import.meta.url)));
});
