/**
 * The chat's relay flags: bad values are one line and exit 2 (real
 * processes); serving as a relay is on by default only with a public address.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hasPublicAddress } from '../../src/cli/relay-flags.ts';
import { ChatProcess, tempDirs } from '../helpers/chat-process.ts';
import { expectFailures } from '../helpers/cli.ts';

test('chat relay flags: a relay without its peer id, a circuit, both --relay and --no-relay: exit 2, one line', async () => {
  const cases: [string[], RegExp][] = [
    [['--use-relay', '/ip4/10.1.2.3/tcp/4078'], /--use-relay "\/ip4\/10.1.2.3\/tcp\/4078" must end in \/p2p\/<relay peer id>/],
    [['--use-relay', 'nonsense'], /--use-relay "nonsense" is not a multiaddr/],
    [['--use-relay', '/ip4/10.1.2.3/tcp/4078/p2p/12D3KooWAbc/p2p-circuit'], /must end in \/p2p\/<relay peer id>/],
    [['--relay', '--no-relay'], /--relay and --no-relay exclude each other/],
    [['--use-relay'], /--use-relay needs a value/],
  ];
  await expectFailures(cases.map(([flags, says]) => [['chat', 'relay-flags', '--no-mdns', ...flags], 2, says]));
});

test('relay by default: only where an interface has a public address', () => {
  const nic = (address: string, family = 'IPv4', internal = false) => ({ address, family, internal }) as any;
  assert.equal(hasPublicAddress({ lo: [nic('127.0.0.1', 'IPv4', true)], eth0: [nic('192.168.1.7'), nic('fe80::1', 'IPv6')] }), false);
  assert.equal(hasPublicAddress({ eth0: [nic('10.0.0.2')], wg0: [nic('100.64.0.9')] }), false);
  assert.equal(hasPublicAddress({ eth0: [nic('203.0.113.5')] }), false, 'documentation ranges are not public');
  assert.equal(hasPublicAddress({ eth0: [nic('192.168.1.7'), nic('2a01:4f8::1', 'IPv6')] }), true);
  assert.equal(hasPublicAddress({ eth0: [nic('93.184.216.34')] }), true);
});

test('chat --hole-punch: two chats that dial from one port each still talk both ways', async () => {
  const { dirs, cleanup } = tempDirs(2);
  const a = await ChatProcess.chat('hole-punch-flag', dirs[0], ['--hole-punch']);
  try {
    const b = await ChatProcess.chat('hole-punch-flag', dirs[1], ['--hole-punch', '--bootstrap', a.address]);
    try {
      a.send('from a');
      b.send('from b');
      await a.waitForTexts(['from a', 'from b']);
      await b.waitForTexts(['from a', 'from b']);
    } finally {
      await b.kill();
    }
  } finally {
    await a.kill();
    cleanup();
  }
});
