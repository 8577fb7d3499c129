/**
 * Reads the stage timestamps of a traced `net` run (NET_TRACE=1
 * NET_TRACE_DIR=dir npm run bench -- net ...) and prints, per light phase,
 * where the time of one message goes between publish on the sender and
 * delivery on each receiver: the distribution of every stage, and the
 * stages of the slowest deliveries (the p99 tail).
 *
 *   npx tsx bench/net-trace.ts DIR [side]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

type Stamps = Record<string, (number | null)[]>;
type Report = { status?: { id?: string }; stamps?: Stamps; loop?: { p50: number; p99: number; max: number }; gc?: { count: number; ms: number; maxMs: number } };
type Run = { reports: Report[]; receivers: number[] };

const NODES_PUBLISHER = 1;

function q(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}
const f = (x: number) => (Number.isFinite(x) ? x.toFixed(2).padStart(8) : '       -');

function row(label: string, values: number[]): string {
  return `  ${label.padEnd(34)} n=${String(values.length).padStart(5)} p50 ${f(q(values, 50))} p90 ${f(q(values, 90))} p99 ${f(q(values, 99))} max ${f(Math.max(...values))}`;
}

/** Stage deltas of every (message, receiver) delivery. */
function deliveries(run: Run, all: boolean) {
  const n = run.reports.length;
  const at = (node: number, stage: string, i: number) => run.reports[node].stamps?.[stage]?.[i] ?? NaN;
  const count = run.reports[0].stamps?.pub?.length ?? Math.max(...run.reports.map((r) => r.stamps?.app?.length ?? 0));
  const out: Record<string, number>[] = [];
  const ids = run.reports.map((r) => r.status?.id ?? '');
  // The node a receiver first got message i from (its 'from:<id>' stamps), and that link's stages.
  const lastLink = (r: number, i: number) => {
    const stamps = run.reports[r].stamps ?? {};
    let best = Number.POSITIVE_INFINITY;
    let from = -1;
    for (const [stage, row] of Object.entries(stamps)) {
      if (!stage.startsWith('from:')) continue;
      const t = row[i] ?? NaN;
      if (t < best) {
        best = t;
        from = ids.indexOf(stage.slice(5));
      }
    }
    if (from < 0) return { from, q: NaN, w: NaN };
    return { from, q: at(from, `q>${ids[r]}`, i), w: at(from, `w>${ids[r]}`, i) };
  };
  for (let i = 0; i < count; i++) {
    const sender = all ? i % n : NODES_PUBLISHER;
    const pub = at(sender, 'pub', i);
    const s = {
      sign: at(sender, 'commit', i) - pub,
      commit: at(sender, 'commitEnd', i) - at(sender, 'commit', i),
      toOverlay: at(sender, 'ovPub', i) - at(sender, 'commitEnd', i),
      pubDone: at(sender, 'pubDone', i) - pub,
    };
    for (let r = 0; r < n; r++) {
      if (r === sender) continue;
      const app = at(r, 'app', i);
      if (Number.isNaN(app)) continue;
      const hop = at(r, 'hop', i);
      const link = lastLink(r, i);
      out.push({
        upstream: link.q - at(sender, 'ovPub', i),
        linkQueue: link.w - link.q,
        linkNet: at(r, 'in', i) - link.w,
        linkDecode: at(r, 'recv', i) - at(r, 'in', i),
        i,
        r,
        from: link.from,
        ...s,
        hop,
        total: app - pub,
        wire: at(r, 'recv', i) - at(sender, 'ovPub', i),
        wireHop1: hop === 1 ? at(r, 'recv', i) - at(sender, 'ovPub', i) : NaN,
        validate: at(r, 'recvDone', i) - at(r, 'recv', i),
        toIngest: at(r, 'ingest', i) - at(r, 'recvDone', i),
        ingest: at(r, 'ingestEnd', i) - at(r, 'ingest', i),
        toApp: app - at(r, 'ingestEnd', i),
        toChain: at(r, 'chainIn', i) - at(r, 'ingestEnd', i),
        chain: at(r, 'rxPush', i) - at(r, 'chainIn', i),
        rxToApp: app - at(r, 'rxPush', i),
        viaSync: Number.isFinite(at(r, 'syncIn', i)) ? 1 : 0,
        recvToApp: app - at(r, 'recv', i),
      });
    }
  }
  return out;
}

const STAGES = [
  'total',
  'sign',
  'commit',
  'toOverlay',
  'pubDone',
  'wire',
  'wireHop1',
  'upstream',
  'linkQueue',
  'linkNet',
  'linkDecode',
  'validate',
  'toIngest',
  'ingest',
  'toApp',
  'toChain',
  'chain',
  'rxToApp',
  'viaSync',
  'recvToApp',
  'hop',
];

function show(label: string, run: Run, all: boolean): void {
  const d = deliveries(run, all);
  console.log(`${label}: ${d.length} deliveries`);
  for (const k of STAGES) {
    const v = d.map((x) => x[k]).filter((x) => Number.isFinite(x));
    if (v.length > 0) console.log(row(k, v));
  }
  const sorted = [...d].sort((a, b) => b.total - a.total);
  const tail = sorted.slice(0, Math.max(1, Math.ceil(d.length / 100)));
  console.log('  slowest 1%: mean per stage');
  for (const k of STAGES) {
    const v = tail.map((x) => x[k]).filter((x) => Number.isFinite(x));
    if (v.length > 0) console.log(`    ${k.padEnd(12)} ${f(v.reduce((a, b) => a + b, 0) / v.length)}`);
  }
  console.log('  slowest 12 deliveries: i r from hop total upstream linkQueue linkNet linkDecode recvToApp');
  for (const x of sorted.slice(0, 12))
    console.log(
      `    ${[x.i, x.r, x.from, x.hop].join(' ')} ${[x.total, x.upstream, x.linkQueue, x.linkNet, x.linkDecode, x.recvToApp].map((v) => (Number.isFinite(v) ? v.toFixed(1) : '-')).join(' ')}`,
    );
  const loops = run.reports.map((r, i) => `${i}:${r.loop ? `${r.loop.p99.toFixed(1)}/${r.loop.max.toFixed(1)}` : '-'}`).join(' ');
  const gcs = run.reports.map((r, i) => `${i}:${r.gc ? `${r.gc.count}x max ${r.gc.maxMs.toFixed(1)}` : '-'}`).join(' ');
  console.log(`  event-loop delay p99/max ms: ${loops}`);
  console.log(`  gc: ${gcs}`);
}

const [dir, side] = process.argv.slice(2);
for (const file of readdirSync(dir)
  .filter((f) => f.endsWith('.json') && (!side || f.startsWith(side)))
  .sort()) {
  const data = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  console.log(`== ${file}`);
  show('light, one sender', data.lightOne, false);
  show('light, all send', data.lightAll, true);
}
