/**
 * Child process of the sync benchmark (bench/sync.ts): one Walkaway peer with
 * a SQLite store, syncing over TCP on 127.0.0.1.
 *
 *   serve <db> <authors> <opsPerAuthor> <bodyBytes>   fill the store, listen, print {port}
 *   fetch <db> <port> <verify>                        sync into a fresh store, print {ms, ...}
 *
 * Timing (fetch side): from opening the connection to the last operation
 * stored (the session's `done`); the verify pool is started before.
 */
import net from 'node:net';
import { createOperation, logIdForTopic, PrivateKey, topicId, type Operation } from '../src/core/index.ts';
import { SqliteStore } from '../src/store/index.ts';
import { sharedVerifyPool, storeIngest } from '../src/node/inbound/index.ts';
import { syncOverStream, type VerifyMode } from '../src/sync/index.ts';
import { RssSampler } from './sync-rss.ts';

export const BENCH_TOPIC = topicId('walkaway/bench/sync');

function fillStore(store: SqliteStore, authors: number, opsPerAuthor: number, bodyBytes: number): void {
  const logId = logIdForTopic(BENCH_TOPIC);
  for (let a = 0; a < authors; a++) {
    const seed = new Uint8Array(32).fill(a + 1);
    const privateKey = PrivateKey.fromBytes(seed);
    let prev: Operation | undefined;
    for (let start = 0; start < opsPerAuthor; start += 1000) {
      const batch = [];
      for (let seq = start; seq < Math.min(opsPerAuthor, start + 1000); seq++) {
        const body = new Uint8Array(bodyBytes).fill(seq & 0xff);
        prev = createOperation({
          privateKey,
          seqNum: seq,
          backlink: prev?.hash,
          body,
          extensions: { variant: 'basic', logId, timestamp: 1_700_000_000_000_000 + seq, pruneFlag: false },
        });
        batch.push({ operation: prev, topic: BENCH_TOPIC });
      }
      store.ingestBatch(batch);
    }
  }
}

async function serve(db: string, authors: number, opsPerAuthor: number, bodyBytes: number): Promise<void> {
  const store = SqliteStore.open(db);
  fillStore(store, authors, opsPerAuthor, bodyBytes);
  await sharedVerifyPool();
  const ingest = storeIngest(store);
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    const cpu = process.cpuUsage();
    const handle = syncOverStream(store, socket, { ingest, role: 'acceptor', topic: BENCH_TOPIC });
    handle.done.then(
      (stats) => process.stdout.write(JSON.stringify({ type: 'served', sent: stats.sent.operations, cpuMs: cpuMs(cpu) }) + '\n'),
      (err) => process.stdout.write(JSON.stringify({ type: 'error', code: err.code, message: err.message }) + '\n'),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.stdout.write(JSON.stringify({ type: 'ready', port: (server.address() as net.AddressInfo).port }) + '\n');
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
}

async function fetch(db: string, port: number, verify: VerifyMode): Promise<void> {
  const store = SqliteStore.open(db);
  await sharedVerifyPool();
  const rss = new RssSampler();
  const cpu = process.cpuUsage();
  const start = performance.now();
  const socket = net.connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  const handle = syncOverStream(store, socket, { ingest: storeIngest(store), role: 'initiator', topic: BENCH_TOPIC, config: { verify } });
  const stats = await handle.done;
  const ms = performance.now() - start;
  const peakRssBytes = rss.stop();
  const stored = store.heights(BENCH_TOPIC).reduce((n, h) => n + h.seqNum + 1, 0);
  const cpuUsed = cpuMs(cpu);
  process.stdout.write(JSON.stringify({ type: 'done', ms, cpuMs: cpuUsed, peakRssBytes, stored, received: stats.received.operations }) + '\n');
  store.close();
  process.exit(0);
}

/** CPU milliseconds of this process (every thread, verify workers included) since `from`. */
function cpuMs(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from);
  return Math.round((d.user + d.system) / 1000);
}

const [mode, ...rest] = process.argv.slice(2);
if (mode === 'serve') await serve(rest[0], Number(rest[1]), Number(rest[2]), Number(rest[3]));
else if (mode === 'fetch') await fetch(rest[0], Number(rest[1]), (rest[2] as VerifyMode) ?? 'all');
else {
  process.stderr.write('usage: sync-peer.ts serve <db> <authors> <opsPerAuthor> <bodyBytes> | fetch <db> <port> <verify>\n');
  process.exit(2);
}
