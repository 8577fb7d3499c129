/**
 * Benchmark `chat` (issue 21, item 5): a new `walkaway chat` joins a room on
 * loopback that already holds N messages (default 1,000) and shows them.
 * Real processes: a host `walkaway chat --json` wrote the history (once, not
 * timed); every repetition starts a fresh joiner (new data directory, new
 * identity) with the host's ticket, both as a user would run them (bin/walkaway.js,
 * TypeScript through tsx in a checkout).
 *
 * The screen is proxied by `--json`: one line per message on stdout, printed
 * where the text mode prints its line (same event, same ordering and sync
 * path; the terminal's own drawing is not timed). Times are taken by this
 * process when a line arrives on the joiner's stdout:
 *
 *   spawn -> ready      process start (module loading, store, host, listen)
 *   ready -> first      the first history message on screen
 *   ready -> all        all N history messages on screen (sync + ordering + print)
 *   spawn -> all        what a user waits for after pressing enter
 *
 * with the first peer connection and the sync session's start and end
 * (their JSON lines) as the breakdown, and the CPU seconds of the joiner (its whole life up to the last message,
 * and from ready to the last message: the join's own work) and of the host during the join, from /proc.
 *
 * `--base DIR`: another checkout (`git archive <commit> | tar -x -C DIR`,
 * `node_modules` linked, `npm run build` there) runs the joiner too, as side
 * `walkaway-chat@base`, interleaved with this tree's against the same host:
 * a before/after on one load.
 *
 * `--history-age S`: the joins start S seconds after the host wrote its
 * history (default 0). Within PlumTree's announce window (20 s) a new
 * neighbour is also told of the latest 256 messages and grafts them by
 * gossip while the sync runs: the early repetitions do that extra work,
 * later ones not. 25 measures the common case, a history older than that.
 *
 *   npm run bench -- chat [--messages 1000] [--reps 5] [--base DIR] [--history-age S]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { flag, interleave, medians, procCpuSeconds, procPeakRss, round, type Sample } from './harness.ts';

const BIN = fileURLToPath(new URL('../bin/walkaway.js', import.meta.url));
const ROOM = 'walkaway-bench-chat';
const START_TIMEOUT_MS = 120_000;

type Line = Record<string, any>;

interface ChatChild {
  proc: ChildProcess;
  /** Arrival time (performance.now of this process) of every line. */
  lines: { at: number; line: Line }[];
  waitFor(match: (l: Line) => boolean, timeoutMs: number, what: string): Promise<{ at: number; line: Line }>;
}

function startChat(dataDir: string, extra: string[], bin = BIN): ChatChild {
  const proc = spawn(process.execPath, [bin, 'chat', ...extra, '--json', '--no-mdns', '--port', '0', '--data', dataDir], { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: { at: number; line: Line }[] = [];
  const waiters = new Set<() => void>();
  let stderr = '';
  proc.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-2000)));
  createInterface({ input: proc.stdout! }).on('line', (text) => {
    const at = performance.now();
    try {
      lines.push({ at, line: JSON.parse(text) });
    } catch {
      return;
    }
    for (const w of waiters) w();
  });
  proc.on('exit', () => {
    for (const w of waiters) w();
  });
  let scanned = 0;
  return {
    proc,
    lines,
    waitFor(match, timeoutMs, what) {
      return new Promise((resolve, reject) => {
        const check = () => {
          for (; scanned < lines.length; scanned++) {
            if (match(lines[scanned].line)) {
              done();
              return resolve(lines[scanned++]);
            }
          }
          if (proc.exitCode !== null || proc.signalCode !== null) {
            done();
            reject(new Error(`chat exited waiting for ${what}: ${stderr}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no ${what} within ${timeoutMs} ms: ${stderr}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
  };
}

async function stop(c: ChatChild): Promise<void> {
  if (c.proc.exitCode !== null || c.proc.signalCode !== null) return;
  const exited = new Promise((r) => c.proc.once('exit', r));
  c.proc.kill('SIGINT');
  const timer = setTimeout(() => c.proc.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** The host: a chat that writes `n` messages (lines on stdin) and waits until all are stored and shown. */
async function host(dir: string, n: number): Promise<{ chat: ChatChild; ticket: string }> {
  const chat = startChat(dir, [ROOM, '--name', 'host']);
  const ready = await chat.waitFor((l) => l.type === 'ready', START_TIMEOUT_MS, 'host ready');
  let seen = 0;
  const all = chat.waitFor((l) => l.type === 'message' && l.own && ++seen === n, 600_000, `${n} own messages`);
  for (let i = 0; i < n; i++) chat.proc.stdin!.write(`history message ${i} ${'x'.repeat(40)}\n`);
  await all;
  return { chat, ticket: ready.line.ticket as string };
}

async function joinOnce(root: string, rep: number, ticket: string, hostPid: number, n: number, bin = BIN): Promise<Sample> {
  const dir = join(root, `joiner-${rep}-${bin === BIN ? 'this' : 'base'}`);
  const hostCpu0 = procCpuSeconds(hostPid) ?? NaN;
  const t0 = performance.now();
  const chat = startChat(dir, [ticket, '--name', `joiner${rep}`], bin);
  try {
    const ready = await chat.waitFor((l) => l.type === 'ready', START_TIMEOUT_MS, 'ready');
    // CPU at ready: the join's own CPU (ready -> all) does not swing with the machine's load as its wall time does.
    const readyCpu = procCpuSeconds(chat.proc.pid!) ?? NaN;
    let got = 0;
    const first = await chat.waitFor((l) => l.type === 'message' && !l.own, 120_000, 'first message');
    got = 1;
    const last = await chat.waitFor((l) => l.type === 'message' && !l.own && ++got === n, 300_000, `${n} messages`);
    // Where the time went: the first line of each kind after ready.
    const after = (match: (l: Line) => boolean) => {
      const hit = chat.lines.find((x) => x.at >= ready.at && match(x.line));
      return hit ? round(hit.at - ready.at, 1) : null;
    };
    const joinerCpu = procCpuSeconds(chat.proc.pid!) ?? NaN;
    const peak = procPeakRss(chat.proc.pid!) ?? NaN;
    return {
      spawnToReadyMs: round(ready.at - t0, 1),
      readyToFirstMs: round(first.at - ready.at, 1),
      readyToAllMs: round(last.at - ready.at, 1),
      spawnToAllMs: round(last.at - t0, 1),
      readyToPeerMs: after((l) => l.type === 'peer' && l.event === 'connect'),
      readyToSyncStartMs: after((l) => l.type === 'sync' && l.event === 'start'),
      readyToSyncEndMs: after((l) => l.type === 'sync' && l.event === 'end'),
      joinerCpuS: round(joinerCpu, 2),
      joinerJoinCpuS: round(joinerCpu - readyCpu, 3),
      hostCpuS: round((procCpuSeconds(hostPid) ?? NaN) - hostCpu0, 2),
      joinerPeakRssMB: round(peak / 2 ** 20, 1),
    };
  } finally {
    await stop(chat);
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const n = Number(flag(args, 'messages', '1000'));
  const reps = Number(flag(args, 'reps', '5'));
  const baseDir = flag(args, 'base', '');
  const historyAgeS = Number(flag(args, 'history-age', '0'));
  const baseBin = baseDir ? resolve(baseDir, 'bin/walkaway.js') : '';
  if (baseBin && !existsSync(baseBin)) throw new Error(`chat: no ${baseBin}`);
  const root = mkdtempSync(join(tmpdir(), 'walkaway-bench-chat-'));
  try {
    const prep0 = performance.now();
    const { chat, ticket } = await host(join(root, 'host'), n);
    const prepareMs = round(performance.now() - prep0, 0);
    if (historyAgeS > 0) await new Promise((resolve) => setTimeout(resolve, historyAgeS * 1000));
    try {
      const sides: Record<string, (rep: number) => Promise<Sample>> = { 'walkaway-chat': (rep) => joinOnce(root, rep, ticket, chat.proc.pid!, n) };
      if (baseBin) sides['walkaway-chat@base'] = (rep) => joinOnce(root, rep, ticket, chat.proc.pid!, n, baseBin);
      const result = await interleave(sides, reps);
      const m = medians(result.sides['walkaway-chat']);
      return {
        summary: {
          messages: n,
          reps,
          historyAgeS,
          goals: {
            'join -> first message on screen, ms (ready -> first; goal < 1000)': m.readyToFirstMs,
            [`join -> ${n} messages on screen, ms (ready -> all; goal < 1000)`]: m.readyToAllMs,
            'process start -> all, ms (includes module loading)': m.spawnToAllMs,
          },
          medians: m,
          ...(baseBin ? { mediansBase: medians(result.sides['walkaway-chat@base']) } : {}),
          load: result.load,
        },
        screenProxy: '--json lines on stdout (one per message, printed where the text mode prints)',
        hostPrepareMs: prepareMs,
        ...result,
      };
    } finally {
      await stop(chat);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { printTable } = await import('./table.ts');
  printTable((await run(process.argv.slice(2))).summary as Record<string, unknown>);
}
