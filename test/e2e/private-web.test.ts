/**
 * A private topic's members on the chat page (headless Chromium, as
 * chat-web.test.ts): the owner sees itself as manager, adds a member with a
 * level and removes it again; /api/members passes the same token and
 * Origin checks as the rest of the API.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { ChatProcess, tempDirs } from '../helpers/chat-process.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const missing = existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM}: install Debian's "chromium" package to run the page test`;
const { dirs, cleanup } = tempDirs(1);
const running: ChatProcess[] = [];
let browser: Browser | undefined;
after(async () => {
  await browser?.close();
  await Promise.all(running.map((p) => p.kill()));
  cleanup();
});

test('a manager adds and removes members on the page', { skip: missing }, async () => {
  const owner = await ChatProcess.chat('private-web', dirs[0], ['--private', '--web', '0']);
  running.push(owner);
  const url = (await owner.waitFor((l) => l.type === 'web', 10_000, 'web url')).url as string;
  const key = 'cd'.repeat(32);

  const origin = new URL(url).origin;
  const token = new URL(url).hash.slice('#token='.length);
  const body = JSON.stringify({ action: 'add', member: key });
  assert.equal((await fetch(`${origin}/api/members`, { method: 'POST', headers: { 'content-type': 'application/json', origin }, body })).status, 401, 'no token');
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
  assert.equal((await fetch(`${origin}/api/members`, { method: 'POST', headers: { ...headers, origin: 'http://evil.test' }, body })).status, 403, 'another origin');
  const bad = await fetch(`${origin}/api/members`, { method: 'POST', headers: { ...headers, origin }, body: JSON.stringify({ action: 'add', member: 'nope' }) });
  assert.equal(bad.status, 400, 'a bad key');

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
  const page = await browser.newPage();
  await page.goto(url);
  await page.locator('#members li', { hasText: `${owner.ready.id.slice(0, 8)} · manage` }).waitFor({ timeout: 15_000 });
  await page.fill('#member-key', key);
  await page.selectOption('#member-level', 'read');
  await page.click('#members-form button');
  await page.locator('#members li', { hasText: `${key.slice(0, 8)} · read` }).waitFor({ timeout: 15_000 });
  await owner.waitFor((l) => l.type === 'member' && l.member === key && l.level === 'read', 10_000, 'the member event on --json');
  await page.locator(`#members li[data-member="${key}"] button`).click();
  await page.locator(`#members li[data-member="${key}"]`).waitFor({ state: 'detached', timeout: 15_000 });
  await owner.waitFor((l) => l.type === 'member' && l.member === key && l.level === null, 10_000, 'the removal event');
  assert.equal(await page.locator('#members li').count(), 1, 'the owner alone again');
});
