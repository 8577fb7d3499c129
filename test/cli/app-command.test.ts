/**
 * `walkaway app` as a real process: every bad argument is one line on
 * stderr naming the problem and exit 2, never a stack trace.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { strToU8, zipSync } from 'fflate';

const BIN = new URL('../../bin/walkaway.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'walkaway-app-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, 'app', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stderr: r.stderr.trim() };
}

test('bad arguments: one line, exit 2', () => {
  const noIndex = join(dir, 'no-index.xdc');
  writeFileSync(noIndex, zipSync({ 'app.html': strToU8('x') }));
  const notZip = join(dir, 'not-a-zip.xdc');
  writeFileSync(notZip, 'hello');
  const traversal = join(dir, 'evil.xdc');
  writeFileSync(traversal, zipSync({ 'index.html': strToU8('x'), '../../evil': strToU8('x') }));
  const good = join(dir, 'good.xdc');
  writeFileSync(good, zipSync({ 'index.html': strToU8('x') }));
  const cases: [string[], RegExp][] = [
    [[], /needs an \.xdc file/],
    [[join(dir, 'missing.xdc')], /no such file/],
    [[noIndex], /not a webxdc app: .*no index\.html/],
    [[notZip], /not a webxdc app: .*not a zip file/],
    [[traversal], /not a webxdc app: .*"\.\." segments/],
    [[good, '--web', '70000'], /--web must be a port number/],
    [[good, '--port', 'x'], /--port must be a port number/],
    [[good, '--bootstrap', 'nonsense'], /--bootstrap "nonsense" is not a multiaddr/],
    [[good, '--frobnicate'], /unknown flag --frobnicate/],
    [[good, 'topic', 'extra'], /unexpected argument "extra"/],
    [[good, '--name', ''], /--name must be a non-empty string/],
  ];
  for (const [args, message] of cases) {
    const r = run(...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^walkaway: /);
    assert.match(r.stderr, message);
  }
  const help = spawnSync(process.execPath, [BIN, 'app', '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /usage: walkaway app <file\.xdc>/);
});
