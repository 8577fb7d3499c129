/**
 * Child process of crash.test.ts: ingests batches into a SQLite store and
 * reports each committed batch on stdout, until it is killed.
 */
import { SqliteStore } from '../../src/store/index.ts';
import { keyFor, makeLog } from '../helpers/ops.ts';

const [path, batchArg] = process.argv.slice(2);
const batch = Number(batchArg);
const store = SqliteStore.open(path);
const ops = makeLog(keyFor(7), 40 * batch, { body: (seq) => new Uint8Array(200).fill(seq & 0xff) });
const topic = new Uint8Array(32).fill(7);
for (let from = 0; from < ops.length; from += batch) {
  store.ingestBatch(ops.slice(from, from + batch).map((operation) => ({ operation, topic })));
  process.stdout.write(`committed ${from + batch}\n`);
}
