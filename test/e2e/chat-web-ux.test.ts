/**
 * The chat page as people use it, in headless Chromium against two real
 * `walkaway chat --web` processes: at desktop (1280x800) and phone
 * (390x844) sizes a 20,000-character word wraps and Send stays on screen;
 * the room is in the title; the invite dialog shows the ticket and a QR code
 * that reads back to it; a new name reaches the other peer; and a message
 * typed while the node is down waits in the page and is delivered exactly
 * once after the node restarts on the same data dir and web port and the
 * user opens the new URL (and a send whose answer was lost is not sent
 * again). Screenshots go to test/artifacts/ (ignored by git).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { after, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { decodeTicket } from '../../src/node/index.ts';
import { toHex } from '../../src/core/index.ts';
import { ChatProcess, tempDirs } from '../helpers/chat-process.ts';
import { decodeMatrix, matrixFromImage } from '../helpers/qr-decode.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const missing = existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM}: install Debian's "chromium" package to run the page test`;
const ARTIFACTS = new URL('../artifacts/', import.meta.url).pathname;
const TOPIC = 'ux-room';

const { dirs, cleanup } = tempDirs(2);
const running: ChatProcess[] = [];
let browser: Browser | undefined;
after(async () => {
  await browser?.close();
  await Promise.all(running.map((p) => p.kill()));
  cleanup();
});

const urlOf = async (p: ChatProcess) => (await p.waitFor((l) => l.type === 'web', 10_000, 'web url')).url as string;

/**
 * Every control's box is inside the viewport (nothing pushed off screen);
 * `wide` boxes (messages, taller than the screen and scrolled) only fit its width.
 */
async function assertOnScreen(page: Page, selectors: string[], what: string, wide: string[] = []): Promise<void> {
  const viewport = page.viewportSize()!;
  for (const selector of [...selectors, ...wide]) {
    const box = await page.locator(selector).boundingBox();
    assert.ok(box, `${selector} is shown (${what})`);
    const fitsHeight = wide.includes(selector) || (box.y >= 0 && box.y + box.height <= viewport.height + 0.5);
    assert.ok(box.x >= 0 && box.x + box.width <= viewport.width + 0.5 && fitsHeight, `${selector} ${JSON.stringify(box)} inside ${JSON.stringify(viewport)} (${what})`);
  }
  const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(scrollWidth <= viewport.width, `no horizontal overflow: ${scrollWidth} (${what})`);
}

/** The QR code on the page, read from its pixels. */
async function readQr(page: Page): Promise<string> {
  const png = await page.locator('#qr').screenshot();
  // Pixels are read in a blank page of its own (the chat page's policy allows no data: images).
  const blank = await browser!.newPage();
  const { grey, width, height } = await blank.evaluate(async (b64) => {
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const canvas = Object.assign(document.createElement('canvas'), { width: img.width, height: img.height });
    const ctx = canvas.getContext('2d')!;
    ctx.drawImage(img, 0, 0);
    const rgba = ctx.getImageData(0, 0, img.width, img.height).data;
    const grey: number[] = [];
    for (let i = 0; i < rgba.length; i += 4) grey.push((rgba[i] + rgba[i + 1] + rgba[i + 2]) / 3);
    return { grey, width: img.width, height: img.height };
  }, png.toString('base64'));
  await blank.close();
  return decodeMatrix(matrixFromImage(grey, width, height)).text;
}

test('the chat page at desktop and phone sizes, offline and back', { skip: missing }, async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  const daphne = await ChatProcess.chat(TOPIC, dirs[0], ['--name', 'daphne', '--web', '0']);
  running.push(daphne);
  const bobby = await ChatProcess.chat(TOPIC, dirs[1], ['--name', 'bobby', '--web', '0', '--bootstrap', daphne.address]);
  running.push(bobby);
  await bobby.waitFor((l) => l.type === 'neighbor', 30_000, 'a neighbour');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const desktop = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  const phone = await (
    await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, reducedMotion: 'reduce' })
  ).newPage();
  const urlA = await urlOf(daphne);
  await desktop.goto(urlA);
  await phone.goto(await urlOf(bobby));

  // The room's name is the title and the header.
  assert.equal(daphne.ready.room, TOPIC);
  await desktop.waitForFunction((r) => document.title.includes(r), TOPIC);
  assert.equal(await desktop.locator('#title').textContent(), TOPIC);

  // A 20,000-character word, sent from bobby's terminal, wraps on both pages.
  const word = 'w'.repeat(20_000);
  bobby.send(word);
  for (const page of [desktop, phone]) {
    await page.locator('#messages li.msg', { hasText: 'wwwwwwwwww' }).waitFor({ timeout: 30_000 });
    await page.locator('#text').fill('x'.repeat(20_000));
  }
  const long = ['#messages li.msg:last-child'];
  await assertOnScreen(desktop, ['#send-button', '#text', '#side', '#invite-open', '#messages'], 'desktop', long);
  await assertOnScreen(phone, ['#send-button', '#text', '#side-toggle', '#invite-open', '#messages'], 'phone', long);
  // Long texts show their first lines; "Show all" unfolds the whole word, still wrapped.
  for (const page of [desktop, phone]) await page.locator('#messages li.long .more', { hasText: 'Show all 20,000 characters' }).click();
  assert.equal(await desktop.locator('#messages li.long').count(), 0);
  await assertOnScreen(desktop, ['#send-button', '#text', '#side', '#invite-open'], 'desktop, unfolded', long);
  await assertOnScreen(phone, ['#send-button', '#text', '#side-toggle', '#invite-open'], 'phone, unfolded', long);
  await desktop.screenshot({ path: `${ARTIFACTS}chat-long-word-desktop.png` });
  await phone.screenshot({ path: `${ARTIFACTS}chat-long-word-phone.png` });
  for (const page of [desktop, phone]) await page.locator('#text').fill('');

  // On a phone the sidebar waits behind a button.
  assert.equal(await phone.locator('#side').isVisible(), false);
  await phone.click('#side-toggle');
  await phone.locator('#side').waitFor({ state: 'visible' });
  await phone.locator('#online li', { hasText: 'daphne' }).waitFor({ timeout: 20_000 });
  await assertOnScreen(phone, ['#side', '#peers'], 'phone, sidebar open');
  await phone.screenshot({ path: `${ARTIFACTS}chat-phone-sidebar.png` });
  await phone.click('#scrim', { position: { x: 20, y: 400 } });
  await phone.locator('#side').waitFor({ state: 'hidden' });

  // Invite: the ticket of this topic, as text and as a QR code that reads back to it.
  await desktop.click('#invite-open');
  await desktop.locator('#invite').waitFor({ state: 'visible' });
  const ticket = await desktop.locator('#ticket').inputValue();
  assert.equal(toHex(decodeTicket(ticket).topic), daphne.ready.topic);
  assert.equal(await readQr(desktop), ticket);
  await desktop.screenshot({ path: `${ARTIFACTS}chat-invite.png` });
  await desktop.click('#invite-close');
  await phone.click('#invite-open');
  await phone.locator('#invite').waitFor({ state: 'visible' });
  await assertOnScreen(phone, ['#invite', '#qr', '#invite-close'], 'phone, invite');
  assert.equal(await readQr(phone), await phone.locator('#ticket').inputValue());
  await phone.screenshot({ path: `${ARTIFACTS}chat-phone-invite.png` });
  await phone.click('#invite-close');

  // Day lines; and bobby's page, scrolled up, gets daphne's next message below a "new messages" line.
  assert.ok((await phone.locator('#messages li.day').count()) >= 1);
  for (let i = 0; i < 20; i++) bobby.send(`filler ${i}`);
  await phone.locator('#messages li.msg', { hasText: 'filler 19' }).waitFor({ timeout: 30_000 });
  await phone.evaluate(() => {
    document.getElementById('messages')!.scrollTop = 0;
  });

  // A new name: bobby's terminal and page show it on daphne's next message.
  await desktop.click('#rename-open');
  await desktop.fill('#name', 'Daphne Q.');
  await desktop.click('#rename-save');
  await desktop.locator('#my-name', { hasText: 'Daphne Q.' }).waitFor();
  await desktop.fill('#text', 'a message under my new name');
  await desktop.press('#text', 'Enter');
  const renamed = await bobby.waitFor((l) => l.type === 'message' && l.text === 'a message under my new name', 30_000, 'the renamed message');
  assert.equal(renamed.name, 'Daphne Q.');
  const shown = phone.locator('#messages li.msg', { hasText: 'a message under my new name' });
  await shown.waitFor({ timeout: 30_000 });
  assert.equal(await shown.locator('.name').textContent(), 'Daphne Q.');
  const afterMarker = await phone.evaluate(() => document.querySelector('#messages li.unread-marker')?.nextElementSibling?.textContent ?? '');
  assert.match(afterMarker, /a message under my new name/);
  assert.match(await phone.title(), /^\(1\) /);
  await phone.locator('#jump', { hasText: '1 new message' }).click();
  await phone.waitForFunction(() => !document.title.startsWith('('));
  assert.equal(await phone.locator('#jump').isVisible(), false);

  await desktop.screenshot({ path: `${ARTIFACTS}chat-desktop-light.png` });
  await desktop.emulateMedia({ colorScheme: 'dark' });
  await desktop.screenshot({ path: `${ARTIFACTS}chat-desktop-dark.png` });
  await desktop.emulateMedia({ colorScheme: 'light' });
  await phone.screenshot({ path: `${ARTIFACTS}chat-phone.png` });

  // The node dies: the page says so, and keeps what is typed meanwhile.
  const webPort = new URL(urlA).port;
  await daphne.kill();
  await desktop.locator('#banner').waitFor({ state: 'visible', timeout: 30_000 });
  assert.match((await desktop.locator('#status').textContent()) ?? '', /not answering|lost/);
  await desktop.fill('#text', 'typed while the node was down');
  await desktop.press('#text', 'Enter');
  await desktop.locator('#messages li.pending', { hasText: 'typed while the node was down' }).waitFor();
  await desktop.locator('#status', { hasText: '1 message will be sent' }).waitFor({ timeout: 30_000 });
  await desktop.screenshot({ path: `${ARTIFACTS}chat-offline.png` });

  // Back on the same data dir and web port: a new token. The open page learns it is stale...
  const again = await ChatProcess.chat(TOPIC, dirs[0], ['--name', 'daphne', '--web', webPort, '--bootstrap', bobby.address]);
  running.push(again);
  const urlAgain = await urlOf(again);
  assert.equal(new URL(urlAgain).port, webPort);
  await desktop.locator('#status', { hasText: 'open the address it printed' }).waitFor({ timeout: 30_000 });
  // ...and the new URL, pasted into the same tab (only the fragment changes), sends what
  // waited, once, under the name this browser remembers.
  await desktop.goto(urlAgain);
  const late = await bobby.waitFor((l) => l.type === 'message' && l.text === 'typed while the node was down', 60_000, 'the queued message');
  assert.equal(late.name, 'Daphne Q.');
  await desktop.locator('#messages li.pending').waitFor({ state: 'detached', timeout: 30_000 });
  const beforeSend = await desktop.evaluate(() => Date.now());
  await desktop.fill('#text', 'sent after the queued one');
  await desktop.press('#text', 'Enter');
  await bobby.waitForTexts(['sent after the queued one'], 60_000);
  const order = bobby.texts().filter((t) => t === 'typed while the node was down' || t === 'sent after the queued one');
  assert.deepEqual(order, ['typed while the node was down', 'sent after the queued one']);
  await desktop.reload();
  await desktop.locator('#messages li.msg', { hasText: 'sent after the queued one' }).waitFor({ timeout: 30_000 });
  assert.equal(await desktop.locator('#messages li.msg', { hasText: 'typed while the node was down' }).count(), 1);
  assert.equal(await desktop.locator('#banner').isVisible(), false);

  // A send whose answer was lost (the node published it, then died before answering) stays
  // in the outbox, tried: the next snapshot shows it published, so it is not sent again.
  await desktop.evaluate(
    ([text, at]) => {
      localStorage.setItem('walkaway-outbox', JSON.stringify([{ id: 'lost-answer-0123456789', text, queuedAt: at, triedAt: at }]));
    },
    ['sent after the queued one', beforeSend] as const,
  );
  await desktop.reload();
  await desktop.waitForFunction(() => localStorage.getItem('walkaway-outbox') === '[]');
  await desktop.fill('#text', 'the last one');
  await desktop.press('#text', 'Enter');
  await bobby.waitForTexts(['the last one'], 60_000);
  assert.equal(bobby.texts().filter((t) => t === 'sent after the queued one').length, 1);
  assert.equal(bobby.texts().filter((t) => t === 'typed while the node was down').length, 1);
});
