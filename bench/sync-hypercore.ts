/**
 * Child process of the sync benchmark (bench/sync.ts): one side of a
 * Hypercore 11 replication over TCP on 127.0.0.1; `replicate()` wraps the
 * socket in its Noise secret stream, so this side is encrypted as well.
 *
 *   prepare <dir> <blocks> <bodyBytes>                 append blocks, exit
 *   serve <dir>                                        open, listen, print {address, key}
 *   fetch <dir> <port> <key> <blocks> <bulk|default>   replicate, print {ms, ...}
 *
 * `bulk` is Hypercore configured as its users configure it for a bulk
 * download: a large in-flight range (`inflightRange: [1024, 4096]`: over TCP
 * the replicator keeps min(max, 3 x min) = 3,072 requests in flight, the
 * same as Walkaway's 3 pages of 1,000) and a linear download range.
 * `default` keeps the defaults: [16, 512] (48 in flight over TCP) and
 * random order within the range.
 *
 * Timing (fetch side): from opening the TCP connection to the moment the
 * last block is stored locally (contiguousLength == blocks).
 */
import net from 'node:net';
import { countSocketBytes, diskBytes, peakRss } from './sync-rss.ts';

type HypercoreCtor = new (dir: string, key?: Uint8Array | null, opts?: Record<string, unknown>) => any;
const BULK_INFLIGHT = [1024, 4096];
const say = (msg: Record<string, unknown>) => process.stdout.write(JSON.stringify(msg) + '\n');

async function loadHypercore(): Promise<HypercoreCtor> {
  const specifier: string = 'hypercore';
  const mod = (await import(specifier)) as { default: HypercoreCtor };
  return mod.default;
}

async function prepare(dir: string, blocks: number, bodyBytes: number): Promise<void> {
  const Hypercore = await loadHypercore();
  const core = new Hypercore(dir);
  await core.ready();
  for (let i = 0; i < blocks; i += 1000) {
    const items: Buffer[] = [];
    for (let j = 0; j < Math.min(1000, blocks - i); j++) {
      const b = Buffer.alloc(bodyBytes, (i + j) & 0xff);
      b.writeUInt32BE((i + j) >>> 0, 0);
      items.push(b);
    }
    await core.append(items);
  }
  await core.close();
  say({ type: 'prepared' });
  process.exit(0);
}

async function serve(dir: string): Promise<void> {
  const Hypercore = await loadHypercore();
  const core = new Hypercore(dir);
  await core.ready();
  const server = net.createServer((socket) => {
    const stream = core.replicate(false);
    socket.pipe(stream).pipe(socket);
    socket.on('error', () => {});
    stream.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  say({ type: 'ready', address: String(port), key: Buffer.from(core.key).toString('hex') });
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
}

async function fetch(dir: string, port: number, keyHex: string, blocks: number, mode: string): Promise<void> {
  const wire = countSocketBytes();
  const Hypercore = await loadHypercore();
  const bulk = mode === 'bulk';
  const core = new Hypercore(dir, Buffer.from(keyHex, 'hex'), bulk ? { inflightRange: BULK_INFLIGHT } : {});
  await core.ready();
  const cpu = process.cpuUsage();
  const start = performance.now();
  let firstMs = NaN;
  const socket = net.connect(port, '127.0.0.1');
  const stream = core.replicate(true);
  socket.pipe(stream).pipe(socket);
  socket.on('error', () => {});
  stream.on('error', () => {});
  await new Promise<void>((resolve) => {
    const check = () => {
      if (core.contiguousLength >= blocks) resolve();
    };
    core.on('append', check);
    core.on('download', () => {
      if (Number.isNaN(firstMs)) firstMs = performance.now() - start;
      check();
    });
    core.download({ start: 0, end: blocks, linear: bulk });
    check();
  });
  const ms = performance.now() - start;
  const d = process.cpuUsage(cpu);
  const last = await core.get(blocks - 1);
  const wireBytes = wire();
  socket.destroy();
  await core.close().catch(() => {});
  say({
    type: 'done',
    ms,
    firstMs,
    cpuS: (d.user + d.system) / 1e6,
    peakRssBytes: peakRss(),
    stored: last.readUInt32BE(0) === blocks - 1 ? blocks : 0,
    wireBytes,
    diskBytes: diskBytes(dir),
  });
  process.exit(0);
}

const [mode, ...rest] = process.argv.slice(2);
if (mode === 'prepare') await prepare(rest[0], Number(rest[1]), Number(rest[2]));
else if (mode === 'serve') await serve(rest[0]);
else if (mode === 'fetch') await fetch(rest[0], Number(rest[1]), rest[2], Number(rest[3]), rest[4] ?? 'bulk');
else {
  process.stderr.write('usage: sync-hypercore.ts prepare <dir> <blocks> <bodyBytes> | serve <dir> | fetch <dir> <port> <key> <blocks> <bulk|default>\n');
  process.exit(2);
}
