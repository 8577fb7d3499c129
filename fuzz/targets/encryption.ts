/**
 * src/encryption: what an encrypted topic's bodies carry before any key is
 * tried: the envelope, the group control messages, a pre-key bundle (its
 * signature checked) and the content of a secret box.
 */
import {
  bundleOf,
  decodeBundle,
  decodeControlMessage,
  decodeEnvelope,
  encodeBundle,
  encodeControlMessage,
  generateMemberKeys,
  seededRandom,
} from '../../src/encryption/index.ts';
import { decodeBox, encodeBox } from '../../src/encryption/control.ts';
import { encodeControl, sealedHeader, BODY_KIND } from '../../src/encryption/envelope.ts';
import { decodeSchemeMessage, decodeSealedMessage, encodeSchemeMessage, type SchemeMessage } from '../../src/encryption/message-scheme/index.ts';
import { decodeWelcome, encodeWelcome } from '../../src/encryption/message-scheme/messages.ts';
import { messageHeader } from '../../src/encryption/message-scheme/sealed.ts';
import { concatBytes } from '../../src/core/index.ts';
import { SIGNATURE_BUDGET_US_PER_KIB, type Target } from '../target.ts';
import { seededKey } from './fixtures.ts';

export const envelope: Target = {
  name: 'envelope',
  format: 'bytes',
  about: 'decodeEnvelope: an encrypted body (topic key, group secret, or a control message in clear)',
  seeds: (rng) => [
    new Uint8Array([...sealedHeader(BODY_KIND.topicKey, rng.bytes(16)), ...rng.bytes(24 + 16 + rng.below(200))]),
    new Uint8Array([...sealedHeader(BODY_KIND.group, rng.bytes(16)), ...rng.bytes(24 + 16 + rng.below(200))]),
    encodeControl(rng.bytes(rng.below(100))),
  ],
  run: (input) => decodeEnvelope(input),
};

export const groupControl: Target = {
  name: 'group-control',
  format: 'cbor',
  about: 'decodeControlMessage: a pre-key bundle, a secret for each recipient over 2SM, or an ack',
  seeds: (rng) => {
    const id = () => rng.bytes(32);
    const boxes = Array.from({ length: 1 + rng.below(6) }, () => ({ recipient: id(), message: rng.bytes(80 + rng.below(120)) }));
    return [
      encodeControlMessage({ type: 'bundle', bundle: rng.bytes(180) }),
      encodeControlMessage({ type: 'secret', reason: 'create', state: id(), secretId: id(), boxes }),
      encodeControlMessage({ type: 'secret', reason: 'welcome', state: id(), secretId: id(), newcomer: id(), boxes }),
      encodeControlMessage({ type: 'ack', state: id(), member: id() }),
      encodeBox({ secret: id(), history: Array.from({ length: rng.below(8) }, (_, i) => ({ secret: id(), lamport: i })) }),
    ];
  },
  run: (input) => decodeControlMessage(input),
};

export const secretBox: Target = {
  name: 'secret-box',
  format: 'cbor',
  about: 'decodeBox: what a 2SM message gives its recipient (a secret, and a welcome’s history)',
  seeds: (rng) => [1, 4, 40].map((n) => encodeBox({ secret: rng.bytes(32), history: Array.from({ length: n }, (_, i) => ({ secret: rng.bytes(32), lamport: i * 3 })) })),
  run: (input) => decodeBox(input),
};

export const preKeyBundle: Target = {
  name: 'prekey-bundle',
  format: 'cbor',
  about: 'decodeBundle: a signed X25519 pre-key bundle, its Ed25519 signature verified',
  budgetUsPerKiB: SIGNATURE_BUDGET_US_PER_KIB,
  seeds: (rng) =>
    [0, 1].map((i) => {
      const owner = seededKey(rng);
      const keys = generateMemberKeys(owner, seededRandom(`fuzz-${i}`), 1_800_000_000_000);
      return encodeBundle(bundleOf(keys, owner));
    }),
  run: (input) => decodeBundle(input),
};

export const schemeMessage: Target = {
  name: 'scheme-message',
  format: 'cbor',
  about: 'decodeSchemeMessage: a DCGKA control message (create, update, remove, add, ack, add-ack, bundle, one-time keys)',
  seeds: (rng) => {
    const id = () => rng.bytes(32);
    const directs = () => Array.from({ length: 1 + rng.below(5) }, () => ({ recipient: id(), message: rng.bytes(60 + rng.below(100)) }));
    const seq = 1 + rng.below(50);
    const messages: SchemeMessage[] = [
      { type: 'bundle', seq: 0, bundle: rng.bytes(180) },
      { type: 'one-time-keys', seq: 0, keys: [0, 1, 2].map(() => ({ peer: id(), key: id() })) },
      { type: 'create', seq, members: [id(), id(), id()], directs: directs() },
      { type: 'update', seq, directs: directs() },
      { type: 'remove', seq, member: id(), directs: directs() },
      { type: 'add', seq, member: id(), directs: directs() },
      { type: 'ack', seq, ackSender: id(), ackSeq: 1 + rng.below(9), directs: directs() },
      { type: 'add-ack', seq, ackSender: id(), ackSeq: 1 + rng.below(9), directs: [] },
    ];
    return [
      ...messages.map(encodeSchemeMessage),
      encodeWelcome({
        ratchet: id(),
        members: [
          { id: id(), lastSeq: 3 },
          { id: id(), adder: id(), lastSeq: 0 },
        ],
      }),
    ];
  },
  run: (input) => decodeSchemeMessage(input),
};

export const schemeWelcome: Target = {
  name: 'scheme-welcome',
  format: 'cbor',
  about: 'decodeWelcome: what a DCGKA add gives its newcomer (a ratchet secret, the members and the control seqs its adder read)',
  seeds: (rng) =>
    [1, 5, 40].map((n) =>
      encodeWelcome({
        ratchet: rng.bytes(32),
        members: Array.from({ length: n }, (_, i) => ({ id: rng.bytes(32), ...(i % 2 ? { adder: rng.bytes(32) } : {}), lastSeq: i })),
      }),
    ),
  run: (input) => decodeWelcome(input),
};

export const sealedMessage: Target = {
  name: 'sealed-message',
  format: 'bytes',
  about: 'decodeSealedMessage: a body sealed under the message scheme (epoch, generation, ciphertext)',
  seeds: (rng) => [concatBytes(messageHeader(1 + rng.below(9), rng.below(100)), rng.bytes(16 + rng.below(200))), concatBytes(messageHeader(0, 0), rng.bytes(16))],
  run: (input) => decodeSealedMessage(input),
};
