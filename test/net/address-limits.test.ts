import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { PrivateKey } from '../../src/core/index.ts';
import { ADDRESS_BOOK_LIMITS, AddressBook } from '../../src/net/address-book.ts';
import { acceptRemoteAddress, scopeOfConnection } from '../../src/net/transport/address-filter.ts';
import { DialGate } from '../../src/net/transport/dial-gate.ts';
import { peerIdOfPublicKey } from '../../src/net/transport/peer-ids.ts';

const seeded = (n: number) => {
  const seed = new Uint8Array(32).fill(7);
  new DataView(seed.buffer).setUint32(0, n);
  return PrivateKey.fromBytes(seed).publicKey.toHex();
};
const P = seeded(1);
const ID = peerIdOfPublicKey(P).toString();
const RELAY = peerIdOfPublicKey(seeded(2)).toString();

test('only listenable forms pass, the /p2p id must be the named peer, and the id is appended', () => {
  assert.equal(acceptRemoteAddress('/ip4/127.0.0.1/tcp/4001', ID, 'loopback'), `/ip4/127.0.0.1/tcp/4001/p2p/${ID}`);
  assert.ok(acceptRemoteAddress(`/ip4/8.8.8.8/tcp/4001/ws/p2p/${ID}`, ID, 'public'));
  assert.ok(acceptRemoteAddress('/dns4/example.org/tcp/443/wss', ID, 'public'));
  assert.ok(acceptRemoteAddress(`/ip4/8.8.8.8/tcp/4001/p2p/${RELAY}/p2p-circuit/p2p/${ID}`, ID, 'public'));
  for (const bad of [
    `/ip4/8.8.8.8/tcp/4001/p2p/${RELAY}`, // someone else's id
    '/ip4/8.8.8.8/udp/4001/quic-v1',
    '/ip4/8.8.8.8/tcp/25', // a mail server
    '/ip4/8.8.8.8/tcp/0',
    '/dnsaddr/example.org',
    '/unix/tmp/sock',
    `/ip4/8.8.8.8/tcp/1/p2p/${RELAY}/p2p-circuit/p2p/${RELAY}/p2p-circuit/p2p/${ID}`, // relay chains
    `/ip4/8.8.8.8/tcp/4001/p2p-circuit/p2p/${ID}`, // a relay without its id
    'not a multiaddr',
    `/ip4/8.8.8.8/tcp/4001/${'x'.repeat(300)}`,
  ]) {
    assert.equal(acceptRemoteAddress(bad, ID, 'public'), undefined, bad);
  }
});

test('loopback and private ranges only from peers connected in that scope; reserved ranges never', () => {
  assert.equal(acceptRemoteAddress('/ip4/127.0.0.1/tcp/4001', ID, 'public'), undefined);
  assert.equal(acceptRemoteAddress('/ip4/127.0.0.1/tcp/4001', ID, 'private'), undefined);
  assert.equal(acceptRemoteAddress('/ip4/10.0.0.1/tcp/4001', ID, 'loopback'), undefined);
  assert.equal(acceptRemoteAddress('/ip4/10.0.0.1/tcp/4001', ID, 'public'), undefined);
  assert.ok(acceptRemoteAddress('/ip4/10.0.0.1/tcp/4001', ID, 'private'));
  assert.ok(acceptRemoteAddress('/ip4/192.168.1.9/tcp/4001', ID, 'private'));
  assert.equal(acceptRemoteAddress('/ip6/fd00::1/tcp/4001', ID, 'public'), undefined);
  for (const scope of ['loopback', 'private', 'public'] as const) {
    for (const reserved of [
      '/ip4/192.0.2.7/tcp/4001',
      '/ip4/198.51.100.1/tcp/4001',
      '/ip4/203.0.113.5/tcp/4001',
      '/ip4/0.0.0.0/tcp/4001',
      '/ip4/224.0.0.1/tcp/4001',
      '/ip4/255.255.255.255/tcp/4001',
      '/ip4/169.254.1.1/tcp/4001',
      '/ip6/::/tcp/4001',
      '/ip6/fe80::1/tcp/4001',
      '/ip6/2001:db8::1/tcp/4001',
      '/ip6/::ffff:8.8.8.8/tcp/4001',
    ]) {
      assert.equal(acceptRemoteAddress(reserved, ID, scope), undefined, `${reserved} from ${scope}`);
    }
  }
  assert.equal(scopeOfConnection('/ip4/127.0.0.1/tcp/5/p2p/x'), 'loopback');
  assert.equal(scopeOfConnection('/ip4/10.1.2.3/tcp/5'), 'private');
  assert.equal(scopeOfConnection(`/ip4/127.0.0.1/tcp/5/p2p/${RELAY}/p2p-circuit`), 'public');
});

test('the dial gate spends one token per address, backs off per peer and per target, and refills at its rate', () => {
  const gate = new DialGate({ ratePerSecond: 1, burst: 4, backoffMs: 1000, maxAddressesPerDial: 2 });
  const addr = (port: number, peer = ID) => `/ip4/127.0.0.1/tcp/${port}/p2p/${peer}`;
  assert.deepEqual(gate.take('a', [addr(2001, 'A'), addr(2002, 'A'), addr(2003, 'A')], 0), [addr(2001, 'A'), addr(2002, 'A')]);
  assert.deepEqual(gate.take('a', [addr(2004, 'A')], 10), [], 'the peer backs off');
  assert.deepEqual(gate.take('b', [addr(2001, 'B')], 10), [], 'the target 127.0.0.1:2001 backs off, whoever names it');
  assert.deepEqual(gate.take('c', [addr(2005, 'C'), addr(2006, 'C')], 10), [addr(2005, 'C'), addr(2006, 'C')]);
  assert.deepEqual(gate.take('d', [addr(2007, 'D')], 20), [], 'the bucket is empty');
  assert.equal(gate.stats.noTokens, 1);
  assert.deepEqual(gate.take('d', [addr(2007, 'D')], 1100), [addr(2007, 'D')], 'one token refilled after a second');
  // 1000 fake peers asked within 10 s get at most burst + rate * 10 addresses.
  const many = new DialGate({ ratePerSecond: 2, burst: 6 });
  let granted = 0;
  for (let i = 0; i < 1000; i++) granted += many.take(`p${i}`, [addr(3000 + i, `P${i}`)], i * 10).length;
  assert.ok(granted <= 6 + 2 * 10, `granted ${granted}`);
  // A connection ends the back-off.
  gate.connected('a', addr(2001, 'A'));
  assert.equal(gate.take('a', [addr(2001, 'A')], 5000).length, 1);
});

test('the address book caps learned addresses per announcer, per peer and overall, expires them and never passes them on', () => {
  const book = new AddressBook();
  const announcers = Array.from({ length: 40 }, (_, i) => seeded(100 + i));
  book.configure(() => 'loopback');
  const frame = (base: number) =>
    Array.from({ length: 64 }, (_, i) => [seeded(base + i), Array.from({ length: 16 }, (_, j) => `/ip4/127.0.0.1/tcp/${10_000 + i * 16 + j}`)] as [string, string[]]);
  const first = book.learn(announcers[0], frame(1000), 0);
  assert.equal(first.kept, 64 * 8, 'the first 8 addresses of each peer were looked at');
  assert.ok(book.stats().learned <= ADDRESS_BOOK_LIMITS.maxLearnedPerAnnouncer, 'per announcer');
  assert.ok(book.dialable(seeded(1063), 0).length <= ADDRESS_BOOK_LIMITS.maxLearnedPerPeer, 'per peer');
  for (let a = 1; a < announcers.length; a++) book.learn(announcers[a], frame(2000 + a * 64), 0);
  assert.ok(book.stats().learned <= ADDRESS_BOOK_LIMITS.maxLearned, 'overall');
  assert.ok(book.stats().learnedBytes <= ADDRESS_BOOK_LIMITS.maxLearnedBytes, 'bytes');
  assert.deepEqual(book.get(seeded(2000 + 39 * 64 + 63)), [], 'learned addresses are not passed on');
  assert.ok(book.dialable(seeded(2000 + 39 * 64 + 63), 0).length > 0);
  assert.equal(book.dialable(seeded(2000 + 39 * 64 + 63), ADDRESS_BOOK_LIMITS.learnedTtlMs + 1).length, 0, 'expired');
  assert.equal(book.stats().learned, 0);
  // A peer we are not connected to teaches nothing; a loopback peer no LAN or reserved addresses.
  book.configure(() => undefined);
  assert.equal(book.learn(announcers[0], frame(5000), 0).kept, 0);
  book.configure(() => 'loopback');
  assert.equal(book.learn(announcers[0], [[P, ['/ip4/10.0.0.1/tcp/4001', '/ip4/192.0.2.1/tcp/4001']]], 0).kept, 0);
});

test('the saved address book stays under its size cap, and an oversized file is not read', () => {
  const dir = mkdtempSync(join(tmpdir(), 'walkaway-book-'));
  try {
    const file = join(dir, 'addresses.json');
    const book = new AddressBook(file);
    for (let i = 0; i < 2000; i++)
      book.add(
        seeded(i % 250).slice(0, 60) + String(i).padStart(4, '0'),
        Array.from({ length: 20 }, (_, j) => `/ip4/8.8.${i % 250}.${j}/tcp/4001/${'x'.repeat(200)}`.slice(0, 250)),
        i,
      );
    assert.ok(book.peers().length <= ADDRESS_BOOK_LIMITS.maxPeers);
    book.flush();
    assert.ok(statSync(file).size <= ADDRESS_BOOK_LIMITS.maxFileBytes, `${statSync(file).size} bytes`);
    assert.ok(JSON.parse(readFileSync(file, 'utf8')).peers.length > 0);
    writeFileSync(
      file,
      JSON.stringify({ version: 1, peers: [{ peer: P, addrs: ['/ip4/8.8.8.8/tcp/1'], lastSeen: Date.now(), pad: 'x'.repeat(ADDRESS_BOOK_LIMITS.maxFileBytes) }] }),
    );
    assert.equal(new AddressBook(file).peers().length, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
