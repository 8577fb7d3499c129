import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encode } from 'cborg';
import { isWalkawayError } from '../../src/core/index.ts';
import { MAX_AUTH_DEPS, MAX_CREATE_GRANTS, decodeAuthBody, encodeAuthBody, type AuthBody } from '../../src/auth/index.ts';
import { AUTH_BODY_LIMITS } from '../../src/auth/codec.ts';
import { key } from './helpers.ts';

const G = key('group');
const bodies: AuthBody[] = [
  {
    deps: [],
    action: {
      type: 'create',
      members: [
        { member: { kind: 'individual', id: key('A') }, access: { level: 3 } },
        { member: { kind: 'group', id: key('P') }, access: { level: 1, expires: 1_700_000_000_000_000 } },
      ],
    },
  },
  { deps: [key('d1'), key('d2')], action: { type: 'add', group: G, member: { kind: 'individual', id: key('B') }, access: { level: 2 } } },
  { deps: [key('d1')], action: { type: 'remove', group: G, member: { kind: 'group', id: key('P') } } },
  { deps: [key('d1')], action: { type: 'promote', group: G, member: { kind: 'individual', id: key('B') }, access: { level: 3, expires: 5 } } },
  { deps: [key('d1')], action: { type: 'demote', group: G, member: { kind: 'individual', id: key('B') }, access: { level: 0 } } },
];

test('every action survives encode and decode unchanged', () => {
  for (const body of bodies) assert.deepEqual(decodeAuthBody(encodeAuthBody(body)), body);
});

test('the largest honest body fits the decoder limits', () => {
  const members = Array.from({ length: MAX_CREATE_GRANTS }, (_, i) => ({
    member: { kind: 'individual' as const, id: key(`m${i}`) },
    access: { level: 2, expires: Number.MAX_SAFE_INTEGER },
  }));
  const deps = Array.from({ length: MAX_AUTH_DEPS }, (_, i) => key(`d${i}`));
  const bytes = encodeAuthBody({ deps, action: { type: 'create', members } });
  assert.ok(bytes.length <= AUTH_BODY_LIMITS.maxBytes!, `${bytes.length} bytes`);
  assert.equal(decodeAuthBody(bytes).deps.length, MAX_AUTH_DEPS);
});

test('hostile bodies fail with typed errors', () => {
  const g = Uint8Array.from(Buffer.from(G, 'hex'));
  const cases: [string, Uint8Array, string][] = [
    ['another version', encode([2, [], [2, g, 0, g]]), 'UNSUPPORTED_VERSION'],
    ['not an array', encode({ a: 1 }), 'MALFORMED'],
    ['unknown tag', encode([1, [], [9, g, 0, g]]), 'MALFORMED'],
    ['a string tag', encode([1, [], ['length', g, 0, g]]), 'MALFORMED'],
    ['short group id', encode([1, [], [2, g.subarray(1), 0, g]]), 'MALFORMED'],
    ['level 4', encode([1, [], [1, g, 0, g, 4, null]]), 'MALFORMED'],
    ['negative expiry', encode([1, [], [1, g, 0, g, 1, -1]]), 'MALFORMED'],
    ['a float level', encode([1, [], [1, g, 0, g, 1.5, null]]), 'MALFORMED'],
    ['member kind 2', encode([1, [], [2, g, 2, g]]), 'MALFORMED'],
    ['repeated dependency', encode([1, [g, g], [2, g, 0, g]]), 'MALFORMED'],
    ['33 dependencies', encode([1, Array.from({ length: 33 }, () => g), [2, g, 0, g]]), 'TOO_LARGE'],
    ['truncated', encodeAuthBody(bodies[1]).subarray(0, 20), 'MALFORMED'],
    ['deep nesting', new Uint8Array([...Array(40).fill(0x81), 0x00]), 'TOO_LARGE'],
    ['huge claimed array', new Uint8Array([0x9b, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]), 'MALFORMED'],
    ['trailing bytes', new Uint8Array([...encodeAuthBody(bodies[2]), 0]), 'MALFORMED'],
  ];
  for (const [what, bytes, code] of cases) {
    assert.throws(
      () => decodeAuthBody(bytes),
      (err) => isWalkawayError(err) && err.code === code,
      what,
    );
  }
});

test('the encoder refuses what decoders would refuse', () => {
  const deps = Array.from({ length: MAX_AUTH_DEPS + 1 }, (_, i) => key(`d${i}`));
  assert.throws(
    () => encodeAuthBody({ ...bodies[2], deps }),
    (err) => isWalkawayError(err, 'TOO_LARGE'),
  );
});
