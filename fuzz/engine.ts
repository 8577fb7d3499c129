/**
 * The fuzz loop of one target: seeded inputs (random, valid seeds, stacked
 * byte-level and CBOR-aware mutations of the corpus), each decoded once and
 * timed. A thrown error the target does not expect is an "untyped error":
 * recorded, minimized, saved as hex. An input whose decode cost is over the
 * bound is measured three more times and counted only if the fastest run is
 * still over it (GC pauses and other processes' noise fall away).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cborMutator } from './mutate-cbor.ts';
import { BYTE_MUTATORS, MAX_INPUT_BYTES, randomInput, type MutationContext } from './mutate-bytes.ts';
import { Rng } from './prng.ts';
import { expectWalkawayError, type Target } from './target.ts';

/** Decode cost bound: an honest header decodes in a few µs; inputs under 1 KiB count as 1 KiB. */
export const DECODE_BUDGET_US_PER_KIB = 200;
/** Pool of inputs to mutate: the seeds, the committed corpus, and inputs that decoded. */
const MAX_POOL = 1024;
/** Distinct untyped errors kept (and minimized) per target. */
const MAX_FINDINGS = 16;
const HEX_SHOWN = 2048;
/** Inputs over the bound kept for the final re-measurement (more are counted as over, unchecked). */
const MAX_SUSPECTS = 256;
const KEEP_WORST = 8;
const RETEST_ROUNDS = 5;

export interface Finding {
  error: string;
  bytes: number;
  hex: string;
  /** The smallest input found that throws the same kind of error. */
  minimizedHex: string;
  file?: string;
}

export interface TargetReport {
  target: string;
  about: string;
  inputs: number;
  accepted: number;
  expectedErrors: number;
  untypedErrors: number;
  worstUsPerKiB: number;
  worstInputBytes: number;
  worstInputHex: string;
  budgetUsPerKiB: number;
  overBound: number;
  /** Over the bound in four runs in a row, but past MAX_SUSPECTS: not re-measured at the end. */
  overBoundUnchecked: number;
  overBoundInputs: { usPerKiB: number; bytes: number; hex: string }[];
  seconds: number;
  findings: Finding[];
}

export interface FuzzOptions {
  seed: string;
  inputs: number;
  /** Stop a target after this long even if it has not run `inputs`. */
  seconds?: number;
  /** Where untyped errors and over-bound inputs are written (hex); none if undefined. */
  crashDir?: string;
  corpusDir?: string;
  quiet?: boolean;
  /** Shrink the first input of each untyped error (default true; up to 5 s each). */
  minimize?: boolean;
}

export const toHex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
export const fromHex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.trim(), 'hex'));

/**
 * The committed corpus of a target: one hex input per line, `#` comments.
 * Lines after `# regressions` are inputs that once failed: run every time,
 * but not mutated (they are often large and slow on purpose).
 */
export function readCorpus(dir: string | undefined, name: string): { seeds: Uint8Array[]; regressions: Uint8Array[] } {
  const file = dir ? join(dir, `${name}.hex`) : '';
  if (!file || !existsSync(file)) return { seeds: [], regressions: [] };
  const text = readFileSync(file, 'utf8');
  const cut = text.indexOf('# regressions');
  const parse = (part: string) =>
    part
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'))
      .map(fromHex);
  return cut < 0 ? { seeds: parse(text), regressions: [] } : { seeds: parse(text.slice(0, cut)), regressions: parse(text.slice(cut)) };
}

function signature(err: unknown): string {
  if (!(err instanceof Error)) return `non-Error thrown: ${typeof err}`;
  const first = (err.message ?? '').split('\n')[0].replace(/\d+/g, 'N').slice(0, 100);
  return `${err.constructor?.name ?? err.name}: ${first}`;
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return `non-Error thrown: ${String(err)}`;
  return `${err.constructor?.name ?? err.name}: ${err.message.split('\n')[0].slice(0, 300)}`;
}

export async function fuzzTarget(target: Target, options: FuzzOptions): Promise<TargetReport> {
  const rng = new Rng(`${options.seed}/${target.name}`);
  const expected = target.expected ?? expectWalkawayError;
  const budget = target.budgetUsPerKiB ?? DECODE_BUDGET_US_PER_KIB;
  const wanted = Math.min(options.inputs, target.maxInputs ?? Infinity);
  const seeds = await target.seeds(new Rng(`seeds/${target.name}`));
  const corpus = readCorpus(options.corpusDir, target.name);
  const pool: Uint8Array[] = [];
  const inPool = new Set<string>();
  for (const input of [...seeds, ...corpus.seeds]) {
    const key = toHex(input);
    if (!inPool.has(key)) pool.push(input);
    inPool.add(key);
  }
  const fixed = pool.length;
  const ctx: MutationContext = { other: () => pool[rng.below(pool.length)], dictionary: target.dictionary ?? [] };
  const report: TargetReport = {
    target: target.name,
    about: target.about,
    inputs: 0,
    accepted: 0,
    expectedErrors: 0,
    untypedErrors: 0,
    worstUsPerKiB: 0,
    worstInputBytes: 0,
    worstInputHex: '',
    budgetUsPerKiB: budget,
    overBound: 0,
    overBoundUnchecked: 0,
    overBoundInputs: [],
    seconds: 0,
    findings: [],
  };
  const seen = new Set<string>();
  const started = Date.now();
  const deadline = options.seconds === undefined ? Infinity : started + options.seconds * 1000;

  const nextInput = (): Uint8Array => {
    const r = rng.below(100);
    if (r < 3) return randomInput(rng);
    if (r < 8) return pool[rng.below(pool.length)];
    let x = pool[rng.below(pool.length)];
    const k = rng.oneIn(2) ? 1 : 2 + rng.below(rng.oneIn(4) ? 15 : 3);
    for (let i = 0; i < k; i++) {
      const m = target.format === 'cbor' && rng.oneIn(2) ? cborMutator : BYTE_MUTATORS[rng.below(BYTE_MUTATORS.length)];
      x = m(x, rng, ctx);
    }
    return x.length > MAX_INPUT_BYTES ? x.subarray(0, MAX_INPUT_BYTES) : x;
  };

  /** One decode: elapsed µs, and what was thrown in `thrown` (undefined: nothing). */
  let thrown: unknown;
  const onceSync = (input: Uint8Array): number => {
    thrown = undefined;
    const t0 = process.hrtime.bigint();
    try {
      target.run(input);
    } catch (err) {
      thrown = err ?? new Error('undefined thrown');
    }
    return Number(process.hrtime.bigint() - t0) / 1000;
  };
  const onceAsync = async (input: Uint8Array): Promise<number> => {
    thrown = undefined;
    const t0 = process.hrtime.bigint();
    try {
      await target.run(input);
    } catch (err) {
      thrown = err ?? new Error('undefined thrown');
    }
    return Number(process.hrtime.bigint() - t0) / 1000;
  };
  const once = (input: Uint8Array): number | Promise<number> => (target.async ? onceAsync(input) : onceSync(input));
  const perKiB = (us: number, input: Uint8Array) => us / Math.max(1, input.length / 1024);

  const minimize = async (input: Uint8Array, sig: string): Promise<Uint8Array> => {
    let best = input;
    let tries = 0;
    const stopAt = Date.now() + 5000;
    for (let chunk = Math.max(1, best.length >> 1); chunk >= 1 && tries < 4000 && Date.now() < stopAt; chunk >>= 1) {
      for (let at = 0; at < best.length && tries < 4000; ) {
        const candidate = new Uint8Array(best.length - Math.min(chunk, best.length - at));
        candidate.set(best.subarray(0, at), 0);
        candidate.set(best.subarray(at + chunk), at);
        tries++;
        await once(candidate);
        if (thrown !== undefined && !expected(thrown) && signature(thrown) === sig) best = candidate;
        else at += chunk;
      }
    }
    return best;
  };

  const save = (kind: string, input: Uint8Array): string | undefined => {
    if (!options.crashDir) return undefined;
    mkdirSync(options.crashDir, { recursive: true });
    const file = join(options.crashDir, `${target.name}-${kind}.hex`);
    writeFileSync(file, toHex(input) + '\n');
    return file;
  };

  const suspects: { input: Uint8Array; cost: number }[] = [];
  const worst: { input: Uint8Array; cost: number }[] = [];
  const worstFloor = () => (worst.length < KEEP_WORST ? 0 : worst[worst.length - 1].cost);

  for (let i = 0; i < wanted; i++) {
    if ((i & 255) === 0 && Date.now() > deadline) break;
    // The committed regressions, the seeds and the corpus first, unchanged; then generated inputs.
    // Regressions run again as the last inputs, with the JIT warm: how deep a decoder recurses before
    // the stack overflows depends on it, so a nesting depth may fail only warm (or only cold).
    const regressions = corpus.regressions.length;
    const lastRun = wanted - regressions;
    const input =
      i < regressions
        ? corpus.regressions[i]
        : i < regressions + fixed
          ? pool[i - regressions]
          : i >= lastRun && lastRun >= regressions + fixed
            ? corpus.regressions[i - lastRun]
            : nextInput();
    let us = target.async ? await onceAsync(input) : onceSync(input);
    let err = thrown;
    report.inputs++;
    if (err === undefined) {
      report.accepted++;
      if (rng.oneIn(16) && input.length <= 16 * 1024) {
        if (pool.length < MAX_POOL) pool.push(input);
        else pool[fixed + rng.below(MAX_POOL - fixed)] = input;
      }
    } else if (expected(err)) report.expectedErrors++;
    else {
      report.untypedErrors++;
      const sig = signature(err);
      if (!seen.has(sig) && seen.size < MAX_FINDINGS) {
        seen.add(sig);
        const small = options.minimize === false ? input : await minimize(input, sig);
        const file = save(`untyped-${seen.size}`, small);
        const finding: Finding = { error: describe(err), bytes: input.length, hex: toHex(input).slice(0, HEX_SHOWN), minimizedHex: toHex(small), file };
        report.findings.push(finding);
        if (!options.quiet)
          console.error(
            `[${target.name}] untyped error: ${finding.error}\n  input (minimized, ${small.length} bytes): ${finding.minimizedHex.slice(0, 160)}${file ? `\n  saved: ${file}` : ''}`,
          );
      }
      err = undefined;
    }
    const cost = perKiB(us, input);
    if (cost > budget || cost > worstFloor()) {
      // Over the bound or among the worst: the fastest of three more runs now, then again at the end.
      for (let r = 0; r < 3; r++) us = Math.min(us, await once(input));
      const again = perKiB(us, input);
      if (again > budget) {
        if (suspects.length < MAX_SUSPECTS) suspects.push({ input, cost: again });
        else report.overBoundUnchecked++;
      } else if (again > worstFloor()) {
        worst.push({ input, cost: again });
        worst.sort((a, b) => b.cost - a.cost);
        worst.length = Math.min(worst.length, KEEP_WORST);
      }
    }
  }
  // Measured again, interleaved, a few ms apart: only what stays over the bound each time counts.
  const retest = [...suspects, ...worst];
  for (let round = 0; round < RETEST_ROUNDS; round++) {
    for (const s of retest) s.cost = Math.min(s.cost, perKiB(await once(s.input), s.input));
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  for (const s of retest) {
    if (s.cost > report.worstUsPerKiB) {
      report.worstUsPerKiB = s.cost;
      report.worstInputBytes = s.input.length;
      report.worstInputHex = toHex(s.input).slice(0, HEX_SHOWN);
    }
  }
  const over = suspects.filter((s) => s.cost > budget).sort((a, b) => b.cost - a.cost);
  report.overBound = over.length + report.overBoundUnchecked;
  for (const [i, s] of over.slice(0, 8).entries()) {
    report.overBoundInputs.push({ usPerKiB: Math.round(s.cost), bytes: s.input.length, hex: toHex(s.input).slice(0, HEX_SHOWN) });
    save(`slow-${i + 1}`, s.input);
    if (!options.quiet) console.error(`[${target.name}] over the bound: ${s.cost.toFixed(0)} µs/KiB, ${s.input.length} bytes: ${toHex(s.input).slice(0, 160)}`);
  }
  report.seconds = (Date.now() - started) / 1000;
  report.worstUsPerKiB = Math.round(report.worstUsPerKiB * 10) / 10;
  await target.close?.();
  return report;
}
