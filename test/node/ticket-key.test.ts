import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encode } from 'cborg';
import { isWalkawayError, networkId, topicId } from '../../src/core/index.ts';
import { decodeTicket, encodeTicket } from '../../src/node/ticket.ts';

const base = { networkId: networkId(), topic: topicId('keyed'), addresses: ['/ip4/127.0.0.1/tcp/1/p2p/12D3KooWabc'] };
const raw = (value: unknown) => `walkaway:${Buffer.from(encode(value)).toString('base64url')}`;
const version = (text: string) => Buffer.from(text.slice('walkaway:'.length), 'base64url')[1];
const key = new Uint8Array(32).fill(7);
const owner = 'ab'.repeat(32);

test('a version 2 ticket carries a topic key, an owner, or both; one with neither is version 1', () => {
  for (const extra of [{ key }, { owner }, { owner, key }]) {
    const text = encodeTicket({ ...base, ...extra });
    assert.equal(version(text), 2);
    assert.deepEqual(decodeTicket(text), { ...base, ...extra });
  }
  const plain = encodeTicket(base);
  assert.equal(version(plain), 1, 'older builds still read a ticket in clear');
  assert.deepEqual(decodeTicket(plain), base);
  assert.equal('key' in decodeTicket(plain), false);
});

test('a version 1 ticket, and a version 2 one with an owner only, decode', () => {
  assert.deepEqual(decodeTicket(raw([1, base.networkId, base.topic, base.addresses])), base);
  assert.deepEqual(decodeTicket(raw([2, base.networkId, base.topic, base.addresses, Buffer.from(owner, 'hex')])), { ...base, owner });
  assert.deepEqual(decodeTicket(raw([2, base.networkId, base.topic, base.addresses, null, key])), { ...base, key });
});

test('bad keys, owners and versions are typed errors', () => {
  assert.throws(
    () => encodeTicket({ ...base, key: new Uint8Array(31) }),
    (err) => isWalkawayError(err, 'INVALID_ARGUMENT'),
  );
  assert.throws(
    () => encodeTicket({ ...base, owner: 'nope' }),
    (err) => isWalkawayError(err, 'INVALID_ARGUMENT'),
  );
  for (const bad of [
    [2, base.networkId, base.topic, base.addresses, null, new Uint8Array(16)],
    [2, base.networkId, base.topic, base.addresses, null, 'key'],
    [2, base.networkId, base.topic, base.addresses, null, null],
    [2, base.networkId, base.topic, base.addresses, new Uint8Array(3)],
    [2, base.networkId, base.topic, base.addresses],
    [1, base.networkId, base.topic, base.addresses, null],
    [3, base.networkId, base.topic, base.addresses, null],
  ]) {
    assert.throws(
      () => decodeTicket(raw(bad)),
      (err) => isWalkawayError(err, 'MALFORMED'),
    );
  }
});
