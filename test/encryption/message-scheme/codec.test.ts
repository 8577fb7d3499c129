/**
 * Hostile input to the message scheme: control messages and sealed bodies
 * of the wrong shape, size or version are typed errors (decoding bounded
 * before anything is tried), and the message ratchet's bounds hold (at most
 * MAX_SKIP generations ahead, MAX_OUT_OF_ORDER kept keys, no key twice).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encode } from 'cborg';
import { isWalkawayError } from '../../../src/core/index.ts';
import { decodeSchemeMessage, encodeSchemeMessage, MAX_MEMBERS, MAX_OUT_OF_ORDER, MAX_SKIP } from '../../../src/encryption/message-scheme/index.ts';
import { newReceiveChain, newSendChain, openAt, sealNext } from '../../../src/encryption/message-scheme/ratchet.ts';
import { decodeSealedMessage } from '../../../src/encryption/message-scheme/sealed.ts';

const id = new Uint8Array(32).fill(7);
const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    assert.ok(isWalkawayError(err), `a typed error, got ${String(err)}`);
    return err.code;
  }
  return 'ok';
};

test('message-scheme control messages round-trip, and every malformed one is a typed error', () => {
  const ack = { type: 'ack' as const, seq: 3, ackSender: id, ackSeq: 2, directs: [{ recipient: id, message: new Uint8Array(40) }] };
  assert.deepEqual(decodeSchemeMessage(encodeSchemeMessage(ack)), ack);
  const add = { type: 'add' as const, seq: 1, member: id, directs: [] };
  assert.deepEqual(decodeSchemeMessage(encodeSchemeMessage(add)), add);
  const bad: [string, unknown][] = [
    ['version', [2, 'update', 1, null, null, null, []]],
    ['type', [1, 'welcome', 1, null, null, null, []]],
    ['seq 0', [1, 'update', 0, null, null, null, []]],
    ['negative seq', [1, 'update', -1, null, null, null, []]],
    ['short id', [1, 'remove', 1, new Uint8Array(31), null, null, []]],
    ['extra field', [1, 'update', 1, id, null, null, []]],
    ['too many recipients', [1, 'update', 1, null, null, null, Array.from({ length: MAX_MEMBERS + 1 }, () => [id, new Uint8Array(1)])]],
    ['no members', [1, 'create', 1, null, null, [], []]],
    ['not an array', { a: 1 }],
  ];
  for (const [what, value] of bad) {
    const c = code(() => decodeSchemeMessage(new Uint8Array(encode(value))));
    assert.ok(c === 'MALFORMED' || c === 'UNSUPPORTED_VERSION' || c === 'TOO_LARGE', `${what}: ${c}`);
  }
  assert.equal(
    code(() => decodeSchemeMessage(new Uint8Array([0x9f]))),
    'MALFORMED',
  );
  assert.equal(
    code(() => decodeSealedMessage(new Uint8Array(20))),
    'MALFORMED',
  );
});

test('message ratchet: one key per message, bounded skips and out-of-order window, nothing opens twice', () => {
  const secret = new Uint8Array(32).fill(1);
  const send = newSendChain(secret);
  const receive = newReceiveChain(secret);
  const aad = new Uint8Array(3);
  const bodies = Array.from({ length: MAX_OUT_OF_ORDER + 3 }, (_, i) => {
    const out = new Uint8Array(1 + 16);
    const g = sealNext(send, new Uint8Array([i]), aad, out);
    assert.equal(g, i);
    return out;
  });
  const last = bodies.length - 1;
  assert.deepEqual(openAt(receive, last, bodies[last], aad), new Uint8Array([last]));
  assert.equal(receive.skipped.size, MAX_OUT_OF_ORDER);
  // The oldest skipped keys were dropped; the newest are kept, once each.
  assert.equal(
    code(() => openAt(receive, 0, bodies[0], aad)),
    'MISSING_KEY',
  );
  assert.deepEqual(openAt(receive, last - 1, bodies[last - 1], aad), new Uint8Array([last - 1]));
  assert.equal(
    code(() => openAt(receive, last - 1, bodies[last - 1], aad)),
    'MISSING_KEY',
  );
  assert.equal(
    code(() => openAt(receive, last, bodies[last], aad)),
    'MISSING_KEY',
  );
  // A changed body or another associated data fails, and leaves the chain where it was.
  const before = receive.generation;
  const tampered = bodies[last - 2].slice();
  tampered[0] ^= 1;
  assert.equal(
    code(() => openAt(receive, last - 2, tampered, aad)),
    'DECRYPTION_FAILED',
  );
  assert.equal(
    code(() => openAt(receive, last + 1, new Uint8Array(17), aad)),
    'DECRYPTION_FAILED',
  );
  assert.equal(receive.generation, before);
  // Too far ahead: refused before any work.
  assert.equal(
    code(() => openAt(receive, receive.generation + MAX_SKIP + 1, new Uint8Array(17), aad)),
    'MISSING_KEY',
  );
});

test('a version-3 ticket names a private topic under the message scheme; a malformed one is refused', async () => {
  const { decodeTicket, encodeTicket } = await import('../../../src/node/ticket.ts');
  const base = { networkId: new Uint8Array(32).fill(1), topic: new Uint8Array(32).fill(2), addresses: ['/ip4/127.0.0.1/tcp/1'] };
  const owner = 'ab'.repeat(32);
  const text = encodeTicket({ ...base, owner, scheme: 'message' });
  assert.deepEqual(decodeTicket(text), { ...base, owner, scheme: 'message' });
  assert.equal(decodeTicket(encodeTicket({ ...base, owner })).scheme, undefined, 'version 2 stays as it was');
  assert.throws(() => encodeTicket({ ...base, scheme: 'message' }), /INVALID_ARGUMENT/);
  const forged = `walkaway:${Buffer.from(encode([3, base.networkId, base.topic, base.addresses, new Uint8Array(32), 'data'])).toString('base64url')}`;
  assert.equal(
    code(() => decodeTicket(forged)),
    'MALFORMED',
  );
});
