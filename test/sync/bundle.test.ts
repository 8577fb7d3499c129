/** The bundle reader: any chunking gives the same items; its bounds hold before it buffers. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isWalkawayError, networkId, topicId } from '../../src/core/index.ts';
import { BundleReader, encodeBundleEnd, encodeBundleHead, encodeBundleOperation, type BundleItem } from '../../src/sync/bundle.ts';
import { keyFor, makeLog } from '../helpers/ops.ts';

const ops = makeLog(keyFor(3), 5);
const whole = Buffer.concat([encodeBundleHead({ networkId: networkId(), topic: topicId('t') }), ...ops.map(encodeBundleOperation), encodeBundleEnd(5)]);

function readAll(chunkSize: number, reader = new BundleReader()): BundleItem[] {
  const items: BundleItem[] = [];
  for (let i = 0; i < whole.length; i += chunkSize) items.push(...reader.push(whole.subarray(i, i + chunkSize)));
  reader.finish();
  return items;
}

test('one byte at a time or all at once: the same head, operations and trailer', () => {
  const all = readAll(whole.length);
  assert.deepEqual(readAll(1), all);
  assert.deepEqual(readAll(7), all);
  assert.deepEqual(
    all.map((i) => i.type),
    ['head', 'operation', 'operation', 'operation', 'operation', 'operation', 'end'],
  );
  const second = all[2] as Extract<BundleItem, { type: 'operation' }>;
  assert.deepEqual(second.headerBytes, ops[1].headerBytes);
});

test('more operations than allowed, a lying trailer, data after it: typed errors', () => {
  assert.throws(
    () => readAll(whole.length, new BundleReader({ maxOperations: 4 })),
    (e) => isWalkawayError(e, 'TOO_LARGE'),
  );
  const lying = Buffer.concat([whole.subarray(0, whole.length - encodeBundleEnd(5).length), encodeBundleEnd(4)]);
  assert.throws(
    () => new BundleReader().push(lying),
    (e) => isWalkawayError(e, 'MALFORMED') && /trailer counts 4/.test(e.message),
  );
  assert.throws(
    () => new BundleReader().push(Buffer.concat([whole, encodeBundleEnd(5)])),
    (e) => isWalkawayError(e, 'MALFORMED') && /after the bundle trailer/.test(e.message),
  );
  const reader = new BundleReader();
  reader.push(whole.subarray(0, 40));
  assert.throws(
    () => reader.finish(),
    (e) => isWalkawayError(e, 'MALFORMED') && /cut short/.test(e.message),
  );
});
