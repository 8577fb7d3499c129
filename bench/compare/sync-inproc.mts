// One in-process sync of <ops> operations between two SQLite stores over a duplex pair, in the given checkout (old or new layout):
// node --import tsx bench/compare/sync-inproc.mts <checkout> <ops>  -> {stored, wallMs, mainCpuMs}
const [tree, opsArg] = process.argv.slice(2);
const ops = Number(opsArg);
const core = await import(`${tree}/src/core/index.ts`);
const storeMod = await import(`${tree}/src/store/index.ts`);
const sync = await import(`${tree}/src/sync/index.ts`);
const pipe = await import(`${tree}/src/sync/pipe.ts`);
let ingestFor: (s: any) => any = () => undefined;
try {
  const inbound = await import(`${tree}/src/node/inbound/index.ts`);
  ingestFor = (s) => inbound.storeIngest(s);
  await inbound.sharedVerifyPool();
} catch {
  const ip = await import(`${tree}/src/sync/ingest-pipeline.ts`);
  await ip.sharedVerifyPool();
}
const topic = core.topicId('bench');
const logId = core.logIdForTopic(topic);
const key = core.PrivateKey.fromBytes(new Uint8Array(32).fill(5));
const a = storeMod.SqliteStore.open(':memory:');
let prev: any;
const batch: any[] = [];
for (let i = 0; i < ops; i++) {
  const op = core.createOperation({
    privateKey: key,
    body: new Uint8Array(100).fill(i & 255),
    seqNum: i,
    backlink: prev?.hash,
    extensions: { variant: 'basic', logId, timestamp: i, pruneFlag: false },
  });
  batch.push({ operation: op, topic });
  prev = op;
  if (batch.length === 1000) a.ingestBatch(batch.splice(0));
}
if (batch.length) a.ingestBatch(batch.splice(0));
const b = storeMod.SqliteStore.open(':memory:');
const [sa, sb] = pipe.duplexPair();
const cpu = process.cpuUsage();
const t = performance.now();
const opts = (s: any, extra: any) => {
  const i = ingestFor(s);
  return i ? { ...extra, ingest: i } : extra;
};
const ha = sync.syncOverStream(a, sa, opts(a, { role: 'initiator', topic }));
const hb = sync.syncOverStream(b, sb, opts(b, { role: 'acceptor', topic }));
const [, got] = await Promise.all([ha.done, hb.done]);
const c = process.cpuUsage(cpu);
console.log(
  JSON.stringify({
    tree: tree.includes('base') ? 'base' : 'new',
    stored: got.stored,
    wallMs: Math.round(performance.now() - t),
    mainCpuMs: Math.round((c.user + c.system) / 1000),
  }),
);
process.exit(0);
