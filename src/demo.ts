/**
 * `npm start` until the chat demo exists: opens (or creates) this machine's
 * identity and SQLite store under ~/.walkaway (or --data DIR), appends a few
 * signed operations to its log in the topic "walkaway-demo", reads the whole
 * log back, verifies every operation and its backlink, and prints it. No
 * network yet: this shows the core and the store, nothing more.
 */
import { parseArgs } from 'node:util';
import { decodeOperation, nowMicros, topicId, logIdForTopic, utf8, validateBacklink, type Operation } from './core/index.ts';
import { openDataDir } from './data-dir.ts';

function usage(): string {
  return 'usage: npm start -- [--data DIR] [--count N]\n  --data DIR   data directory (default ~/.walkaway)\n  --count N    operations to append (default 3)';
}

function parse(): { data?: string; count: number } {
  try {
    const { values } = parseArgs({ options: { data: { type: 'string' }, count: { type: 'string' }, help: { type: 'boolean' } } });
    if (values.help) {
      console.log(usage());
      process.exit(0);
    }
    const count = values.count === undefined ? 3 : Number(values.count);
    if (!Number.isInteger(count) || count < 0 || count > 10_000) throw new Error('--count must be an integer from 0 to 10000');
    return { data: values.data, count };
  } catch (err) {
    console.error(`walkaway: ${(err as Error).message}\n${usage()}`);
    process.exit(2);
  }
}

const { data, count } = parse();
const dir = openDataDir(data);
const topic = topicId('walkaway-demo');
const logId = logIdForTopic(topic);
const author = dir.privateKey.publicKey;
console.log(`data directory ${dir.path}\nidentity       ${author.toHex()}\nstore          ${dir.store.path} (SQLite)`);

let latest = dir.store.latest(author, logId);
for (let i = 0; i < count; i++) {
  const text = `hello from walkaway #${(latest?.header.seqNum ?? -1) + 2}`;
  const op = dir.createOperation({ body: utf8(text), logId, previous: latest, timestamp: nowMicros() });
  const outcome = dir.store.ingest(op, topic);
  if (outcome.status !== 'inserted') throw new Error(`could not append: ${outcome.status}`);
  latest = outcome.operation;
}

let previous: Operation | undefined;
let shown = 0;
console.log(`\nthe log of ${author.toHex().slice(0, 16)}… in topic "walkaway-demo", read back and verified:`);
for (let after = -1; ; ) {
  const page = dir.store.readLog(author, logId, after, 500);
  if (page.length === 0) break;
  for (const stored of page) {
    const op = decodeOperation(stored.headerBytes, stored.body); // signature, payload hash
    if (previous) validateBacklink(previous, op);
    previous = op;
    const ext = op.header.extensions;
    const when = ext && ext.variant !== 'unknown' ? new Date(ext.timestamp / 1000).toISOString() : '';
    console.log(`  #${op.header.seqNum}  ${op.hash.toHex().slice(0, 16)}…  ${when}  ${new TextDecoder().decode(op.body ?? new Uint8Array())}`);
    shown++;
  }
  after = page[page.length - 1].header.seqNum;
}
console.log(`\n${shown} operations, every signature, payload hash and backlink checked.`);
dir.close();
