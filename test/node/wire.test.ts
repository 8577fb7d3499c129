import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { encode } from 'cborg';
import { isWalkawayError, PrivateKey, topicId, networkId } from '../../src/core/index.ts';
import { signEphemeral, verifyEphemeral } from '../../src/node/ephemeral.ts';
import { decodePayload, encodePayload } from '../../src/node/payload.ts';
import { decodeTicket, encodeTicket } from '../../src/node/ticket.ts';
import { decodeGossipFrame, encodeGossipFrame } from '../../src/net/gossip/wire.ts';

test('tickets round-trip and reject garbage with typed errors', () => {
  const ticket = { networkId: networkId(), topic: topicId('t'), addresses: ['/ip4/127.0.0.1/tcp/1/p2p/12D3KooWabc'] };
  const text = encodeTicket(ticket);
  assert.match(text, /^walkaway:[A-Za-z0-9_-]+$/);
  assert.deepEqual(decodeTicket(text), ticket);
  for (const bad of ['nope', 'walkaway:', 'walkaway:!!!', `walkaway:${'A'.repeat(9000)}`]) {
    assert.throws(
      () => decodeTicket(bad),
      (err) => isWalkawayError(err),
    );
  }
});

test("a private topic's ticket (version 2) carries its owner; a bad owner is refused", () => {
  const owner = PrivateKey.generate().publicKey.toHex();
  const ticket = { networkId: networkId(), topic: topicId('private'), addresses: ['/ip4/127.0.0.1/tcp/1'], owner };
  assert.deepEqual(decodeTicket(encodeTicket(ticket)), ticket);
  assert.equal(decodeTicket(encodeTicket({ ...ticket, owner: undefined })).owner, undefined, 'version 1 still has no owner');
  assert.throws(
    () => encodeTicket({ ...ticket, owner: 'nope' }),
    (err) => isWalkawayError(err) && err.code === 'INVALID_ARGUMENT',
  );
  const short = `walkaway:${Buffer.from(encode([2, networkId(), topicId('x'), [], new Uint8Array(31)])).toString('base64url')}`;
  assert.throws(
    () => decodeTicket(short),
    (err) => isWalkawayError(err) && err.code === 'MALFORMED',
  );
});

test('ephemeral messages verify, and a changed byte does not', () => {
  const key = PrivateKey.fromBytes(new Uint8Array(32).fill(5));
  const bytes = signEphemeral(key, new Uint8Array([1, 2, 3]), 1_700_000_000_000_000, 7);
  const message = verifyEphemeral(bytes);
  assert.ok(message.author.equals(key.publicKey));
  assert.equal(message.lamport, 7);
  const bad = new Uint8Array(bytes);
  bad[bad.length - 1] ^= 1;
  assert.throws(
    () => verifyEphemeral(bad),
    (err) => isWalkawayError(err, 'INVALID_SIGNATURE'),
  );
});

test('gossip payloads and frames round-trip', () => {
  const payload = { kind: 'operation' as const, headerBytes: new Uint8Array([1, 2]), body: new Uint8Array([3]) };
  assert.deepEqual(decodePayload(encodePayload(payload)), payload);
  const frame = { kind: 'overlay' as const, topic: topicId('x'), message: { type: 'prune' as const } };
  const decoded = decodeGossipFrame(encodeGossipFrame(frame));
  assert.equal(decoded.kind, 'overlay');
});

test('gossip payloads are encoded byte for byte as cborg encodes them, at every length class', () => {
  for (const n of [0, 1, 23, 24, 255, 256, 65_535, 65_536, 70_000]) {
    const bytes = new Uint8Array(n).map((_, i) => i * 7);
    const header = new Uint8Array((n % 300) + 1).fill(9);
    const cases: [Parameters<typeof encodePayload>[0], unknown[]][] = [
      [{ kind: 'operation', headerBytes: header, body: bytes }, [0, header, bytes]],
      [{ kind: 'operation', headerBytes: bytes }, [0, bytes, null]],
      [{ kind: 'ephemeral', bytes }, [1, bytes]],
    ];
    for (const [payload, value] of cases) {
      assert.deepEqual(encodePayload(payload), new Uint8Array(encode(value)), `length ${n}, ${payload.kind}`);
    }
  }
});

test('property: random bytes never crash the payload, ephemeral, frame or ticket decoders', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      for (const decode of [decodePayload, verifyEphemeral, decodeGossipFrame]) {
        try {
          decode(bytes);
        } catch (err) {
          assert.ok(isWalkawayError(err), `untyped error from ${decode.name}: ${String(err)}`);
        }
      }
      try {
        decodeTicket(`walkaway:${Buffer.from(bytes).toString('base64url')}`);
      } catch (err) {
        assert.ok(isWalkawayError(err), `untyped error from decodeTicket: ${String(err)}`);
      }
    }),
    { seed: 77, numRuns: 400 },
  );
});
