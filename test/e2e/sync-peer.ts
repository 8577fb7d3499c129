/**
 * Child process of test/e2e/sync-tcp.test.ts: one peer with a SQLite file.
 *
 *   sync-peer.ts serve <db> <spec-json>         listen on 127.0.0.1, print {port}, sync one connection
 *   sync-peer.ts dial <db> <port> <spec-json>   connect and sync
 *
 * spec: { logs: [[keyIndex, count], ...], cutAfter?: number, verify?: 'all' | 'tips' }
 * Prints one JSON line {type: 'result', ok, code?, stats} and exits 0
 * whatever the peer did: a hostile peer must not crash the process.
 */
import net from 'node:net';
import { SqliteStore } from '../../src/store/index.ts';
import { syncOverStream, type SyncHandle } from '../../src/sync/index.ts';
import { storeIngest } from '../../src/node/inbound/index.ts';
import { fill, key, makeLog, TOPIC } from '../sync/helpers.ts';

interface Spec {
  logs: [number, number][];
  cutAfter?: number;
  verify?: 'all' | 'tips';
}

function open(db: string, spec: Spec): SqliteStore {
  const store = SqliteStore.open(db);
  for (const [k, count] of spec.logs) fill(store, makeLog(key(k), count));
  return store;
}

async function report(handle: SyncHandle, store: SqliteStore): Promise<void> {
  const line = await handle.done.then(
    (stats) => ({ type: 'result', ok: true, stats }),
    (err) => ({ type: 'result', ok: false, code: err.code, stats: err.data?.stats }),
  );
  store.close();
  process.stdout.write(JSON.stringify(line, (_k, v) => (v instanceof Uint8Array ? undefined : v)) + '\n');
  process.exit(0);
}

function run(store: SqliteStore, socket: net.Socket, role: 'initiator' | 'acceptor', spec: Spec): void {
  const handle = syncOverStream(store, socket, {
    ingest: storeIngest(store),
    role,
    topic: TOPIC,
    config: { verify: spec.verify ?? 'all', stallTimeoutMs: 5000, batchSize: 100 },
  });
  if (spec.cutAfter !== undefined) {
    handle.on('progress', (e) => {
      if (e.progress.stored >= spec.cutAfter!) socket.destroy();
    });
  }
  void report(handle, store);
}

const [mode, db, ...rest] = process.argv.slice(2);
if (mode === 'serve') {
  const spec = JSON.parse(rest[0]) as Spec;
  const store = open(db, spec);
  const server = net.createServer((socket) => {
    server.close();
    run(store, socket, 'acceptor', spec);
  });
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(JSON.stringify({ type: 'ready', port: (server.address() as net.AddressInfo).port }) + '\n');
  });
} else if (mode === 'dial') {
  const spec = JSON.parse(rest[1]) as Spec;
  const store = open(db, spec);
  run(store, net.connect(Number(rest[0]), '127.0.0.1'), 'initiator', spec);
} else {
  process.stderr.write('usage: sync-peer.ts serve <db> <spec> | dial <db> <port> <spec>\n');
  process.exit(2);
}
