/**
 * The chat page tells whether the room is encrypted, in headless Chromium
 * against real `walkaway chat --web` processes: a room with --key shows
 * "encrypted · topic key" and its invite (ticket and note) carries the key;
 * a room in clear says so.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { decodeTicket } from '../../src/node/index.ts';
import { ChatProcess, tempDirs } from '../helpers/chat-process.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const missing = existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM}: install Debian's "chromium" package to run the page test`;
const KEY = '5c'.repeat(32);

const { dirs, cleanup } = tempDirs(2);
const running: ChatProcess[] = [];
let browser: Browser | undefined;
after(async () => {
  await browser?.close();
  await Promise.all(running.map((p) => p.kill()));
  cleanup();
});

const urlOf = async (p: ChatProcess) => (await p.waitFor((l) => l.type === 'web', 10_000, 'web url')).url as string;

test('the page shows a keyed room as encrypted with a topic key, and a room in clear as not encrypted', { skip: missing }, async () => {
  const keyed = await ChatProcess.chat('web-keyed-room', dirs[0], ['--name', 'kim', '--web', '0', '--key', KEY]);
  running.push(keyed);
  const plain = await ChatProcess.chat('web-plain-room', dirs[1], ['--name', 'pat', '--web', '0']);
  running.push(plain);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();

  await page.goto(await urlOf(keyed));
  await page.waitForFunction(() => document.getElementById('encryption')?.textContent !== '');
  assert.match((await page.locator('#encryption').textContent())!, /encrypted · topic key/);
  assert.match((await page.locator('#encryption').getAttribute('title'))!, /only those who hold the key/);
  await page.click('#invite-open');
  await page.waitForFunction(() => (document.getElementById('ticket') as HTMLTextAreaElement).value.startsWith('walkaway:'));
  const ticket = decodeTicket(await page.locator('#ticket').inputValue());
  assert.deepEqual(ticket.key, new Uint8Array(Buffer.from(KEY, 'hex')), 'the invite carries the key');
  assert.ok(await page.locator('#invite-key').isVisible(), 'the dialog says the ticket holds the key');

  await page.goto(await urlOf(plain));
  await page.waitForFunction(() => document.getElementById('encryption')?.textContent !== '');
  assert.equal(await page.locator('#encryption').textContent(), 'not encrypted');
  await page.click('#invite-open');
  await page.waitForFunction(() => (document.getElementById('ticket') as HTMLTextAreaElement).value.startsWith('walkaway:'));
  assert.equal(decodeTicket(await page.locator('#ticket').inputValue()).key, undefined);
  assert.equal(await page.locator('#invite-key').isVisible(), false);
});
