/**
 * The package as a consumer gets it: `npm pack`, the tarball installed into
 * a temporary project, then plain Node imports it, a TypeScript file on
 * `moduleResolution: nodenext` type-checks against its declarations, and
 * `npx walkaway --help` runs the compiled CLI. The install is offline, from
 * the npm cache that `npm ci` filled, at the versions of package-lock.json;
 * install scripts are skipped and better-sqlite3's native build is copied
 * from the repository's install (rebuilding it from source takes minutes).
 */
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { consumerLockfile } from './consumer-lockfile.ts';
import { INTERNALS, ROOT_VALUES, SUBPATH_VALUES } from './public-surface.ts';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const root = mkdtempSync(join(tmpdir(), 'walkaway-consumer-'));
const app = join(root, 'app');
let packed: string[] = [];

function run(cmd: string, args: string[], options: SpawnSyncOptions = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 300_000, ...options });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  return String(r.stdout);
}

before(() => {
  // `npm test` built dist/ before the tests, and other tests' processes run it now: build again only if a source is newer.
  const built = join(repo, 'dist', '.built');
  if (!existsSync(built) || run('find', ['src', '-newer', built, '-type', 'f'], { cwd: repo }).trim() !== '') run(npm, ['run', '--silent', 'build'], { cwd: repo });
  const [pack] = JSON.parse(run(npm, ['pack', '--json', '--ignore-scripts', '--pack-destination', root], { cwd: repo }));
  packed = pack.files.map((f: { path: string }) => f.path);
  mkdirSync(app);
  const overrides = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')).overrides;
  const { pkg, lock } = consumerLockfile(JSON.parse(readFileSync(join(repo, 'package-lock.json'), 'utf8')), `file:../${pack.filename}`, overrides);
  writeFileSync(join(app, 'package.json'), JSON.stringify(pkg, null, 2));
  writeFileSync(join(app, 'package-lock.json'), JSON.stringify(lock, null, 2));
  run(npm, ['ci', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: app });
  const sqlite = dirname(createRequire(join(repo, 'package.json')).resolve('better-sqlite3/package.json'));
  cpSync(join(sqlite, 'build', 'Release'), join(app, 'node_modules', 'better-sqlite3', 'build', 'Release'), { recursive: true });
});
after(() => rmSync(root, { recursive: true, force: true }));

test('the tarball holds the compiled package and nothing of the working tree', () => {
  for (const file of [
    'dist/index.js',
    'dist/index.d.ts',
    'dist/node/index.d.ts',
    'dist/cli/main.js',
    'dist/core/verify-worker.mjs',
    'bin/walkaway.js',
    'web/index.html',
    'web/chat.js',
    'web/chat.css',
  ]) {
    assert.ok(packed.includes(file), `${file} is packed`);
  }
  const stray = packed.filter((f) => /^(src|test|bench|sim|fuzz|scratch|node_modules)\//.test(f) || /identity\.key$|\.db(-wal|-shm)?$|\.ts$(?<!\.d\.ts)/.test(f));
  assert.deepEqual(stray, []);
});

test('plain Node imports the package and two nodes exchange a message', () => {
  writeFileSync(
    join(app, 'app.mjs'),
    `import { Node } from 'walkaway';
import { topicId } from 'walkaway/core';
import { MemoryStore } from 'walkaway/store';
const guard = setTimeout(() => { console.error('no message'); process.exit(1); }, 60_000);
const options = { storage: 'memory', mdns: false, listen: ['/ip4/127.0.0.1/tcp/0'] };
const a = await Node.create(options);
const b = await Node.create({ ...options, bootstrap: a.addresses });
const rx = b.stream('consumer').rx;
await a.stream('consumer').tx.publish(new TextEncoder().encode('hello from a'));
for await (const event of rx) {
  event.ack();
  if (event.author === a.id) { console.log(new TextDecoder().decode(event.body)); break; }
}
console.log(topicId('consumer').length, typeof MemoryStore.create);
await Promise.all([a.close(), b.close()]);
clearTimeout(guard);
`,
  );
  const out = run(process.execPath, ['app.mjs'], { cwd: app, timeout: 90_000 });
  assert.deepEqual(out.trim().split('\n'), ['hello from a', '32 function']);
});

test('the packed root exports the app surface, each subpath its layer, and no entry an internal', () => {
  writeFileSync(
    join(app, 'surface.mjs'),
    `const surface = { root: Object.keys(await import('walkaway')) };
for (const layer of ${JSON.stringify(Object.keys(SUBPATH_VALUES))}) surface[layer] = Object.keys(await import('walkaway/' + layer));
console.log(JSON.stringify(surface));
`,
  );
  const surface = JSON.parse(run(process.execPath, ['surface.mjs'], { cwd: app })) as Record<string, string[]>;
  assert.deepEqual(surface.root.sort(), [...ROOT_VALUES].sort());
  for (const [layer, names] of Object.entries(SUBPATH_VALUES)) {
    for (const name of names) assert.ok(surface[layer].includes(name), `walkaway/${layer} exports ${name}`);
    assert.deepEqual(
      INTERNALS[layer].filter((name) => surface[layer].includes(name)),
      [],
      `walkaway/${layer} keeps its internals`,
    );
  }
});

test('a TypeScript consumer on nodenext type-checks against the declarations', () => {
  writeFileSync(
    join(app, 'app.ts'),
    `import { Node, PrivateKey, WalkawayError, type ErrorCode, type Hash, type NodeOptions, type TopicEvent, type TopicStream } from 'walkaway';
import type { AppProcessor, OrderedOperation, LwwChange, Receiver } from 'walkaway';
import { topicId } from 'walkaway/core';
import { SqliteStore } from 'walkaway/store';
import type { SyncSession } from 'walkaway/sync';
import { LwwMap } from 'walkaway/processors';
import { HyParView } from 'walkaway/net';
import { decodeTicket } from 'walkaway/node';
// @ts-expect-error SplitMix32 is internal to the net layer
import { SplitMix32 } from 'walkaway/net';
// @ts-expect-error hashKey is internal to the processors layer
import { hashKey } from 'walkaway/processors';
// @ts-expect-error the root does not re-export the layers
import { HyParView as FromRoot } from 'walkaway';
const counter: AppProcessor<number> = { name: 'count', process: (input: OrderedOperation) => [input.lamport] };
const options: NodeOptions = { storage: 'memory', mdns: false };
export async function demo(): Promise<string> {
  const node: Node = await Node.create({ ...options, privateKey: PrivateKey.generate() });
  const { tx, rx }: TopicStream = node.stream('t', { processors: [counter] });
  const hash: Hash = await tx.publish(new Uint8Array([1]));
  const changes: LwwChange<string>[] = [];
  const events: Receiver<TopicEvent> = rx;
  for await (const event of events) { const e: TopicEvent = event; return e.author + hash.toHex() + changes.length + topicId('t').length; }
  const code: ErrorCode = 'MALFORMED';
  throw new WalkawayError(code, String([SqliteStore, LwwMap, HyParView, decodeTicket].length) + (null as SyncSession | null));
}
`,
  );
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true, skipLibCheck: false, types: ['node'] },
      files: ['app.ts'],
    }),
  );
  const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
  run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: app });
});

test('npx walkaway runs the compiled CLI', () => {
  const out = run(npm, ['exec', '--offline', '--', 'walkaway', '--help'], { cwd: app });
  assert.match(out, /^usage: walkaway <command>/);
  const chat = run(npm, ['exec', '--offline', '--', 'walkaway', 'chat', '--help'], { cwd: app });
  assert.match(chat, /walkaway chat/);
});
