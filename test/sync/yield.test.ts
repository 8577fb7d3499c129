/**
 * A transport that takes every write at once (its callback runs in a
 * microtask) emits 'drain' from inside that callback after each write over
 * its high-water mark; the
 * sending driver must let the event loop turn before it reads the next page,
 * or it reads and sends a whole log without socket IO or timers in between.
 */
import assert from 'node:assert/strict';
import { Duplex } from 'node:stream';
import { test } from 'node:test';
import { SqliteStore } from '../../src/store/index.ts';
import { syncOverStream } from '../../src/sync/index.ts';
import { fill, key, makeLog, testOptions, TOPIC } from './helpers.ts';

/** One end of an in-process link whose writes complete in a microtask (as a libp2p stream's do once its drain promise is settled). */
class ImmediateEnd extends Duplex {
  peer!: ImmediateEnd;
  override _read(): void {}
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.peer.push(chunk);
    queueMicrotask(() => callback());
  }
  override _final(callback: (err?: Error | null) => void): void {
    this.peer.push(null);
    callback();
  }
}

test('the sender lets the event loop turn between pages when every write completes in a microtask', async () => {
  const a = SqliteStore.open(':memory:');
  const b = SqliteStore.open(':memory:');
  fill(a, makeLog(key(3), 1200));
  const sa = new ImmediateEnd({ writableHighWaterMark: 1 });
  const sb = new ImmediateEnd({ writableHighWaterMark: 1 });
  sa.peer = sb;
  sb.peer = sa;
  let turns = 0;
  let done = false;
  const tick = () => {
    turns++;
    if (!done) setImmediate(tick);
  };
  setImmediate(tick);
  const hb = syncOverStream(b, sb, { ...testOptions(b), role: 'acceptor', topic: TOPIC });
  const ha = syncOverStream(a, sa, { ...testOptions(a), role: 'initiator', topic: TOPIC, config: { pageSize: 16 } });
  const [sent, got] = await Promise.all([ha.done, hb.done]);
  done = true;
  assert.equal(sent.sent.operations, 1200);
  assert.equal(got.stored, 1200);
  // 1200 operations in pages of at most 16: at least 75 pages. Chained inside
  // 'drain', they took 5 turns of the loop; each waiting for the loop, about one turn per two pages.
  assert.ok(turns >= 25, `${turns} event-loop turns for at least 75 pages`);
});
