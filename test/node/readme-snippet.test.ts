/**
 * The README's shared-map snippet, exactly as written (only the package
 * import points at this checkout), run as its own process: two nodes on the
 * machine share a key-value map.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const root = join(import.meta.dirname, '..', '..');

function snippet(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const at = readme.indexOf('<!-- snippet: shared-map');
  assert.ok(at >= 0, 'the README marks the snippet');
  const match = /```ts\n([\s\S]*?)```/.exec(readme.slice(at));
  assert.ok(match, 'a ts code block follows the marker');
  return match[1];
}

test('the README snippet: two nodes share a key-value map in 15 lines or fewer', async () => {
  const code = snippet();
  assert.ok(code.trimEnd().split('\n').length <= 15, `the snippet has ${code.trimEnd().split('\n').length} lines`);
  assert.ok(code.includes("from 'walkaway'"));
  const file = join(root, 'test', 'node', `.readme-snippet-${process.pid}.ts`);
  writeFileSync(file, code.replace("from 'walkaway'", `from ${JSON.stringify(join(root, 'src', 'index.ts'))}`));
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', file], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    clearTimeout(timer);
    assert.equal(code, 0, `the snippet exits cleanly (stderr: ${err})`);
    assert.match(out, /^bob sees title = Walkaway$/m);
    assert.match(out, /^ann reads Walkaway, edited by bob$/m);
  } finally {
    rmSync(file, { force: true });
  }
});
