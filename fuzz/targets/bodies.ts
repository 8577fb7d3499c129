/** Bodies: the chat's message JSON and the node's gossip payload (an operation or an ephemeral message). */
import { decodeOperation } from '../../src/core/index.ts';
import { decodeChat, encodeChat } from '../../src/cli/chat-message.ts';
import { signEphemeral, verifyEphemeral } from '../../src/node/ephemeral.ts';
import { decodePayload, encodePayload } from '../../src/node/payload.ts';
import { SIGNATURE_BUDGET_US_PER_KIB, utf8Bytes, type Target } from '../target.ts';
import { seededKey, seededOperations } from './fixtures.ts';

export const chatBody: Target = {
  name: 'chat-body',
  format: 'text',
  about: 'decodeChat: documented to return undefined on anything unexpected, never throw',
  seeds: (rng) => [
    encodeChat({ type: 'message', name: 'daphne', text: 'hello' }),
    encodeChat({ type: 'message', name: 'x'.repeat(100), text: 'ünïcödé ✓ \u0000 "quoted"' }),
    encodeChat({ type: 'presence', name: 'bobby' }),
    utf8Bytes('{"type":"message","text":"no name"}'),
    utf8Bytes('{"type":"message","name":{"a":[1,2,{"b":null}]},"text":"' + 'a'.repeat(rng.below(3000)) + '"}'),
    utf8Bytes('[[[[[[[[[[1]]]]]]]]]]'),
    utf8Bytes('{"__proto__":{"type":"message"},"constructor":1}'),
  ],
  expected: () => false,
  dictionary: [
    '{',
    '}',
    '[',
    ']',
    '"',
    ':',
    ',',
    'null',
    'true',
    '"type"',
    '"message"',
    '"presence"',
    '"name"',
    '"text"',
    '\\u0000',
    '\\ud800',
    '1e999',
    '-0',
    '[[[[[[[[',
    '"__proto__"',
  ].map(utf8Bytes),
  run: (input) => decodeChat(input),
};

export const payload: Target = {
  name: 'payload',
  format: 'cbor',
  about: 'decodePayload, then decodeOperation(header, body) or verifyEphemeral, as the node does',
  budgetUsPerKiB: SIGNATURE_BUDGET_US_PER_KIB,
  seeds: (rng) => {
    const out = seededOperations(rng).map((op) => encodePayload({ kind: 'operation', headerBytes: op.headerBytes, body: op.body }));
    const key = seededKey(rng);
    for (let i = 0; i < 6; i++) {
      const eph = signEphemeral(key, rng.bytes(rng.below(100)), rng.u32() * 1000, i);
      out.push(encodePayload({ kind: 'ephemeral', bytes: eph }));
    }
    return out;
  },
  run: (input) => {
    const p = decodePayload(input);
    return p.kind === 'operation' ? decodeOperation(p.headerBytes, p.body) : verifyEphemeral(p.bytes);
  },
};
