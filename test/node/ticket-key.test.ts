import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encode } from 'cborg';
import { isWalkawayError, networkId, topicId } from '../../src/core/index.ts';
import { decodeTicket, encodeTicket } from '../../src/node/ticket.ts';

const base = { networkId: networkId(), topic: topicId('keyed'), addresses: ['/ip4/127.0.0.1/tcp/1/p2p/12D3KooWabc'] };
const raw = (value: unknown) => `walkaway:${Buffer.from(encode(value)).toString('base64url')}`;

test('a version 2 ticket carries a topic key; one without a key has none', () => {
  const key = new Uint8Array(32).fill(7);
  assert.deepEqual(decodeTicket(encodeTicket({ ...base, key })), { ...base, key });
  const plain = decodeTicket(encodeTicket(base));
  assert.deepEqual(plain, base);
  assert.equal('key' in plain, false);
});

test('a version 1 ticket still decodes', () => {
  assert.deepEqual(decodeTicket(raw([1, base.networkId, base.topic, base.addresses])), base);
});

test('bad keys and versions are typed errors', () => {
  assert.throws(() => encodeTicket({ ...base, key: new Uint8Array(31) }), (err) => isWalkawayError(err, 'INVALID_ARGUMENT'));
  for (const bad of [
    [2, base.networkId, base.topic, base.addresses, new Uint8Array(16)],
    [2, base.networkId, base.topic, base.addresses, 'key'],
    [2, base.networkId, base.topic, base.addresses],
    [1, base.networkId, base.topic, base.addresses, new Uint8Array(32)],
    [3, base.networkId, base.topic, base.addresses, null],
  ]) {
    assert.throws(() => decodeTicket(raw(bad)), (err) => isWalkawayError(err, 'MALFORMED'));
  }
});
