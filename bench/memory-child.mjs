/**
 * Child process of the memory benchmark (bench/memory.ts), plain JavaScript
 * run by plain `node` (no TypeScript loader: tsx alone adds about 32 MB of
 * RSS), Walkaway from the built `dist/` (`npm run build`): one process of a
 * side, measured at stages; prints one JSON line per stage with RSS, V8 heap
 * (used and total), external and array-buffer memory, after a full GC.
 *
 *   node --expose-gc bench/memory-child.mjs <walkaway|gossipsub|hypercore> <dir> <ops> <topics> [idleSeconds] [distDir]
 *
 * `distDir`: the built Walkaway a `walkaway` side loads (this tree's `dist/` by default).
 *
 * Stages: `bare` (runtime and tsx loaded), `loaded` (the side's modules
 * imported), `started` (host/node/core created), `joined` (one topic),
 * `ops-10k` / `ops-<N>` (10,000 and N 100-byte items published and stored
 * by this process, each side its own way (`idle`: after joining, left alone
 * for `idleSeconds`, 0 to skip, and measured WITHOUT a forced GC: what the
 * process holds once V8's own idle-time memory reducer has had its chance;
 * the other stages come right after a forced full GC, which does not give
 * back the young generation grown while modules loaded): Walkaway operations of another
 * author stored in batches as sync stores them, GossipSub publishes, Hypercore
 * appends in batches of 1,000), `topics-<T>` (T topics joined in all).
 */
import { pathToFileURL } from 'node:url';

const [side, dir, opsArg = '100000', topicsArg = '10'] = process.argv.slice(2);
const OPS = Number(opsArg);
const TOPICS = Number(topicsArg);
const IDLE_S = Number(process.argv[6] ?? 0);
const DIST = process.argv[7] ? pathToFileURL(process.argv[7]).href : new URL('../dist', import.meta.url).href;

const settle = async () => {
  for (let i = 0; i < 3; i++) {
    globalThis.gc?.();
    await new Promise((r) => setTimeout(r, 100));
  }
};

async function stage(name, extra = {}, forceGc = true) {
  if (forceGc) await settle();
  const m = process.memoryUsage();
  process.stdout.write(
    JSON.stringify({
      type: 'stage',
      stage: name,
      rss: m.rss,
      heapUsed: m.heapUsed,
      heapTotal: m.heapTotal,
      external: m.external,
      arrayBuffers: m.arrayBuffers,
      ...extra,
    }) + '\n',
  );
}

const body = (i) => {
  const b = new Uint8Array(100).fill(i & 0xff);
  new DataView(b.buffer).setUint32(0, i);
  return b;
};

/** Left alone after joining, no forced GC (skipped with 0 seconds). */
async function idle() {
  if (IDLE_S <= 0) return;
  await new Promise((r) => setTimeout(r, IDLE_S * 1000));
  await stage('idle', { seconds: IDLE_S }, false);
}

async function publishAll(publish, from, to) {
  for (let i = from; i < to; i++) await publish(i);
}

async function walkaway() {
  const { Node } = await import(`${DIST}/node/index.js`);
  await stage('loaded');
  const node = await Node.create({ listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, storage: 'sqlite', dataDir: dir, networkId: 'walkaway-bench-memory' });
  await stage('started');
  const stream = node.stream('walkaway/bench/memory/0');
  const drain = async (s) => {
    for await (const event of s.rx) event.ack();
  };
  void drain(stream);
  await stage('joined');
  await idle();
  // Operations of another author arriving in batches of 1,000 (the sync path's
  // store calls; publishing 100k own operations one transaction each would
  // take most of an hour on the loaded bench machine).
  const core = await import(`${DIST}/core/index.js`);
  const topic = core.topicId('walkaway/bench/memory/0');
  const logId = core.logIdForTopic(topic);
  const author = core.PrivateKey.fromBytes(new Uint8Array(32).fill(77));
  let backlink;
  const ingest = (from, to) => {
    for (let i = from; i < to; i += 1000) {
      const batch = [];
      for (let seq = i; seq < Math.min(to, i + 1000); seq++) {
        const operation = core.createOperation({
          privateKey: author,
          body: body(seq),
          seqNum: seq,
          backlink,
          extensions: { variant: 'basic', logId, timestamp: 1_700_000_000_000_000 + seq, pruneFlag: false },
        });
        backlink = operation.hash;
        batch.push({ operation, topic });
      }
      node.store.ingestBatch(batch);
    }
  };
  ingest(0, Math.min(10_000, OPS));
  await stage('ops-10k');
  ingest(10_000, OPS);
  await stage(`ops-${OPS}`);
  for (let t = 1; t < TOPICS; t++) void drain(node.stream(`walkaway/bench/memory/${t}`));
  await stage(`topics-${TOPICS}`);
  await node.close();
}

async function gossipsub() {
  await import('../dist/net/polyfill.js');
  const { noise } = await import('@chainsafe/libp2p-noise');
  const { yamux } = await import('@chainsafe/libp2p-yamux');
  const { gossipsub: gs } = await import('@libp2p/gossipsub');
  const { identify } = await import('@libp2p/identify');
  const { tcp } = await import('@libp2p/tcp');
  const { createLibp2p } = await import('libp2p');
  await stage('loaded');
  const host = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify(), pubsub: gs({ allowPublishToZeroTopicPeers: true }) },
  });
  await stage('started');
  const pubsub = host.services.pubsub;
  pubsub.subscribe('walkaway/bench/memory/0');
  await stage('joined');
  await idle();
  const publish = (i) => pubsub.publish('walkaway/bench/memory/0', body(i));
  await publishAll(publish, 0, Math.min(10_000, OPS));
  await stage('ops-10k');
  await publishAll(publish, 10_000, OPS);
  await stage(`ops-${OPS}`);
  for (let t = 1; t < TOPICS; t++) pubsub.subscribe(`walkaway/bench/memory/${t}`);
  await stage(`topics-${TOPICS}`);
  await host.stop();
}

async function hypercore() {
  const Hypercore = (await import('hypercore')).default;
  await stage('loaded');
  const cores = [new Hypercore(`${dir}/0`)];
  await cores[0].ready();
  await stage('started');
  await stage('joined');
  await idle();
  const append = async (from, to) => {
    for (let i = from; i < to; i += 1000) {
      const items = [];
      for (let j = i; j < Math.min(to, i + 1000); j++) items.push(body(j));
      await cores[0].append(items);
    }
  };
  await append(0, Math.min(10_000, OPS));
  await stage('ops-10k');
  await append(10_000, OPS);
  await stage(`ops-${OPS}`);
  for (let t = 1; t < TOPICS; t++) {
    const c = new Hypercore(`${dir}/${t}`);
    await c.ready();
    cores.push(c);
  }
  await stage(`topics-${TOPICS}`);
  for (const c of cores) await c.close();
}

await stage('bare');
if (side === 'walkaway') await walkaway();
else if (side === 'gossipsub') await gossipsub();
else if (side === 'hypercore') await hypercore();
else throw new Error(`unknown side ${side}`);
process.stdout.write(JSON.stringify({ type: 'done' }) + '\n');
process.exit(0);
