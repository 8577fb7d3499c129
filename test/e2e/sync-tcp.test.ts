import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SqliteStore } from '../../src/store/index.ts';
import { hashesOf, key, makeLog } from '../sync/helpers.ts';

const PEER = fileURLToPath(new URL('./sync-peer.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'walkaway-sync-tcp-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Line {
  type: string;
  port?: number;
  ok?: boolean;
  code?: string;
  stats?: { stored: number; received: { operations: number }; sent: { operations: number } };
}

/** Starts a peer process; resolves its first line of each type on demand, and its exit code. */
function peer(args: string[]) {
  const proc = spawn(process.execPath, ['--import', 'tsx', PEER, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: Line[] = [];
  const waiters: (() => void)[] = [];
  createInterface({ input: proc.stdout! }).on('line', (l) => {
    try {
      lines.push(JSON.parse(l));
      waiters.splice(0).forEach((w) => w());
    } catch {}
  });
  const exit = new Promise<number | null>((resolve) => proc.on('exit', resolve));
  const line = async (type: string): Promise<Line> => {
    while (true) {
      const found = lines.find((l) => l.type === type);
      if (found) return found;
      const ended = await Promise.race([new Promise<boolean>((r) => waiters.push(() => r(false))), exit.then(() => true)]);
      if (ended && !lines.some((l) => l.type === type)) throw new Error(`peer exited without ${type}`);
    }
  };
  return { line, exit };
}

async function session(name: string, serveSpec: object, dialSpec: object) {
  const server = peer(['serve', join(dir, `${name}-a.db`), JSON.stringify(serveSpec)]);
  const { port } = await server.line('ready');
  const client = peer(['dial', join(dir, `${name}-b.db`), String(port), JSON.stringify(dialSpec)]);
  const [served, dialled] = await Promise.all([server.line('result'), client.line('result')]);
  assert.equal(await server.exit, 0);
  assert.equal(await client.exit, 0);
  return { served, dialled };
}

function stored(name: string, side: 'a' | 'b'): string[] {
  const store = SqliteStore.open(join(dir, `${name}-${side}.db`));
  try {
    return hashesOf(store);
  } finally {
    store.close();
  }
}

test('two processes over TCP sync many authors both ways into SQLite files', async () => {
  const { served, dialled } = await session(
    'both',
    {
      logs: [
        [1, 60],
        [2, 60],
        [3, 20],
        [4, 30],
      ],
    },
    {
      logs: [
        [3, 60],
        [4, 10],
        [5, 60],
        [6, 60],
      ],
      verify: 'tips',
    },
  );
  assert.equal(served.ok, true);
  assert.equal(dialled.ok, true);
  const union = [1, 2, 3, 5, 6].flatMap((k) => makeLog(key(k), 60)).concat(makeLog(key(4), 30));
  const expected = union.map((o) => o.hash.toHex()).sort();
  assert.deepEqual(stored('both', 'a'), expected);
  assert.deepEqual(stored('both', 'b'), expected);
});

test('a session cut over TCP resumes from what was stored, sending nothing twice', async () => {
  const first = await session('cut', { logs: [[7, 1500]] }, { logs: [], cutAfter: 300 });
  assert.equal(first.dialled.ok, false);
  assert.equal(first.dialled.code, 'CLOSED');
  const kept = stored('cut', 'b').length;
  assert.ok(kept >= 300 && kept < 1500, `kept ${kept}`);
  const second = await session('cut', { logs: [] }, { logs: [] });
  assert.equal(second.dialled.ok, true);
  assert.equal(second.dialled.stats!.received.operations, 1500 - kept);
  assert.equal(stored('cut', 'b').length, 1500);
});

test('a hostile TCP peer sending garbage gets a typed error and does not crash the process', async () => {
  const server = peer(['serve', join(dir, 'hostile-a.db'), JSON.stringify({ logs: [[8, 5]] })]);
  const { port } = await server.line('ready');
  const socket = net.connect(port!, '127.0.0.1');
  socket.on('error', () => {});
  socket.resume();
  socket.write(Buffer.from([0, 0, 0, 5, 0xde, 0xad, 0xbe, 0xef, 0x00]));
  const result = await server.line('result');
  socket.destroy();
  assert.equal(result.ok, false);
  assert.equal(result.code, 'MALFORMED');
  assert.equal(await server.exit, 0);
});
