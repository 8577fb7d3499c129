/**
 * Benchmark `ratios` (issue 21): the cost of the node's real publish and
 * ingest paths against the raw Ed25519 cost they are bounded by, as CPU time
 * (every thread of the process) per operation, so that the ratios do not
 * swing with the machine's load; numerator and denominator are measured in
 * the same repetition, interleaved.
 *
 *   sign          raw: the node's crypto signing one 120-byte message
 *   verify        raw: one verify, one key (warm: the key is parsed once)
 *   verifyCold    raw: one verify per distinct key (the key parsed every time)
 *   publish       a real Node (SQLite, libp2p host, one topic, alone):
 *                 `await stream.tx.publish(body)` one after another: create,
 *                 sign, store (its own transaction: one WAL sync), gossip
 *   publishNormal the same on a Node with `durability: 'normal'` (no WAL sync per commit)
 *                 (each publish sample opens its own node and closes it after,
 *                 so no other node's background work is charged to it)
 *   publishBurst  a Node as `publish`, `--burst` publishes in flight at once
 *                 (Promise.all): they share one transaction (group commit)
 *   ingest        the sync path: decode from bytes, `IngestPipeline` with the
 *                 shared verify pool (2 worker threads), batches into SQLite;
 *                 100 authors
 *   ingestCold    the same with one operation per author (`--cold` distinct
 *                 authors, 100,000 by default: more than the 65,536 keys the
 *                 verify workers cache, so no key is ever found there)
 *
 * Ratios: publish = sign CPU / publish CPU (goal >= 0.7); ingest against the
 * two-thread verify limit = verify CPU / ingest CPU per op (1.0: ingest costs
 * nothing but its verify, so two cores verifying flat out would be the
 * limit; goal >= 0.9); with wall-clock ops/s of ingest against 2 / verify
 * CPU as well, which on a loaded machine says more about the load.
 *
 * `--base DIR`: a second checkout's `src` (another commit: `git archive
 * <commit> src | tar -x -C DIR`, `node_modules` linked) runs the publish,
 * ingest and cold-verify sides too, as `<side>@base`, interleaved with this
 * tree's in the same run: a before/after on the same load.
 *
 * Stages (bench/ratios-stages.ts): sign at the rhythm of a WAL sync,
 * create, the store steps alone, decode, an idle node's CPU; the summary's
 * `bounds` splits each path's CPU per operation by them.
 *
 *   npm run bench -- ratios [--ops 20000] [--cold 100000] [--publish 2000] [--burst 100] [--reps 3] [--only a,b] [--base DIR] [--save]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as core from '../src/core/index.ts';
import { createOperation, crypto, logIdForTopic, PrivateKey, topicId, type Hash } from '../src/core/index.ts';
import { Node } from '../src/node/index.ts';
import * as store from '../src/store/index.ts';
import * as inbound from '../src/node/inbound/index.ts';
import { cpuSecondsSince, flag, interleave, medians, ratio, round, type Sample } from './harness.ts';
import { stageSides, type Wire } from './ratios-stages.ts';

const TOPIC = topicId('walkaway/bench/ratios');

/** The code under test: this tree's, or the `--base` checkout's. */
interface Impl {
  core: Pick<typeof core, 'crypto' | 'decodeOperationUnverified'>;
  Node: typeof Node;
  store: Pick<typeof store, 'SqliteStore'>;
  inbound: Pick<typeof inbound, 'sharedVerifyPool' | 'storeIngest'>;
}

async function loadBase(dir: string): Promise<Impl> {
  const at = (path: string) => import(join(dir, 'src', path));
  const [c, n, s, i] = await Promise.all([at('core/index.ts'), at('node/index.ts'), at('store/index.ts'), at('node/inbound/index.ts')]);
  return { core: c, Node: n.Node, store: s, inbound: i };
}

function body(i: number): Uint8Array {
  const b = new Uint8Array(100);
  new DataView(b.buffer).setUint32(0, i);
  return b;
}

/** `authors` logs of `perAuthor` operations, interleaved by seq, as wire bytes. */
function makeWire(authors: number, perAuthor: number, seed: number): Wire {
  const logId = logIdForTopic(TOPIC);
  const logs: Wire[] = [];
  for (let a = 0; a < authors; a++) {
    const seedBytes = new Uint8Array(32);
    new DataView(seedBytes.buffer).setUint32(0, a);
    seedBytes[31] = seed;
    const key = PrivateKey.fromBytes(seedBytes);
    let backlink: Hash | undefined;
    const log: Wire = [];
    for (let seq = 0; seq < perAuthor; seq++) {
      const op = createOperation({
        privateKey: key,
        body: body(seq),
        seqNum: seq,
        backlink,
        extensions: { variant: 'basic', logId, timestamp: 1_700_000_000_000_000 + seq, pruneFlag: false },
      });
      backlink = op.hash;
      log.push([op.headerBytes, op.body]);
    }
    logs.push(log);
  }
  const out: Wire = [];
  for (let seq = 0; seq < perAuthor; seq++) for (const log of logs) out.push(log[seq]);
  return out;
}

function rawCpuUs(n: number, fn: (i: number) => void): number {
  const cpu = process.cpuUsage();
  for (let i = 0; i < n; i++) fn(i);
  return (cpuSecondsSince(cpu) * 1e6) / n;
}

async function ingestSample(impl: Impl, dir: string, tag: string, wire: Wire): Promise<Sample> {
  const path = join(dir, `${tag}.db`);
  const store = impl.store.SqliteStore.open(path);
  const verifier = await impl.inbound.sharedVerifyPool();
  // Steady state: the workers up before the clock starts (they stop after
  // 30 s idle, and a restart inside the window would charge their boot to it).
  const probe = [impl.core.decodeOperationUnverified(wire[0][0], wire[0][1])];
  for (let i = 0; i < 1000 && !verifier.started; i++) {
    await verifier.verify(probe);
    await new Promise((r) => setTimeout(r, 10));
  }
  const before = verifier.verified;
  try {
    let stored = 0;
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    // The node's inbound path, as a sync session feeds it (src/node/inbound).
    const pipeline = impl.inbound.storeIngest(store, verifier).open({
      batchSize: 1000,
      mode: 'all',
      onResults: (results: { outcome: { status: string } }[]) => {
        for (const r of results) if (r.outcome.status === 'inserted') stored++;
        if (stored === wire.length) done();
      },
      onBacklog: () => {},
    });
    const cpu = process.cpuUsage();
    const start = performance.now();
    for (const [h, b] of wire) pipeline.push({ operation: impl.core.decodeOperationUnverified(h, b), topic: TOPIC, kind: 'sync' });
    await pipeline.idle();
    await Promise.race([finished, new Promise((r) => setTimeout(r, 1000))]);
    const ms = performance.now() - start;
    if (stored !== wire.length) throw new Error(`ingest stored ${stored} of ${wire.length}`);
    const cpuUsPerOp = round((cpuSecondsSince(cpu) * 1e6) / wire.length, 2);
    // The share of signatures checked on this thread instead of the workers (null: a pool that does not count).
    const after = verifier.verified;
    const inlineShare = before && after ? round((after.inline - before.inline) / wire.length, 3) : null;
    return { cpuUsPerOp, opsPerSec: Math.round((wire.length / ms) * 1000), inlineShare };
  } finally {
    store.close();
    for (const s of ['', '-wal', '-shm']) rmSync(path + s, { force: true });
  }
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const ops = Number(flag(args, 'ops', '20000'));
  const cold = Number(flag(args, 'cold', '100000'));
  const publishOps = Number(flag(args, 'publish', '2000'));
  const burst = Number(flag(args, 'burst', '100'));
  const reps = Number(flag(args, 'reps', '3'));
  const only = flag(args, 'only', '').split(',').filter(Boolean);
  const baseDir = flag(args, 'base', '');
  const wanted = (side: string) => only.length === 0 || only.includes(side.replace('@base', ''));
  const dir = mkdtempSync(join(tmpdir(), 'walkaway-bench-ratios-'));
  const warmWire = makeWire(100, Math.ceil(ops / 100), 1);
  const coldWire = wanted('ingestCold') ? makeWire(cold, 1, 2) : [];
  const message = new Uint8Array(120).fill(5);
  const keys = Array.from({ length: 2000 }, (_, i) => PrivateKey.fromBytes(new Uint8Array(32).fill(i % 251).map((x, j) => (j === 0 ? i >> 8 : x))));
  const sigs = keys.map((k) => crypto().sign(k.toBytes(), message));
  const impls: [string, Impl][] = [['', { core, Node, store, inbound }]];
  if (baseDir) impls.push(['@base', await loadBase(baseDir)]);
  let published = 0;
  const timed = async (n: number, fn: () => Promise<void>): Promise<Sample> => {
    const cpu = process.cpuUsage();
    const start = performance.now();
    await fn();
    const ms = performance.now() - start;
    return { cpuUs: round((cpuSecondsSince(cpu) * 1e6) / n, 2), opsPerSec: Math.round((n / ms) * 1000) };
  };
  const sides: Record<string, (rep: number) => Promise<Sample>> = {
    sign: async () => ({
      cpuUs: round(
        rawCpuUs(20_000, (i) => crypto().sign(keys[i % 8].toBytes(), message)),
        2,
      ),
    }),
    verify: async () => ({
      cpuUs: round(
        rawCpuUs(10_000, () => crypto().verify(keys[0].publicKey.toBytes(), message, sigs[0])),
        2,
      ),
    }),
  };
  try {
    for (const [tag, impl] of impls) {
      // Alone on the loopback: publish is create, sign, store, gossip (to no one).
      // Each sample opens its own node and closes it after: no other node's
      // timers, and no node left open by another side, are charged to it.
      const withNode = async (name: string, durability: 'full' | 'normal', fn: (publish: (b: Uint8Array) => Promise<unknown>) => Promise<Sample>) => {
        const n = await impl.Node.create({
          listen: ['/ip4/127.0.0.1/tcp/0'],
          mdns: false,
          storage: 'sqlite',
          durability,
          dataDir: join(dir, `${name}-${published}${tag}`),
          networkId: 'walkaway-bench-ratios',
        });
        try {
          const s = n.stream('walkaway/bench/ratios');
          void (async () => {
            for await (const e of s.rx) e.ack();
          })();
          // Warm up the path (JIT) before it is measured.
          for (let i = 0; i < 50; i++) await s.tx.publish(body(published++));
          return await fn((b) => s.tx.publish(b));
        } finally {
          await n.close();
        }
      };
      const serial = (name: string, durability: 'full' | 'normal') => () =>
        withNode(name, durability, (publish) =>
          timed(publishOps, async () => {
            for (let i = 0; i < publishOps; i++) await publish(body(published++));
          }),
        );
      // Fresh key objects each rep: a distinct key per verify, never seen before by the crypto's cache.
      sides[`verifyCold${tag}`] = async (rep) => {
        const fresh = Array.from({ length: 1500 }, (_, i) =>
          PrivateKey.fromBytes(new Uint8Array(32).fill(rep + 7 + (tag ? 100 : 0)).map((x, j) => (j < 2 ? (i >> (8 * j)) & 0xff : x))),
        );
        const s = fresh.map((k) => crypto().sign(k.toBytes(), message));
        const pubs = fresh.map((k) => Uint8Array.from(k.publicKey.toBytes()));
        return {
          cpuUs: round(
            rawCpuUs(fresh.length, (i) => impl.core.crypto().verify(pubs[i], message, s[i])),
            2,
          ),
        };
      };
      sides[`publish${tag}`] = serial('node', 'full');
      if (!tag) sides.publishNormal = serial('node-normal', 'normal');
      sides[`publishBurst${tag}`] = () =>
        withNode('node-burst', 'full', (publish) =>
          timed(publishOps, async () => {
            for (let i = 0; i < publishOps; i += burst) {
              await Promise.all(Array.from({ length: Math.min(burst, publishOps - i) }, () => publish(body(published++))));
            }
          }),
        );
      sides[`ingest${tag}`] = async (rep) => ingestSample(impl, dir, `warm-${rep}${tag}`, warmWire);
      sides[`ingestCold${tag}`] = async (rep) => ingestSample(impl, dir, `cold-${rep}${tag}`, coldWire);
    }
    const idleNode = async () => {
      const n = await Node.create({
        listen: ['/ip4/127.0.0.1/tcp/0'],
        mdns: false,
        storage: 'sqlite',
        dataDir: join(dir, `idle-${published++}`),
        networkId: 'walkaway-bench-ratios',
      });
      n.stream('walkaway/bench/ratios');
      return n;
    };
    Object.assign(
      sides,
      stageSides(
        { dir, warmWire, ops: Math.min(ops, 2000), idleNode },
        impls.map(([tag, impl]) => [tag, impl.store]),
      ),
    );
    for (const name of Object.keys(sides)) if (!wanted(name)) delete sides[name];
    const result = await interleave(sides, reps);
    const m = (s: string) => medians(result.sides[s]);
    const threads = (await inbound.sharedVerifyPool()).threads;
    const goals = (tag: string) => ({
      'publish: sign CPU / publish CPU (>= 0.7)': ratio(m('sign').cpuUs, m(`publish${tag}`).cpuUs),
      [`publish, ${burst} in flight: sign CPU / publish CPU`]: ratio(m('sign').cpuUs, m(`publishBurst${tag}`).cpuUs),
      'ingest: verify CPU / ingest CPU per op (>= 0.9)': ratio(m('verify').cpuUs, m(`ingest${tag}`).cpuUsPerOp),
      'ingest cold keys: warm verify CPU / ingest CPU per op (>= 0.9)': ratio(m('verify').cpuUs, m(`ingestCold${tag}`).cpuUsPerOp),
      'ingest cold keys: cold verify CPU / ingest CPU per op': ratio(m(`verifyCold${tag}`).cpuUs, m(`ingestCold${tag}`).cpuUsPerOp),
      'publish: sign CPU at one per 10 ms / publish CPU (same rhythm)': ratio(m('signPaced').cpuUs, m(`publish${tag}`).cpuUs),
      'publish wall ops/s x sign CPU (1.0: signing back to back)': ratio((m(`publish${tag}`).opsPerSec ?? 0) * m('sign').cpuUs, 1e6),
      'ingest wall ops/s / two-thread verify limit (loaded machine)': ratio(m(`ingest${tag}`).opsPerSec, (2 * 1e6) / m('verify').cpuUs),
    });
    const rest = (total: number | undefined, ...parts: (number | undefined)[]) =>
      total == null || parts.some((p) => p == null) ? null : round(total - parts.reduce((a: number, p) => a + p!, 0), 2);
    const bounds = (tag: string) => ({
      'publish CPU us/op': m(`publish${tag}`).cpuUs,
      'publish: create (sign, encode, hash)': m('create').cpuUs,
      'publish: store own op, one txn, FULL': m(`storeOwn${tag}`).cpuUs,
      'publish: idle node CPU during its wall time': idleShare(m(`publish${tag}`).opsPerSec),
      'publish: rest (inbound, app delivery, gossip)': rest(m(`publish${tag}`).cpuUs, m('create').cpuUs, m(`storeOwn${tag}`).cpuUs),
      'publish: sign at one per 10 ms (cold caches)': m('signPaced').cpuUs,
      'publish normal CPU us/op': tag ? null : m('publishNormal').cpuUs,
      'publish normal: store own op, one txn, NORMAL': m(`storeOwnNormal${tag}`).cpuUs,
      'publish normal: rest': tag ? null : rest(m('publishNormal').cpuUs, m('create').cpuUs, m(`storeOwnNormal${tag}`).cpuUs),
      'publish burst CPU us/op': m(`publishBurst${tag}`).cpuUs,
      'publish burst: rest after create and store': rest(m(`publishBurst${tag}`).cpuUs, m('create').cpuUs, m(`storeBatch${tag}`).cpuUs),
      'ingest CPU us/op': m(`ingest${tag}`).cpuUsPerOp,
      'ingest: verify (raw)': m('verify').cpuUs,
      'ingest: decode': m('decode').cpuUs,
      'ingest: store, 1000 per txn': m(`storeBatch${tag}`).cpuUs,
      'ingest: rest (inbound machine, pool messages)': rest(m(`ingest${tag}`).cpuUsPerOp, m('verify').cpuUs, m('decode').cpuUs, m(`storeBatch${tag}`).cpuUs),
    });
    // An idle node's CPU per second, charged to each serial publish for its wall time.
    const idleShare = (opsPerSec: number | undefined) => (opsPerSec && m('idle').cpuUsPerSec != null ? round(m('idle').cpuUsPerSec / opsPerSec, 2) : null);
    const cpuUs = Object.fromEntries(Object.keys(result.sides).map((s) => [s, m(s).cpuUs ?? m(s).cpuUsPerOp ?? m(s).cpuUsPerSec]));
    const summary = {
      reps,
      ingestOps: warmWire.length,
      coldAuthors: cold,
      publishOps,
      burst,
      verifyThreads: threads,
      // Signatures of the ingest sides checked on the main thread, not the workers (0: all on the workers).
      inlineShare: Object.fromEntries(
        Object.keys(result.sides)
          .filter((side) => side.startsWith('ingest'))
          .map((side) => [side, m(side).inlineShare ?? null]),
      ),
      cpuUs,
      goals: { ...goals(''), "publish, durability 'normal': sign CPU / publish CPU": ratio(m('sign').cpuUs, m('publishNormal').cpuUs) },
      ...(baseDir ? { goalsBase: goals('@base') } : {}),
      bounds: bounds(''),
      ...(baseDir ? { boundsBase: bounds('@base') } : {}),
      load: result.load,
    };
    return { summary, ...result };
  } finally {
    for (const [, impl] of impls) (await impl.inbound.sharedVerifyPool()).close?.();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { printTable } = await import('./table.ts');
  printTable((await run(process.argv.slice(2))).summary as Record<string, unknown>);
  process.exit(0);
}
