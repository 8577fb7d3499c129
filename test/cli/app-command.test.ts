/**
 * `walkaway app` as a real process: every bad argument is one line on
 * stderr naming the problem and exit 2, never a stack trace.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { strToU8, zipSync } from 'fflate';
import { expectFailures, runCli } from '../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'walkaway-app-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('bad arguments: one line, exit 2', async () => {
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
  await expectFailures(cases.map(([args, message]) => [['app', ...args], 2, new RegExp(`^walkaway: .*${message.source}`)]));
  const help = await runCli(['app', '--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /usage: walkaway app <file\.xdc>/);
});
