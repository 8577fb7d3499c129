/** src/node: ephemeral messages and tickets. */
import { networkId, topicId } from '../../src/core/index.ts';
import { signEphemeral, verifyEphemeral } from '../../src/node/ephemeral.ts';
import { decodeTicket, encodeTicket } from '../../src/node/ticket.ts';
import { SIGNATURE_BUDGET_US_PER_KIB, utf8Bytes, type Target } from '../target.ts';
import { seededKey } from './fixtures.ts';

export const ephemeral: Target = {
  name: 'ephemeral',
  format: 'cbor',
  about: 'verifyEphemeral: size, shape, signature',
  budgetUsPerKiB: SIGNATURE_BUDGET_US_PER_KIB,
  seeds: (rng) => {
    const key = seededKey(rng);
    return Array.from({ length: 12 }, (_, i) =>
      signEphemeral(key, rng.bytes(rng.oneIn(4) ? 1000 + rng.below(4000) : rng.below(64)), rng.pick([0, 1, 2 ** 53 - 1, rng.u32()]), i * 1000),
    );
  },
  run: (input) => verifyEphemeral(input),
};

const PREFIX = utf8Bytes('walkaway:');
const latin1 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');

/**
 * Input: the ticket's CBOR (base64url-encoded here, so CBOR mutations reach
 * the decoder), or, when it starts with "walkaway:", the ticket text itself.
 */
export const ticket: Target = {
  name: 'ticket',
  format: 'cbor',
  about: 'decodeTicket of "walkaway:" + base64url(input), or of the input as text',
  seeds: (rng) => {
    const tickets = Array.from({ length: 6 }, (_, i) =>
      encodeTicket({
        networkId: networkId(`net-${i}`),
        topic: topicId(`topic-${i}`),
        addresses: Array.from({ length: i }, (_, j) => `/ip4/10.0.0.${j}/tcp/${4077 + rng.below(100)}/p2p/12D3KooW${'x'.repeat(44)}`),
      }),
    );
    return [...tickets.map((t) => new Uint8Array(Buffer.from(t.slice('walkaway:'.length), 'base64url'))), ...tickets.slice(0, 3).map(utf8Bytes)];
  },
  dictionary: [PREFIX, utf8Bytes('-'), utf8Bytes('_'), utf8Bytes('='), utf8Bytes('+/')],
  run: (input) => {
    const isText = input.length >= PREFIX.length && PREFIX.every((b, i) => input[i] === b);
    return decodeTicket(isText ? latin1(input) : 'walkaway:' + Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('base64url'));
  },
};
