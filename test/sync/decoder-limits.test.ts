import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encode as cborEncode } from 'cborg';
import fc from 'fast-check';
import { decodeHeader, isWalkawayError, PrivateKey, topicId, networkId } from '../../src/core/index.ts';
import { decodeGossipFrame, encodeGossipFrame } from '../../src/net/gossip/wire.ts';
import { signEphemeral, verifyEphemeral } from '../../src/node/ephemeral.ts';
import { decodePayload } from '../../src/node/payload.ts';
import { decodeTicket, encodeTicket } from '../../src/node/ticket.ts';
import type { HaveEntry, SyncMessage } from '../../src/sync/index.ts';
import { decodeMessage, encodeMessage, MAX_HAVE_ENTRIES } from '../../src/sync/messages.ts';

/** Each decoder of remote input takes the largest honest message and refuses one item or level more, without building it. */

const budget = (unit: string) => (e: unknown) => isWalkawayError(e, 'TOO_LARGE') && e.data.unit === unit;
const emptyMaps = (n: number) => new Uint8Array([0x99, n >> 8, n & 0xff, ...new Uint8Array(n).fill(0xa0)]);

function have(n: number): Uint8Array {
  const seq = [0, 23, 24, 255, 256, 65535, 65536, 0xffff_ffff];
  const logs: HaveEntry[] = Array.from({ length: n }, (_, i) => ({
    author: new Uint8Array(32).fill(i & 0xff),
    logId: new Uint8Array(32).fill(7),
    seqNum: seq[i % seq.length],
  }));
  return encodeMessage({ type: 'have', logs, last: true });
}

test('sync: a full Have of MAX_HAVE_ENTRIES decodes; one entry more is TOO_LARGE; a frame of empty maps stops at the item budget', () => {
  const full = decodeMessage(have(MAX_HAVE_ENTRIES), { maxHaveEntries: 1_000_000 });
  assert.equal(full.type === 'have' && full.logs.length, MAX_HAVE_ENTRIES);
  assert.throws(
    () => decodeMessage(have(MAX_HAVE_ENTRIES + 1), { maxHaveEntries: 1_000_000 }),
    (e: unknown) => isWalkawayError(e, 'TOO_LARGE') && e.data.limit === MAX_HAVE_ENTRIES,
  );
  assert.throws(() => decodeMessage(emptyMaps(60_000), { maxHaveEntries: 1_000_000 }), budget('items'));
  assert.throws(() => decodeMessage(new Uint8Array(100).fill(0x81), { maxHaveEntries: 10 }), budget('depth'));
});

test('sync: Have lists read by hand accept exactly the canonical bytes; any changed byte is refused with a typed error or re-encodes identically', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 40 }), fc.nat(), fc.integer({ min: 0, max: 255 }), (n, at, value) => {
      const frame = have(n);
      const decoded = decodeMessage(frame, { maxHaveEntries: 100 });
      assert.deepEqual(encodeMessage(decoded), frame);
      const bent = new Uint8Array(frame);
      bent[at % bent.length] = value;
      let again: SyncMessage | undefined;
      try {
        again = decodeMessage(bent, { maxHaveEntries: 100 });
      } catch (e) {
        assert.ok(isWalkawayError(e), String(e));
        return;
      }
      assert.deepEqual(new Uint8Array(encodeMessage(again)), bent);
    }),
    { seed: 77, numRuns: 2000 },
  );
});

test('gossip: an ihave of 256 ids and an address frame of 64 peers x 16 addresses decode; a frame of 3000 items does not', () => {
  const ids = Array.from({ length: 256 }, (_, i) => `id-${i}`);
  const ihave = encodeGossipFrame({ kind: 'overlay', topic: topicId('g'), message: { type: 'ihave', ids, hops: ids.map(() => 1) } as never });
  assert.equal(decodeGossipFrame(ihave).kind, 'overlay');
  const peer = 'ab'.repeat(32);
  // The encoder keeps an address frame within what receivers decode.
  const peers: [string, string[]][] = Array.from({ length: 80 }, () => [peer, Array.from({ length: 30 }, (_, i) => `/ip4/10.0.0.${i}/tcp/1`)]);
  const addresses = decodeGossipFrame(encodeGossipFrame({ kind: 'addresses', peers }));
  assert.equal(addresses.kind === 'addresses' && addresses.peers.length, 64);
  assert.throws(() => decodeGossipFrame(new Uint8Array(cborEncode([0, topicId('g'), { type: 'ihave', ids: new Array(3000).fill('x') }]))), budget('items'));
  assert.throws(
    () => decodeGossipFrame(emptyMaps(60_000)),
    (e: unknown) => isWalkawayError(e, 'TOO_LARGE'),
  );
});

test('node payload, ephemeral message and ticket: flat, few items; anything more is TOO_LARGE', () => {
  assert.equal(decodePayload(new Uint8Array(cborEncode([0, new Uint8Array(10), null]))).kind, 'operation');
  assert.throws(() => decodePayload(new Uint8Array(cborEncode([0, [new Uint8Array(10)], null]))), budget('depth'));
  assert.throws(() => decodePayload(emptyMaps(1000)), budget('depth'));
  assert.throws(() => decodePayload(new Uint8Array(cborEncode(new Array(1000).fill(0)))), budget('items'));
  const key = PrivateKey.fromBytes(new Uint8Array(32).fill(5));
  assert.equal(verifyEphemeral(signEphemeral(key, new Uint8Array(100), 1, 2)).lamport, 2);
  assert.throws(() => verifyEphemeral(new Uint8Array(cborEncode(new Array(2000).fill(0)))), budget('items'));
  const ticket = { networkId: networkId(), topic: topicId('t'), addresses: Array.from({ length: 8 }, (_, i) => `/ip4/10.0.0.${i}/tcp/1`) };
  assert.deepEqual(decodeTicket(encodeTicket(ticket)), ticket);
  const nine = 'walkaway:' + Buffer.from(cborEncode([1, ticket.networkId, ticket.topic, [...ticket.addresses, 'x']])).toString('base64url');
  assert.throws(() => decodeTicket(nine), budget('items'));
});

test('header: an unknown extension variant carries at most the header budget of items', () => {
  const fields = (ext: unknown) => new Uint8Array(cborEncode([1, new Uint8Array(32).fill(1), new Uint8Array(64), 0, 0, ext]));
  assert.equal(decodeHeader(fields([1, 9, new Array(400).fill(0)])).extensions?.variant, 'unknown');
  assert.throws(() => decodeHeader(fields([1, 9, new Array(600).fill(0)])), budget('items'));
  assert.throws(() => decodeHeader(fields([1, 9, [[[[[[[[[]]]]]]]]]])), budget('depth'));
});
