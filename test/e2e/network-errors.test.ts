/**
 * The CLI's policy for uncaught errors (src/cli/network-errors.ts), in real
 * child processes: a socket error nobody listened to is logged as one line
 * and the process keeps running; an error of our own code ends it with 1.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { test } from 'node:test';

const policy = new URL('../../src/cli/network-errors.ts', import.meta.url).href;

function run(body: string): { status: number | null; stdout: string; stderr: string } {
  const script = `import { keepRunningOnNetworkErrors } from ${JSON.stringify(policy)};
keepRunningOnNetworkErrors((m) => console.log(JSON.stringify({ type: 'error', message: m })));
${body}`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('a socket error without a listener is logged as one JSON error line and the process keeps running', async () => {
  // A port that refuses: listen, note the port, close.
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  const r = run(`import { connect } from 'node:net';
connect(${port}, '127.0.0.1'); // no 'error' listener: ECONNREFUSED is thrown from the event loop
Promise.reject(Object.assign(new Error('reset by peer'), { code: 'ECONNRESET' }));
setTimeout(() => { console.log(JSON.stringify({ type: 'still-running' })); process.exit(0); }, 1500);`);
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(r.status, 0, r.stderr);
  assert.equal(lines.filter((l) => l.type === 'error').length, 2, r.stdout);
  assert.ok(lines.some((l) => l.type === 'error' && /ECONNREFUSED/.test(l.message)));
  assert.ok(lines.some((l) => l.type === 'error' && /reset by peer/.test(l.message)));
  assert.deepEqual(lines.at(-1), { type: 'still-running' });
});

test('an error of our own code is not swallowed: stack on stderr, exit 1', () => {
  const r = run(`setTimeout(() => { throw new TypeError('a bug of ours'); }, 10);
setTimeout(() => process.exit(0), 3000);`);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /internal error: TypeError: a bug of ours/);
});
