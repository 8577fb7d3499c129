/**
 * The chat page in headless Chromium (Debian's `chromium`, driven by
 * playwright-core): two nodes' pages, a message typed in one shows up in
 * the other. A screenshot goes to test/artifacts/ (ignored by git).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { after, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { ChatProcess, tempDirs } from '../helpers/chat-process.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const missing = existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM}: install Debian's "chromium" package (apt-get install chromium) to run the page test`;
if (missing) console.log(`# ${missing}`);

const { dirs, cleanup } = tempDirs(2);
const running: ChatProcess[] = [];
let browser: Browser | undefined;
after(async () => {
  await browser?.close();
  await Promise.all(running.map((p) => p.kill()));
  cleanup();
});

test('type on one node\'s page, see the message on the other\'s', { skip: missing }, async () => {
  const daphne = await ChatProcess.chat('web-test', dirs[0], ['--name', 'daphne', '--web', '0']);
  running.push(daphne);
  const bobby = await ChatProcess.chat('web-test', dirs[1], ['--name', 'bobby', '--web', '0', '--bootstrap', daphne.address]);
  running.push(bobby);
  const urlOf = async (p: ChatProcess) => (await p.waitFor((l) => l.type === 'web', 10_000, 'web url')).url as string;
  await bobby.waitFor((l) => l.type === 'neighbor', 30_000, 'a neighbour');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const pageA = await browser.newPage();
  const pageB = await browser.newPage();
  await pageA.goto(await urlOf(daphne));
  await pageB.goto(await urlOf(bobby));
  await pageA.fill('#text', 'hello from the page');
  await pageA.press('#text', 'Enter');
  await pageB.locator('#messages li', { hasText: 'hello from the page' }).waitFor({ timeout: 30_000 });
  const name = await pageB.locator('#messages li', { hasText: 'hello from the page' }).locator('.name').textContent();
  assert.equal(name, 'daphne');
  await pageB.locator('#peers li', { hasText: daphne.ready.id.slice(0, 8) }).waitFor({ timeout: 10_000 });
  mkdirSync(new URL('../artifacts/', import.meta.url), { recursive: true });
  await pageB.screenshot({ path: new URL('../artifacts/chat-page.png', import.meta.url).pathname });
  assert.ok(existsSync(new URL('../artifacts/chat-page.png', import.meta.url)));
});
