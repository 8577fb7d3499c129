/**
 * The house rule that imports flow one way (docs/design.md, STYLE.md):
 * core <- store <- {sync, processors} <- net <- node <- cli. A file of a
 * layer imports only from its own layer and the layers below it; sync and
 * processors do not import each other. Files directly in src/ (the package
 * entry, the logger, the data directory) are outside the order, but nothing
 * below the node imports the data directory.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');
const RANK: Record<string, number> = { core: 0, store: 1, sync: 2, processors: 2, net: 3, node: 4, webxdc: 5, cli: 6 };

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : /\.(ts|mjs)$/.test(e.name) ? [join(dir, e.name)] : [],
  );
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
        if (to === 'data-dir.ts' && fromRank < RANK.node) wrong.push(`${relative(SRC, file)} -> ${m[1]}`);
        continue;
      }
      if (toRank >= fromRank) wrong.push(`${relative(SRC, file)} -> ${m[1]}`);
    }
  }
  assert.ok(checked > 100, `the check saw the imports (${checked})`);
  assert.deepEqual(wrong, [], 'imports against the layer order');
});
