/**
 * The message scheme's state file: a restarted member reads on from where
 * it was (its epochs and channels are in the file), a key used before the
 * restart stays used, and a damaged or misplaced file is a typed error that
 * never gets replaced.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { PrivateKey, utf8 } from '../../../src/core/index.ts';
import { messageStateFile, openMessageState } from '../../../src/encryption/message-scheme/index.ts';
import { seededRandom } from '../../../src/encryption/random.ts';

const dir = mkdtempSync(join(tmpdir(), 'walkaway-message-state-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const T0 = 1_800_000_000_000;
const topic = utf8('walkaway/test/message-state');

test('a restarted member reads on from its state file; used keys stay used; a bad file is a typed error', async () => {
  const random = seededRandom('message-state');
  const ids = [PrivateKey.fromBytes(random(32)), PrivateKey.fromBytes(random(32))];
  const files = ids.map((_, i) => messageStateFile(join(dir, `m${i}`), topic));
  const config = (i: number) => ({ identity: ids[i], topic, random: seededRandom(`message-state-${i}`) });
  const [a, b] = files.map((f, i) => openMessageState(f, config(i), T0));
  assert.equal(a.restored, false);
  a.group.learnBundle(b.group.bundle());
  const created = await a.group.create(
    ids.map((id) => id.publicKey.toBytes()),
    T0,
  );
  const aKey = ids[0].publicKey.toBytes();
  const answered = await b.group.receive({ author: aKey, message: created.publish[0].subarray(2) }, T0);
  for (const body of answered.publish) await a.group.receive({ author: ids[1].publicKey.toBytes(), message: body.subarray(2) }, T0);
  const m1 = a.group.seal(utf8('before the restart'));
  assert.equal(new TextDecoder().decode(b.group.open(aKey, m1)), 'before the restart');
  b.save();

  const restarted = openMessageState(files[1], config(1), T0);
  assert.equal(restarted.restored, true);
  assert.deepEqual(restarted.group.members(), b.group.members());
  const m2 = a.group.seal(utf8('after the restart'));
  assert.equal(new TextDecoder().decode(restarted.group.open(aKey, m2)), 'after the restart');
  assert.throws(
    () => restarted.group.open(aKey, m1),
    (err: { code?: string; data?: { permanent?: boolean } }) => err.code === 'MISSING_KEY' && err.data?.permanent === true,
  );

  assert.throws(() => openMessageState(files[1], config(0), T0), { code: 'MALFORMED' }, "another member's file");
  writeFileSync(files[1], utf8('not a state file'));
  assert.throws(() => openMessageState(files[1], config(1), T0), { code: 'MALFORMED' });
});
