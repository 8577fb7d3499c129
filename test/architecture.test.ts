/**
 * The house rule that imports flow one way (docs/design.md, STYLE.md):
 * core < store < {sync, processors} < net < node < auth < encryption <
 * webxdc < cli. A file of a layer imports only from its own layer and the
 * layers below it; layers of one rank (sync and processors)
 * do not import each other. Only the package entry (src/index.ts) is
 * outside the order: the logger is core's (core/log.ts), the data directory
 * the node's (node/data-dir.ts). The linter (biome.jsonc,
 * `noRestrictedImports` per layer folder) holds the same order while code is
 * written; the last test here checks that it does.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, normalize, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SRC = join(ROOT, 'src');
const RANK: Record<string, number> = { core: 0, store: 1, sync: 2, processors: 2, net: 3, node: 4, auth: 5, encryption: 6, webxdc: 7, cli: 8 };

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : /\.(ts|mjs)$/.test(e.name) ? [join(dir, e.name)] : []));
}

/** The layer folder of a path under src/, or the file name for files directly in src/. */
function layerOf(path: string): string {
  return relative(SRC, path).split('/')[0];
}

test('imports flow downward: a layer imports only itself and the layers below it', () => {
  const wrong: string[] = [];
  let checked = 0;
  for (const file of files(SRC)) {
    const from = layerOf(file);
    for (const m of readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
      checked++;
      const to = layerOf(normalize(join(dirname(file), m[1])));
      if (to === from) continue;
      const fromRank = RANK[from];
      const toRank = RANK[to];
      if (fromRank === undefined) continue; // src/index.ts and friends may import any layer
      if (toRank === undefined) {
        wrong.push(`${relative(SRC, file)} -> ${m[1]} (outside every layer)`);
        continue;
      }
      if (toRank >= fromRank) wrong.push(`${relative(SRC, file)} -> ${m[1]}`);
    }
  }
  assert.ok(checked > 100, `the check saw the imports (${checked})`);
  assert.deepEqual(wrong, [], 'imports against the layer order');
});

test('every file of src/ but the package entry belongs to a layer', () => {
  const loose = readdirSync(SRC, { withFileTypes: true }).filter((e) => !e.isDirectory() && e.name !== 'index.ts');
  assert.deepEqual(
    loose.map((e) => e.name),
    [],
  );
  const folders = readdirSync(SRC, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name);
  assert.deepEqual(
    folders.filter((f) => RANK[f] === undefined),
    [],
    'every folder of src/ has a rank',
  );
});

test('auth is a pure layer: it imports only core (and processors’ types), never IO', () => {
  const wrong: string[] = [];
  // auth/on-node/ is the driver that puts the pure layer on a node (private topics): it may use the node.
  for (const file of files(join(SRC, 'auth')).filter((f) => !f.includes(`${join('auth', 'on-node')}/`))) {
    for (const m of readFileSync(file, 'utf8').matchAll(/^import\s+(type\s+)?[^;]*?from\s+'([^']+)'/gms)) {
      const spec = m[2];
      if (spec.startsWith('./') || spec === 'cborg') continue;
      const to = spec.startsWith('.') ? layerOf(normalize(join(dirname(file), spec))) : spec;
      if (to === 'core' || (to === 'processors' && m[1])) continue;
      wrong.push(`${relative(SRC, file)} -> ${spec}`);
    }
  }
  assert.deepEqual(wrong, []);
});

/** Runs the repository's Biome on `cwd` and returns the paths it flags for an import across layers. */
function boundaryFindings(cwd: string, ...args: string[]): { status: number | null; paths: string[] } {
  const biome = join(ROOT, 'node_modules', '@biomejs', 'biome', 'bin', 'biome');
  const r = spawnSync(process.execPath, [biome, 'lint', '--reporter=json', '--max-diagnostics=none', ...args], { cwd, encoding: 'utf8' });
  assert.ok(r.stdout.trim().startsWith('{'), `biome answered in JSON:\n${r.stdout}\n${r.stderr}`);
  const { diagnostics } = JSON.parse(r.stdout) as { diagnostics: { category?: string; location?: { path?: string } }[] };
  const paths = diagnostics.filter((d) => d.category === 'lint/style/noRestrictedImports').map((d) => String(d.location?.path));
  return { status: r.status, paths: paths.sort() };
}

test('the linter rejects every import against the layer order and accepts every other', () => {
  // A scratch tree with biome.jsonc and, for each pair of layers, a file of one importing the other
  // (directly in the layer folder and one folder deeper), plus an import of the node's data directory.
  const dir = mkdtempSync(join(tmpdir(), 'walkaway-layers-'));
  try {
    copyFileSync(join(ROOT, 'biome.jsonc'), join(dir, 'biome.jsonc'));
    const expected: string[] = [];
    const probe = (path: string, specifier: string, wrong: boolean) => {
      mkdirSync(join(dir, dirname(path)), { recursive: true });
      writeFileSync(join(dir, path), `export * from '${specifier}';\n`);
      if (wrong) expected.push(path);
    };
    for (const from of Object.keys(RANK)) {
      for (const to of Object.keys(RANK)) {
        if (to === from) continue;
        const wrong = RANK[to] >= RANK[from];
        probe(`src/${from}/to-${to}.ts`, `../${to}/index.ts`, wrong);
        probe(`src/${from}/deeper/to-${to}.ts`, `../../${to}/deeper/thing.ts`, wrong);
      }
      probe(`src/${from}/to-own.ts`, `./deeper/to-${from === 'core' ? 'store' : 'core'}.ts`, false);
      probe(`src/${from}/to-node-data-dir.ts`, '../node/data-dir.ts', RANK[from] < RANK.node);
    }
    const { status, paths } = boundaryFindings(dir, '--vcs-enabled=false');
    assert.deepEqual(paths, expected.sort());
    assert.ok(expected.length > 40, `the probes include wrong imports (${expected.length})`);
    assert.notEqual(status, 0, 'biome lint fails on a wrong import');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the linter finds no import against the layer order in src/', () => {
  const { paths } = boundaryFindings(ROOT, '--only=style/noRestrictedImports', 'src');
  assert.deepEqual(paths, []);
});
