/**
 * Every bad input and every runtime failure of the real `walkaway` command
 * (node bin/walkaway.js) is one line on stderr, no stack trace, and the exit
 * code documented in `walkaway --help` (2 usage, 4 cannot listen).
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, test } from 'node:test';
import { tempDirs } from '../helpers/chat-process.ts';
import { expectFailures, runCli as run } from '../helpers/cli.ts';

const { dirs, cleanup } = tempDirs(3);
after(cleanup);

const chat = (...extra: string[]) => ['chat', 'cli-errors', '--no-mdns', '--data', dirs[0], ...extra];

test('bad flags of every command: one line naming the flag, exit 2', async () => {
  await expectFailures([
    [chat('--bootstrap', 'notamultiaddr'), 2, /^walkaway: --bootstrap "notamultiaddr" is not a multiaddr/],
    [chat('--bootstrap', '/ip4/10.0.0.1/udp/4077'), 2, /--bootstrap .* has no transport this node supports/],
    [chat('--listen', '/ip4/1.2.3.4/tcp/99999'), 2, /--listen .* is not a multiaddr/],
    [chat('--listen', '/dns4/example.com/tcp/1'), 2, /--listen .* listen addresses start with \/ip4 or \/ip6/],
    [chat('--listen', '/ip4/127.0.0.1/tcp/0', '--port', '5'), 2, /--listen and --port exclude each other/],
    [chat('--port', '65536'), 2, /--port must be a port number from 0 to 65535/],
    [chat('--port', '1.5'), 2, /--port must be a port number/],
    [chat('--port'), 2, /--port needs a value; see "walkaway chat --help"/],
    [chat('--port', '-1'), 2, /--port needs a value/],
    [chat('extra'), 2, /unexpected argument "extra"; see "walkaway chat --help"/],
    [chat('--json=yes'), 2, /--json takes no value/],
    [chat('--name', 'n'.repeat(65)), 2, /--name must be a non-empty string of at most 64 characters/],
    [chat('--network', 'x'.repeat(300)), 2, /--network must be/],
    [chat('--bogus'), 2, /unknown flag --bogus; see "walkaway chat --help"/],
    [['chat'], 2, /chat needs a topic or a ticket/],
    [['id', '--bogus'], 2, /^walkaway: unknown flag --bogus; see "walkaway id --help"$/],
    [['id', 'extra'], 2, /unexpected argument "extra"; see "walkaway id --help"/],
    [['ticket'], 2, /ticket needs a topic/],
    [['ticket', 't', '--port', 'x'], 2, /--port must be a port number/],
    [['ticket', 't', '--bogus'], 2, /unknown flag --bogus; see "walkaway ticket --help"/],
    [['relay', '--port', '70000'], 2, /--port must be a port number/],
    [['relay', '--bogus'], 2, /unknown flag --bogus; see "walkaway relay --help"/],
    [['sim', '--bogus'], 2, /unknown argument --bogus; see "walkaway sim --help"/],
    [['sim', 'stable', '--nodes', 'x'], 2, /bad value for --nodes/],
    [['bench', 'nosuch'], 2, /unknown benchmark "nosuch"/],
    [['bench', '--bogus'], 2, /unknown flag --bogus; see "walkaway bench --help"/],
    [['nonsense'], 2, /^walkaway: unknown command "nonsense"; see "walkaway --help"$/],
  ]);
});

test('an address this machine cannot listen on: one line, exit 4', async () => {
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const { port } = taken.address() as { port: number };
  try {
    await expectFailures([
      [
        ['chat', 'cli-errors', '--no-mdns', '--data', dirs[1], '--listen', '/ip4/1.2.3.4/tcp/1'],
        4,
        /^walkaway: cannot listen on \/ip4\/1\.2\.3\.4\/tcp\/1: the address is not one of this machine$/,
      ],
      [['chat', 'cli-errors', '--no-mdns', '--data', dirs[2], '--port', String(port)], 4, /cannot listen on .*: the address is in use/],
      [['relay', '--port', String(port)], 4, /cannot listen on .*: the address is in use/],
    ]);
  } finally {
    taken.close();
  }
});

test('walkaway --help lists the exit codes; sim and bench say how they are invoked', async () => {
  const help = await run(['--help']);
  assert.equal(help.status, 0);
  for (const code of ['0  done', '1  unexpected', '2  bad usage', '3  the data directory is in use', '4  cannot listen']) assert.ok(help.stdout.includes(code), code);
  const sim = await run(['sim', '--help']);
  assert.match(sim.stdout, /^usage: walkaway sim /);
  assert.match(sim.stdout, /npm run sim -- /);
  const bench = await run(['bench', '--help']);
  assert.match(bench.stdout, /^usage: walkaway bench /);
  assert.match(bench.stdout, /npm run bench -- /);
});
