/**
 * Prints the figures table of sim/README.md from sim/results/*.json:
 * `npx tsx sim/report.ts`.
 */
import { existsSync, readFileSync } from 'node:fs';

type Doc = Record<string, unknown> & { seeds: number[]; worst: Record<string, number | null> };

function load(name: string): Doc | null {
  const path = new URL(`./results/${name}.json`, import.meta.url);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Doc) : null;
}

function fig(doc: Doc | null, key: string, digits = 3): string {
  if (!doc) return 'not run';
  const v = doc[key] as number | null | undefined;
  const w = doc.worst?.[key];
  const f = (x: number | null | undefined) => (x === null || x === undefined ? '-' : Number.isInteger(x) ? String(x) : x.toFixed(digits));
  return doc.seeds.length > 1 ? `${f(v)} (${f(w)})` : f(v);
}

const rows: Array<[string, string, Array<[string, number?]>]> = [
  ['stable, single sender', 'stable', [['reliability', 4], ['rmr', 4], ['ldhMax'], ['ldhMean', 1], ['p99LatencyMs']]],
  ['stable, random sender / burst', 'stable', [['rmrRandom'], ['rmrBurst']]],
  ['stable cost', 'stable', [['wallSingleMs'], ['wallMs'], ['heapBytesPerNode']]],
  ['failure 0.5', 'failure50', [['reliabilityFirst', 4], ['reliabilityAfter', 4], ['reliability', 4], ['healMs']]],
  ['failure 0.8', 'failure80', [['reliabilityFirst', 4], ['reliabilityAfter', 4], ['reliability', 4], ['healMs']]],
  ['partition', 'partition', [['healMs'], ['reliability', 4], ['reliabilitySplit', 4]]],
  [
    'churn',
    'churn',
    [
      ['reliability', 5],
      ['reliabilityMin', 4],
      ['fullyDelivered', 4],
    ],
  ],
  ['control ratio', 'stable', [['controlRatio', 2]]],
];

function table(rows: Array<[string, string, Array<[string, number?]>]>, suffix = (size: string, file: string) => `${file}-${size}`): void {
  console.log('| scenario | figure | 1,000 nodes | 10,000 nodes |');
  console.log('|---|---|---|---|');
  for (const [label, file, keys] of rows) {
    const small = load(suffix('1k', file)),
      large = load(suffix('10k', file));
    for (const [key, digits] of keys) console.log(`| ${label} | ${key} | ${fig(small, key, digits)} | ${fig(large, key, digits)} |`);
  }
}

table(rows);

// Issue 21: the real model (jitter, processing, 5% loss over TCP, silent crashes), random senders as headlines.
const realRows: Array<[string, string, Array<[string, number?]>]> = [
  ['stable, single sender', 'stable-real', [['reliability', 4], ['rmr', 4], ['ldhMax'], ['ldhMean', 1], ['p99LatencyMs']]],
  ['stable, random sender', 'stable-real', [['reliabilityRandom', 4], ['rmrRandom', 4], ['ldhMaxRandom'], ['ldhMeanRandom', 1], ['p99LatencyRandomMs']]],
  ['stable, burst', 'stable-real', [['reliabilityBurst', 4], ['rmrBurst']]],
  ['stable cost', 'stable-real', [['wallSingleMs'], ['wallMs'], ['heapBytesPerNode']]],
  ['failure 0.5', 'failure-real-50', [['reliabilityFirst', 4], ['reliabilityAfter', 4], ['reliability', 4], ['healMs']]],
  ['failure 0.8', 'failure-real-80', [['reliabilityFirst', 4], ['reliabilityAfter', 4], ['reliability', 4], ['healMs']]],
];
console.log('');
table(realRows, (size, file) => (file.startsWith('failure') ? file.replace('real-', `real-${size}-`) : `${file}-${size}`));
