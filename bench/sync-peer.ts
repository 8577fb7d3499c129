/**
 * Child process of the sync benchmark (bench/sync.ts): one Walkaway peer with
 * a SQLite store, syncing over a libp2p stream (TCP + pnet + Noise + yamux,
 * the host a node runs: src/net/transport/host.ts), or over plain TCP.
 *
 *   prepare <db> <authors> <opsPerAuthor> <bodyBytes>   fill a store, exit
 *   serve <db> <transport: libp2p|tcp>                   open it, listen, print {port|address}
 *   fetch <db> <transport> <port|address> <verify>       sync into a fresh store, print {ms, ...}
 *
 * Timing (fetch side): from dialling (before the connection and its
 * handshakes) to the last operation stored (the session's `done`); the
 * verify pool and the host are started before. The serving process is a new
 * process every time (the store was filled by `prepare`).
 */
import net from 'node:net';
import { createOperation, logIdForTopic, networkId, PrivateKey, topicId, type Operation } from '../src/core/index.ts';
import { SqliteStore } from '../src/store/index.ts';
import { sharedVerifyPool, storeIngest } from '../src/node/inbound/index.ts';
import { syncOverStream, type VerifyMode } from '../src/sync/index.ts';
import { createHost, protocolId } from '../src/net/transport/host.ts';
import { streamToDuplex } from '../src/net/transport/stream-duplex.ts';
import { multiaddr } from '@multiformats/multiaddr';
import { countSocketBytes, diskBytes, peakRss } from './sync-rss.ts';

export const BENCH_TOPIC = topicId('walkaway/bench/sync');
const NETWORK = networkId('walkaway-bench-sync');
const PROTOCOL = protocolId(NETWORK, 'sync');
const GRACE_MS = Number(process.env.SYNC_BENCH_GRACE_MS ?? 120_000);

function fillStore(store: SqliteStore, authors: number, opsPerAuthor: number, bodyBytes: number): void {
  const logId = logIdForTopic(BENCH_TOPIC);
  for (let a = 0; a < authors; a++) {
    const privateKey = PrivateKey.fromBytes(new Uint8Array(32).fill(a + 1));
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

const say = (msg: Record<string, unknown>) => process.stdout.write(JSON.stringify(msg) + '\n');

async function serve(db: string, transport: string): Promise<void> {
  const store = SqliteStore.open(db);
  await sharedVerifyPool();
  const ingest = storeIngest(store);
  const run = (stream: import('node:stream').Duplex) => {
    // closeGraceMs: the default (1 s) resets the stream when the fetcher's
    // ingest lags the last page by more than that, which on a loaded machine
    // loses the end of the sync (issue 21 findings); the bench waits instead.
    const handle = syncOverStream(store, stream, { ingest, role: 'acceptor', topic: BENCH_TOPIC, config: { closeGraceMs: GRACE_MS } });
    handle.done.then(
      (stats) => say({ type: 'served', sent: stats.sent.operations }),
      (err) => {
        process.stderr.write(`sync-peer serve: session failed: ${err.code} ${err.message}\n`);
        say({ type: 'error', code: err.code, message: err.message });
      },
    );
  };
  if (transport === 'libp2p') {
    const host = await createHost({ privateKey: PrivateKey.fromBytes(new Uint8Array(32).fill(201)), networkId: NETWORK, listen: ['/ip4/127.0.0.1/tcp/0'] });
    await host.handle(
      PROTOCOL,
      (stream) => {
        stream.addEventListener('close', (e: any) => {
          if (e.error) process.stderr.write(`sync-peer serve: stream closed: ${e.error?.name} ${e.error?.message}\n`);
        });
        run(streamToDuplex(stream));
      },
      { maxInboundStreams: 4 },
    );
    const address = host
      .getMultiaddrs()
      .find((a) => a.toString().includes('/tcp/'))!
      .toString();
    say({ type: 'ready', address });
  } else {
    const server = net.createServer((socket) => {
      socket.setNoDelay(true);
      run(socket);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    say({ type: 'ready', address: String((server.address() as net.AddressInfo).port) });
  }
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
}

async function fetch(db: string, transport: string, address: string, verify: VerifyMode): Promise<void> {
  const wire = countSocketBytes();
  const store = SqliteStore.open(db);
  await sharedVerifyPool();
  const host = transport === 'libp2p' ? await createHost({ privateKey: PrivateKey.fromBytes(new Uint8Array(32).fill(202)), networkId: NETWORK, listen: [] }) : undefined;
  const cpu = process.cpuUsage();
  const start = performance.now();
  let firstMs = NaN;
  let duplex: import('node:stream').Duplex;
  if (host) {
    const stream = await host.dialProtocol(multiaddr(address), PROTOCOL);
    // Why a libp2p stream ended early (stderr, for the report).
    stream.addEventListener('close', (e: any) => {
      if (e.error)
        process.stderr.write(
          `sync-peer fetch: stream closed: ${e.error?.name} ${e.error?.message} status=${(stream as any).status} read=${(stream as any).readStatus} remoteWrite=${(stream as any).remoteWriteStatus}\n`,
        );
    });
    duplex = streamToDuplex(stream);
  } else {
    const socket = net.connect(Number(address), '127.0.0.1');
    socket.setNoDelay(true);
    duplex = socket;
  }
  const handle = syncOverStream(store, duplex, { ingest: storeIngest(store), role: 'initiator', topic: BENCH_TOPIC, config: { verify } });
  handle.on('operation', () => {
    if (Number.isNaN(firstMs)) firstMs = performance.now() - start;
  });
  const stats = await handle.done.catch((err) => {
    say({
      type: 'error',
      code: err.code,
      message: err.message,
      afterMs: performance.now() - start,
      stored: store.heights(BENCH_TOPIC).reduce((n, h) => n + h.seqNum + 1, 0),
    });
    process.exit(1);
  });
  const ms = performance.now() - start;
  const d = process.cpuUsage(cpu);
  const stored = store.heights(BENCH_TOPIC).reduce((n, h) => n + h.seqNum + 1, 0);
  const wireBytes = wire();
  store.close();
  await host?.stop();
  say({
    type: 'done',
    ms,
    firstMs,
    cpuS: (d.user + d.system) / 1e6,
    peakRssBytes: peakRss(),
    stored,
    received: stats.received.operations,
    wireBytes,
    diskBytes: diskBytes(db),
  });
  process.exit(0);
}

const [mode, ...rest] = process.argv.slice(2);
if (mode === 'prepare') {
  const store = SqliteStore.open(rest[0]);
  fillStore(store, Number(rest[1]), Number(rest[2]), Number(rest[3]));
  store.close();
  say({ type: 'prepared' });
  process.exit(0);
} else if (mode === 'serve') await serve(rest[0], rest[1]);
else if (mode === 'fetch') await fetch(rest[0], rest[1], rest[2], (rest[3] as VerifyMode) ?? 'all');
else {
  process.stderr.write('usage: sync-peer.ts prepare <db> <authors> <opsPerAuthor> <bodyBytes> | serve <db> <libp2p|tcp> | fetch <db> <libp2p|tcp> <address> <verify>\n');
  process.exit(2);
}
