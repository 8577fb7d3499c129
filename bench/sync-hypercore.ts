/**
 * Child process of the sync benchmark (bench/sync.ts): one side of a
 * Hypercore 11 replication over TCP on 127.0.0.1, the baseline Walkaway's
 * sync is measured against.
 *
 *   serve <dir> <blocks> <bodyBytes>   append blocks, listen, print {port,key}
 *   fetch <dir> <port> <key> <blocks>  replicate, print {ms, peakRssBytes}
 *
 * Timing (fetch side): from the moment the TCP connection is opened to the
 * moment the last block is stored locally (contiguousLength == blocks).
 */
import net from 'node:net';
import { RssSampler } from './sync-rss.ts';

type HypercoreCtor = new (dir: string, key?: Uint8Array, opts?: Record<string, unknown>) => any;

async function loadHypercore(): Promise<HypercoreCtor> {
  const specifier: string = 'hypercore';
  const mod = (await import(specifier)) as { default: HypercoreCtor };
  return mod.default;
}

async function serve(dir: string, blocks: number, bodyBytes: number): Promise<void> {
  const Hypercore = await loadHypercore();
  const core = new Hypercore(dir);
  await core.ready();
  const batch = 1000;
  for (let i = 0; i < blocks; i += batch) {
    const n = Math.min(batch, blocks - i);
    const items: Buffer[] = [];
    for (let j = 0; j < n; j++) {
      const b = Buffer.alloc(bodyBytes, (i + j) & 0xff);
      b.writeUInt32BE((i + j) >>> 0, 0);
      items.push(b);
    }
    await core.append(items);
  }
  const server = net.createServer((socket) => {
    const stream = core.replicate(false);
    socket.pipe(stream).pipe(socket);
    socket.on('error', () => {});
    stream.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  process.stdout.write(JSON.stringify({ type: 'ready', port, key: Buffer.from(core.key).toString('hex') }) + '\n');
  // The parent kills us when the fetch side is done.
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
}

async function fetch(dir: string, port: number, keyHex: string, blocks: number): Promise<void> {
  const Hypercore = await loadHypercore();
  const core = new Hypercore(dir, Buffer.from(keyHex, 'hex'));
  await core.ready();
  const rss = new RssSampler();
  const start = performance.now();
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
    core.on('download', check);
    core.download({ start: 0, end: blocks });
    check();
  });
  const ms = performance.now() - start;
  const peakRssBytes = rss.stop();
  const last = await core.get(blocks - 1);
  process.stdout.write(JSON.stringify({ type: 'done', ms, peakRssBytes, lastOk: last.readUInt32BE(0) === blocks - 1 }) + '\n');
  socket.destroy();
  await core.close().catch(() => {});
  process.exit(0);
}

const [mode, ...rest] = process.argv.slice(2);
if (mode === 'serve') await serve(rest[0], Number(rest[1]), Number(rest[2]));
else if (mode === 'fetch') await fetch(rest[0], Number(rest[1]), rest[2], Number(rest[3]));
else {
  process.stderr.write('usage: sync-hypercore.ts serve <dir> <blocks> <bodyBytes> | fetch <dir> <port> <key> <blocks>\n');
  process.exit(2);
}
