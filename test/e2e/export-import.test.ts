/**
 * The file medium with real processes: a chat writes, `walkaway export` puts
 * the topic in a file, `walkaway import` reads it into another data directory
 * (every operation checked as if a peer sent it), and the chat there shows
 * the messages and syncs them on to a peer that never saw the file. Damaged,
 * forged, cut and foreign files: typed refusals, one line, nothing valid lost.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { networkId, topicId } from '../../src/core/index.ts';
import { encodeBundleEnd, encodeBundleHead, encodeBundleOperation } from '../../src/sync/bundle.ts';
import { ChatProcess, tempDirs } from '../helpers/chat-process.ts';
import { expectFailures, runCli as run } from '../helpers/cli.ts';
import { keyFor, makeLog } from '../helpers/ops.ts';

const { dirs, cleanup } = tempDirs(6);
after(cleanup);
const files = dirs[5];

async function importJson(file: string, dataDir: string): Promise<Record<string, any>> {
  const r = await run(['import', file, '--data', dataDir, '--json']);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('a topic travels on a file: export, import checks every operation, a chat syncs it on', async () => {
  const mkdir = await run(['id', '--data', files]);
  assert.equal(mkdir.status, 0);
  const writer = await ChatProcess.chat('usb-room', dirs[0], ['--name', 'ann']);
  const texts = ['one', 'two', 'three'];
  try {
    for (const t of texts) writer.send(t);
    await writer.waitForTexts(texts);
  } finally {
    // SIGTERM: the chat closes its store and releases the data directory for export.
    await writer.kill('SIGTERM');
  }

  const file = join(files, 'usb-room.bundle');
  const exported = await run(['export', 'usb-room', file, '--data', dirs[0], '--json']);
  assert.equal(exported.status, 0, exported.stderr);
  assert.equal(JSON.parse(exported.stdout).operations, 3);
  await expectFailures([[['export', 'usb-room', file, '--data', dirs[0]], 2, /exists; add --force/]]);

  const first = await importJson(file, dirs[1]);
  assert.deepEqual([first.operations, first.inserted, first.duplicate, first.rejected], [3, 3, 0, {}]);
  const again = await importJson(file, dirs[1]);
  assert.deepEqual([again.inserted, again.duplicate], [0, 3], 'a second import stores nothing twice');

  // The chat on the imported store hands the messages to a peer that never saw the file
  // (a chat prints what arrives, not its stored history).
  const reader = await ChatProcess.chat('usb-room', dirs[1], ['--name', 'bob']);
  let peer: ChatProcess | undefined;
  try {
    peer = await ChatProcess.chat('usb-room', dirs[2], ['--name', 'cy', '--bootstrap', reader.address]);
    await peer.waitForTexts(texts, 90_000);
    assert.ok(
      reader.lines.some((l) => l.type === 'sync' && l.event === 'end' && l.sent === 3),
      'the importer sent the 3 imported operations',
    );
    assert.ok(
      peer.messages().every((m) => m.name === 'ann'),
      'the author is the writer, not the importer',
    );
  } finally {
    await Promise.all([reader.kill(), peer?.kill()]);
  }
});

test('forged, out-of-log and foreign operations are refused one by one; the valid ones are kept', async () => {
  const topic = topicId('forged-room');
  const log = makeLog(keyFor(7), 4);
  const forgedBody = new TextEncoder().encode('entry X'); // same length, other bytes: the payload hash differs
  const stranger = makeLog(keyFor(8), 3);
  const parts = [
    encodeBundleHead({ networkId: networkId(), topic }),
    encodeBundleOperation(log[0]),
    encodeBundleOperation(log[1]),
    encodeBundleOperation({ headerBytes: log[2].headerBytes, body: forgedBody }),
    encodeBundleOperation(log[3]), // its backlink (seq 2) was refused: a gap
    encodeBundleOperation({ headerBytes: stranger[0].headerBytes.map((b, i) => (i === stranger[0].headerBytes.length - 1 ? b ^ 1 : b)), body: stranger[0].body }),
    encodeBundleOperation(stranger[0]),
    encodeBundleEnd(6),
  ];
  const file = join(files, 'forged.bundle');
  writeFileSync(file, Buffer.concat(parts));
  const result = await importJson(file, dirs[3]);
  assert.equal(result.operations, 6);
  assert.equal(result.inserted, 3, "log[0], log[1] and the stranger's valid operation");
  assert.equal(result.rejected.PAYLOAD_MISMATCH, 1);
  assert.equal(result.rejected.INVALID_SIGNATURE, 1);
  assert.equal(
    Object.values(result.rejected as Record<string, number>).reduce((a, b) => a + b, 0),
    3,
    JSON.stringify(result.rejected),
  );
});

test('damaged, cut, foreign and non-bundle files: exit 5 with one line; bad flags: exit 2', async () => {
  const topic = topicId('damaged-room');
  const ops = makeLog(keyFor(9), 3);
  const whole = Buffer.concat([encodeBundleHead({ networkId: networkId(), topic }), ...ops.map(encodeBundleOperation), encodeBundleEnd(3)]);
  const cut = join(files, 'cut.bundle');
  writeFileSync(cut, whole.subarray(0, whole.length - 10));
  const foreign = join(files, 'foreign.bundle');
  writeFileSync(foreign, whole);
  const huge = join(files, 'huge.bundle');
  const lying = Buffer.from(whole.subarray(0, encodeBundleHead({ networkId: networkId(), topic }).length));
  writeFileSync(huge, Buffer.concat([lying, Buffer.from([0xff, 0xff, 0xff, 0xf0])]));
  const notBundle = join(files, 'photo.jpg');
  writeFileSync(notBundle, Buffer.from('\xff\xd8\xff\xe0 not a bundle'));
  // Each import into a data directory of its own: the cases run side by side, and one directory admits one process.
  const dataDir = (name: string) => join(dirs[4], name);
  await expectFailures([
    [['import', cut, '--data', dataDir('cut')], 5, /damaged \(2 operations before the damage were imported\): MALFORMED: the bundle is cut short/],
    [['import', foreign, '--data', dataDir('foreign'), '--network', 'elsewhere'], 5, /another network id/],
    [['import', huge, '--data', dataDir('huge')], 5, /TOO_LARGE: frame of 4294967280 bytes/],
    [['import', notBundle, '--data', dataDir('photo')], 5, /not a walkaway bundle/],
    [['import', '--data', dataDir('none')], 2, /import needs a file/],
    [['import', join(files, 'missing.bundle'), '--data', dataDir('missing')], 2, /no file /],
    [['import', cut, '--bogus'], 2, /unknown flag --bogus/],
    [['export', 'damaged-room'], 2, /export needs a topic and a file/],
    [['export', 'nothing-here', join(files, 'x.bundle'), '--data', dataDir('empty')], 2, /no store in .*: nothing to export/],
    [['export', 'a', 'b', 'c'], 2, /unexpected argument "c"/],
  ]);
  await expectFailures([[['export', 'nothing-here', join(files, 'x.bundle'), '--data', dataDir('cut')], 2, /no operations of topic/]]);
  assert.ok(readFileSync(notBundle).length > 0, 'a file that is not a bundle is left as it was');
});
