/**
 * The contract every Store implementation passes (memory, SQLite): the
 * ingest rules of DESIGN.md (core, store), reads, topics and cursors.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encode } from 'cborg';
import { createOperation, Hash, toHex, withSignature, type Operation } from '../../src/core/index.ts';
import type { IngestOutcome, Store } from '../../src/store/index.ts';
import { keyFor, logIdFor, makeLog, nextOp } from '../helpers/ops.ts';

export type OpenStore = () => { store: Store; cleanup?: () => void };

const topic = new Uint8Array(32).fill(0xaa);

function ingestAll(store: Store, ops: Operation[], t: Uint8Array | undefined = topic): IngestOutcome[] {
  return ops.map((op) => store.ingest(op, t));
}

function statuses(outcomes: IngestOutcome[]): string[] {
  return outcomes.map((o) => (o.status === 'rejected' ? `rejected:${o.error.code}` : o.status));
}

/** Everything observable about one log, for comparing two stores. */
function snapshot(store: Store, ops: Operation[]): string {
  const author = ops[0].header.publicKey;
  const logId = logIdFor(1);
  const entries = store.readLog(author, logId, -1, 1000).map((op) => op.hash.toHex());
  const forks = store.forks().map((f) => ({ seq: f.seqNum, headers: f.headers.map(toHex) }));
  return JSON.stringify({ entries, forks });
}

export function runStoreContract(name: string, open: OpenStore): void {
  describe(`Store contract: ${name}`, () => {
    const withStore = (fn: (store: Store) => void) => () => {
      const { store, cleanup } = open();
      try {
        fn(store);
      } finally {
        store.close();
        cleanup?.();
      }
    };

    test(
      'a valid log is stored and read back in order, paged',
      withStore((store) => {
        const ops = makeLog(keyFor(1), 10);
        assert.deepEqual(statuses(ingestAll(store, ops)), Array(10).fill('inserted'));
        const author = keyFor(1).publicKey;
        assert.equal(store.latest(author, logIdFor(1))?.header.seqNum, 9);
        const page1 = store.readLog(author, logIdFor(1), -1, 4);
        const page2 = store.readLog(author, logIdFor(1), page1[3].header.seqNum, 100);
        assert.deepEqual(
          [...page1, ...page2].map((o) => o.header.seqNum),
          [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        );
        const got = store.getOperation(ops[4].hash)!;
        assert.ok(got.hash.equals(ops[4].hash));
        assert.deepEqual(got.body, ops[4].body);
        assert.deepEqual(got.headerBytes, ops[4].headerBytes);
        assert.equal(got.header.seqNum, 4);
        assert.ok(store.hasOperation(ops[9].hash));
      }),
    );

    test(
      'topics map to logs and their heights',
      withStore((store) => {
        ingestAll(store, makeLog(keyFor(1), 3));
        ingestAll(store, makeLog(keyFor(2), 5));
        ingestAll(store, makeLog(keyFor(3), 2), new Uint8Array(32).fill(0xbb));
        const heights = store
          .heights(topic)
          .map((h) => [h.author.toHex(), h.seqNum])
          .sort();
        assert.deepEqual(
          heights,
          [
            [keyFor(1).publicKey.toHex(), 2],
            [keyFor(2).publicKey.toHex(), 4],
          ].sort(),
        );
        assert.equal(store.logs(topic).length, 2);
        assert.equal(store.logs(new Uint8Array(32)).length, 0);
        assert.deepEqual(store.heights(new Uint8Array(32)), []);
      }),
    );

    test(
      'duplicates are skipped, and still linked to a new topic',
      withStore((store) => {
        const ops = makeLog(keyFor(1), 3);
        ingestAll(store, ops);
        const other = new Uint8Array(32).fill(0xcc);
        assert.deepEqual(statuses(ingestAll(store, ops, other)), ['duplicate', 'duplicate', 'duplicate']);
        assert.equal(store.readLog(keyFor(1).publicKey, logIdFor(1), -1, 100).length, 3);
        assert.equal(store.logs(other).length, 1);
      }),
    );

    test(
      'SEQ_GAP: a gap is rejected and nothing valid is lost',
      withStore((store) => {
        const ops = makeLog(keyFor(1), 4);
        const order = [ops[0], ops[2], ops[1], ops[2], ops[3]];
        assert.deepEqual(statuses(ingestAll(store, order)), ['inserted', 'rejected:SEQ_GAP', 'inserted', 'inserted', 'inserted']);
        assert.deepEqual(statuses(ingestAll(store, [makeLog(keyFor(2), 2)[1]])), ['rejected:SEQ_GAP']);
      }),
    );

    test(
      'BACKLINK_MISMATCH: right seqNum, wrong backlink',
      withStore((store) => {
        const key = keyFor(1);
        const [op0] = makeLog(key, 1);
        const bad = createOperation({
          privateKey: key,
          seqNum: 1,
          backlink: Hash.digest(new Uint8Array([1])),
          extensions: { variant: 'basic', logId: logIdFor(1), timestamp: 1, pruneFlag: false },
        });
        assert.deepEqual(statuses(ingestAll(store, [op0, bad])), ['inserted', 'rejected:BACKLINK_MISMATCH']);
      }),
    );

    test(
      'UNSUPPORTED_EXTENSION: unknown extensions are neither stored nor fatal',
      withStore((store) => {
        const key = keyFor(1);
        const unsigned = encode([1, key.publicKey.bytes, 0, 0, [9, 9]]);
        const headerBytes = withSignature(unsigned, key.sign(unsigned));
        const op = {
          hash: Hash.digest(headerBytes),
          header: { ...makeLog(key, 1)[0].header, extensions: { variant: 'unknown' as const, version: 9, variantId: 9 } },
          headerBytes,
        };
        assert.deepEqual(statuses([store.ingest(op, topic)]), ['rejected:UNSUPPORTED_EXTENSION']);
        assert.equal(store.hasOperation(op.hash), false);
      }),
    );

    test(
      'FORK: the log is cut at the fork point, evidence is kept, nothing beyond is accepted',
      withStore((store) => {
        const key = keyFor(1);
        const a = makeLog(key, 6);
        const b = nextOp(key, a[2], new Uint8Array([0xbb]));
        ingestAll(store, a);
        const [outcome] = ingestAll(store, [b]);
        assert.equal(outcome.status, 'rejected');
        assert.equal(outcome.status === 'rejected' && outcome.error.code, 'FORK');
        assert.equal(outcome.status === 'rejected' && outcome.error.data.author, key.publicKey.toHex());
        assert.deepEqual(
          store.readLog(key.publicKey, logIdFor(1), -1, 100).map((o) => o.header.seqNum),
          [0, 1, 2],
        );
        const [fork] = store.forks();
        assert.equal(fork.seqNum, 3);
        assert.ok(fork.author.equals(key.publicKey));
        assert.deepEqual(statuses(ingestAll(store, [a[3], a[4]])), ['rejected:FORK', 'rejected:FORK']);
      }),
    );

    test('FORK: the end state does not depend on arrival order', () => {
      const key = keyFor(1);
      const a = makeLog(key, 6);
      const b3 = nextOp(key, a[2], new Uint8Array([0xbb]));
      const b4 = nextOp(key, b3, new Uint8Array([0xbc]));
      const c3 = nextOp(key, a[2], new Uint8Array([0xcc]));
      const orders = [
        [...a, b3, b4, c3],
        [a[0], a[1], a[2], b3, b4, a[3], a[4], a[5], c3],
        [a[0], a[1], a[2], c3, a[3], b3, b4, a[4], a[5]],
        [a[0], a[1], a[2], b3, c3, a[3], b4, a[4], a[5]],
      ];
      const states = orders.map((order) => {
        const { store, cleanup } = open();
        try {
          ingestAll(store, order);
          return snapshot(store, a);
        } finally {
          store.close();
          cleanup?.();
        }
      });
      for (const s of states) assert.equal(s, states[0]);
      assert.equal(JSON.parse(states[0]).forks[0].seq, 3);
      assert.equal(JSON.parse(states[0]).entries.length, 3);
    });

    test(
      'prune: a prune point needs no predecessor; older entries become outdated',
      withStore((store) => {
        const key = keyFor(1);
        const ops = makeLog(key, 8, { prune: [5] });
        assert.deepEqual(statuses(ingestAll(store, ops.slice(5))), ['inserted', 'inserted', 'inserted']);
        assert.deepEqual(statuses(ingestAll(store, [ops[3], ops[0]])), ['outdated', 'outdated']);
        assert.equal(store.readLog(key.publicKey, logIdFor(1), -1, 100)[0].header.seqNum, 5);
      }),
    );

    test(
      'deleteBefore removes entries below a prune point; deleteBody keeps the header',
      withStore((store) => {
        const key = keyFor(1);
        const ops = makeLog(key, 6, { prune: [4] });
        ingestAll(store, ops);
        assert.equal(store.deleteBefore(key.publicKey, logIdFor(1), 4), 4);
        assert.deepEqual(
          store.readLog(key.publicKey, logIdFor(1), -1, 100).map((o) => o.header.seqNum),
          [4, 5],
        );
        assert.equal(store.deleteBody(ops[5].hash), true);
        assert.equal(store.deleteBody(ops[5].hash), false);
        const got = store.getOperation(ops[5].hash)!;
        assert.equal(got.body, undefined);
        assert.deepEqual(got.headerBytes, ops[5].headerBytes);
        assert.equal(store.latest(key.publicKey, logIdFor(1))?.header.seqNum, 5);
      }),
    );

    test(
      'a batch keeps every valid operation around an invalid one',
      withStore((store) => {
        const ops = makeLog(keyFor(1), 5);
        const bad = { ...ops[3], body: new Uint8Array([1]) };
        const items = [ops[0], ops[1], ops[3], ops[2], ops[3], ops[4]].map((operation) => ({ operation, topic }));
        items[2] = { operation: bad, topic };
        assert.deepEqual(statuses(store.ingestBatch(items)), ['inserted', 'inserted', 'rejected:SEQ_GAP', 'inserted', 'inserted', 'inserted']);
        assert.equal(store.latest(keyFor(1).publicKey, logIdFor(1))?.header.seqNum, 4);
      }),
    );

    test(
      'operationsAfter scans in insertion order, per topic',
      withStore((store) => {
        const x = makeLog(keyFor(1), 3);
        const y = makeLog(keyFor(2), 3);
        const other = new Uint8Array(32).fill(0xdd);
        store.ingest(x[0], topic);
        store.ingest(y[0], other);
        store.ingest(x[1], topic);
        store.ingest(y[1], other);
        store.ingest(x[2], topic);
        const all = store.operationsAfter(0, 100);
        assert.equal(all.length, 5);
        assert.ok(all.every((op, i) => i === 0 || op.localSeq > all[i - 1].localSeq));
        const mine = store.operationsAfter(0, 100, topic);
        assert.deepEqual(
          mine.map((o) => o.hash.toHex()),
          x.map((o) => o.hash.toHex()),
        );
        assert.deepEqual(
          store.operationsAfter(mine[0].localSeq, 1, topic).map((o) => o.hash.toHex()),
          [x[1].hash.toHex()],
        );
      }),
    );

    test(
      'cursors are stored by name',
      withStore((store) => {
        assert.equal(store.getCursor('rx'), undefined);
        store.setCursor('rx', new Uint8Array([1, 2]));
        store.setCursor('rx', new Uint8Array([3]));
        assert.deepEqual(store.getCursor('rx'), new Uint8Array([3]));
      }),
    );
  });
}
