/**
 * Sharing a webxdc app into a chat room, in headless Chromium: daphne's
 * page shares the shopping list's .xdc; bobby's page shows it in the room,
 * opens it (his node fetches the file from the app's topic and checks its
 * hash) and adds an item, which daphne's copy of the app shows. The app's
 * sendToChat puts text into the room.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { zipSync } from 'fflate';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ChatProcess, tempDirs } from '../helpers/chat-process.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const missing = existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM}: install Debian's "chromium" package (apt-get install chromium) to run the page test`;
if (missing) console.log(`# ${missing}`);

const { dirs, cleanup } = tempDirs(3);
const running: ChatProcess[] = [];
let browser: Browser | undefined;
after(async () => {
  await browser?.close();
  await Promise.all(running.map((p) => p.kill()));
  cleanup();
});

/** Clicks Open on the room's message: the chat page opens the app in a new tab (a same-site navigation). */
async function openShared(page: Page, title: string): Promise<{ url: string; tab: Page }> {
  const message = page.locator('#messages li', { hasText: `shared the app "${title}"` });
  await message.waitFor({ timeout: 30_000 });
  const [tab] = await Promise.all([page.context().waitForEvent('page', { timeout: 90_000 }), message.locator('button.open-app').click()]);
  const link = message.locator('a.app-link');
  await link.waitFor({ timeout: 10_000 });
  await tab.waitForLoadState();
  return { url: (await link.getAttribute('href'))!, tab };
}

test('an .xdc shared into a room opens on the other node and both run one instance', { skip: missing }, async () => {
  const folder = new URL('../../examples/webxdc/shopping-list/', import.meta.url).pathname;
  const files: Record<string, Uint8Array> = {};
  for (const name of readdirSync(folder)) files[name] = readFileSync(join(folder, name));
  const xdc = join(dirs[2], 'shopping-list.xdc');
  mkdirSync(dirs[2], { recursive: true });
  writeFileSync(xdc, zipSync(files));

  const daphne = await ChatProcess.chat('apps-room', dirs[0], ['--name', 'daphne', '--web', '0']);
  running.push(daphne);
  const bobby = await ChatProcess.chat('apps-room', dirs[1], ['--name', 'bobby', '--web', '0', '--bootstrap', daphne.address]);
  running.push(bobby);
  await bobby.waitFor((l) => l.type === 'neighbor', 30_000, 'a neighbour');
  const urlOf = async (p: ChatProcess) => (await p.waitFor((l) => l.type === 'web', 10_000, 'web url')).url as string;
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run'] });
  const chatA = await browser.newPage();
  const chatB = await browser.newPage();
  await chatA.goto(await urlOf(daphne));
  await chatB.goto(await urlOf(bobby));

  await chatA.setInputFiles('#xdc', xdc);
  const announced = await bobby.waitFor((l) => l.type === 'message' && l.app, 30_000, 'the app in the room');
  assert.equal(announced.app.title, 'Shopping list');
  assert.equal(announced.name, 'daphne');

  const { url: appUrlB, tab: appB } = await openShared(chatB, 'Shopping list');
  const { url: appUrlA, tab: appA } = await openShared(chatA, 'Shopping list');
  assert.notEqual(new URL(appUrlA).origin, new URL(appUrlB).origin);
  assert.equal(new URL(appB.url()).origin, new URL(appUrlB).origin, 'the tab shows the app');
  await appB.frameLocator('#app').locator('#item').fill('tea');
  await appB.frameLocator('#app').locator('#add button').click();
  await appA.frameLocator('#app').locator('#items li', { hasText: 'tea' }).waitFor({ timeout: 30_000 });

  // sendToChat from the app: the shell offers to send the text into the room.
  const frame = appA.frame({ url: /\/index\.html$/ })!;
  await frame.evaluate(() => window.webxdc.sendToChat({ text: 'we need tea' }));
  await appA.locator('#share-send').click();
  await bobby.waitFor((l) => l.type === 'message' && l.text === 'we need tea', 30_000, 'the text in the room');
});

declare global {
  interface Window {
    webxdc: { sendToChat(m: { text: string }): Promise<void> };
  }
}
