/**
 * Benchmark `sync`: N operations with 100-byte bodies synced from one process
 * to a fresh second process over TCP on 127.0.0.1, SQLite on both sides
 * (1 author, and 100 authors x N/100), against Hypercore 11 replicating N
 * 100-byte blocks the same way. Timed on the receiving side from opening the
 * connection to the last operation stored; process start and filling the
 * sender are excluded.
 *
 *   npx tsx bench/sync.ts [--ops N] [--verify all|tips] [--only walkaway [--authors A]]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const BODY_BYTES = 100;

interface FetchResult {
  ms: number;
  /** CPU time of the fetching process (every thread) and of the serving one, for the session. */
  cpuMs?: number;
  serveCpuMs?: number;
  peakRssBytes: number;
  stored?: number;
}

function child(file: string, args: string[]): { proc: ChildProcess; lines: AsyncIterator<string> } {
  // SYNC_BENCH_CPU_PROF=DIR: a CPU profile of every child (node --cpu-prof), one file per process.
  const prof = process.env.SYNC_BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.SYNC_BENCH_CPU_PROF}`] : [];
  const proc = spawn(process.execPath, [...prof, '--import', 'tsx', here(file), ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: proc.stdout! })[Symbol.asyncIterator]();
  return { proc, lines };
}

async function nextJson(lines: AsyncIterator<string>, type: string): Promise<Record<string, any>> {
  while (true) {
    const { value, done } = await lines.next();
    if (done) throw new Error(`child ended before printing ${type}`);
    try {
      const msg = JSON.parse(value);
      if (msg.type === type) return msg;
      if (msg.type === 'error') throw new Error(`child failed: ${value}`);
    } catch (err) {
      if (!(err instanceof SyntaxError)) throw err;
    }
  }
}

async function pair(
  helper: string,
  serveArgs: string[],
  fetchArgs: (ready: Record<string, any>) => string[],
): Promise<FetchResult> {
  const server = child(helper, ['serve', ...serveArgs]);
  try {
    const ready = await nextJson(server.lines, 'ready');
    const fetcher = child(helper, ['fetch', ...fetchArgs(ready)]);
    const done = await nextJson(fetcher.lines, 'done');
    const served = await Promise.race([nextJson(server.lines, 'served'), new Promise<undefined>((r) => setTimeout(r, 2000))]);
    return { ...(done as FetchResult), serveCpuMs: served?.cpuMs };
  } finally {
    server.proc.stdin!.end();
    server.proc.kill();
  }
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const opt = (name: string, fallback: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
  };
  const ops = Number(opt('ops', '100000'));
  const verify = opt('verify', 'all');
  const onlyWalkaway = opt('only', '') === 'walkaway';
  const dir = mkdtempSync(join(tmpdir(), 'walkaway-bench-sync-'));
  try {
    const walkaway = (authors: number, mode: string, tag: string) =>
      pair('./sync-peer.ts', [join(dir, `${tag}-a.db`), String(authors), String(ops / authors), String(BODY_BYTES)], (r) => [
        join(dir, `${tag}-b.db`),
        String(r.port),
        mode,
      ]);
    const one = await walkaway(onlyWalkaway ? Number(opt('authors', '1')) : 1, verify, 'one');
    if (one.stored !== ops) throw new Error(`walkaway stored ${one.stored} of ${ops}`);
    const result: Record<string, unknown> = {
      ops,
      bodyBytes: BODY_BYTES,
      verify,
      walkawayMs: round(one.ms),
      cpuMs: { fetch: one.cpuMs, serve: one.serveCpuMs },
      opsPerSec: Math.round((ops / one.ms) * 1000),
      peakRssBytes: one.peakRssBytes,
    };
    if (onlyWalkaway) return result;
    const hyper = await pair('./sync-hypercore.ts', [join(dir, 'hc-a'), String(ops), String(BODY_BYTES)], (r) => [
      join(dir, 'hc-b'),
      String(r.port),
      r.key,
      String(ops),
    ]);
    const many = await walkaway(100, verify, 'many');
    const tips = verify === 'tips' ? one : await walkaway(1, 'tips', 'tips');
    return {
      ...result,
      hypercoreMs: round(hyper.ms),
      ratio: round(one.ms / hyper.ms, 3),
      hypercorePeakRssBytes: hyper.peakRssBytes,
      manyAuthors: {
        authors: 100,
        opsPerAuthor: ops / 100,
        walkawayMs: round(many.ms),
        cpuMs: { fetch: many.cpuMs, serve: many.serveCpuMs },
        opsPerSec: Math.round((ops / many.ms) * 1000),
        ratio: round(many.ms / hyper.ms, 3),
        peakRssBytes: many.peakRssBytes,
      },
      tipsVerify: {
        walkawayMs: round(tips.ms),
        opsPerSec: Math.round((ops / tips.ms) * 1000),
        ratio: round(tips.ms / hyper.ms, 3),
        peakRssBytes: tips.peakRssBytes,
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const result = await run(process.argv.slice(2));
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
}
