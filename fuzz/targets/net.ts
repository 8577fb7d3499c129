/** src/net: gossip frames between hosts, membership and broadcast messages, multicast datagrams. */
import { encode } from 'cborg';
import { decodeStrictCbor } from '../../src/core/index.ts';
import { checkPlumTreeMessage } from '../../src/net/plumtree/validate.ts';
import { decodeGossipFrame, encodeGossipFrame } from '../../src/net/gossip/wire.ts';
import { checkHyParViewMessage } from '../../src/net/membership/validate.ts';
import { overlayMessageKind, type OverlayMessage } from '../../src/net/overlay/overlay.ts';
import { encodePayload } from '../../src/node/payload.ts';
import { signEphemeral } from '../../src/node/ephemeral.ts';
import type { Rng } from '../prng.ts';
import { SIGNATURE_BUDGET_US_PER_KIB, type Target } from '../target.ts';
import { seededKey, seededOperations, TOPIC } from './fixtures.ts';
import { multicastDatagrams, receiveDatagram } from './multicast.ts';

const peer = (rng: Rng) => Buffer.from(rng.bytes(32)).toString('hex');

function overlayMessages(rng: Rng): OverlayMessage<string>[] {
  const payload = encodePayload({ kind: 'ephemeral', bytes: signEphemeral(seededKey(rng), rng.bytes(20), 1, 1) });
  return [
    { type: 'join' },
    { type: 'forward-join', peer: peer(rng), ttl: 6 },
    { type: 'neighbor', priority: 'high' },
    { type: 'neighbor', priority: 'swap' },
    { type: 'neighbor-reply', accepted: true },
    { type: 'disconnect', alive: false },
    { type: 'shuffle', origin: peer(rng), ttl: 3, peers: [peer(rng), peer(rng), peer(rng)] },
    { type: 'shuffle-reply', peers: [peer(rng), peer(rng)] },
    { type: 'gossip', id: peer(rng), payload, hop: 2 },
    { type: 'ihave', ids: [peer(rng), peer(rng)], hops: [1, 1024] },
    { type: 'graft', id: peer(rng) },
    { type: 'graft', id: null },
    { type: 'prune' },
  ];
}

const MAX_SHUFFLE_PEERS = 64;
const MAX_MESSAGE = 16 * 1024;
const MAX_IHAVE = 256;

export const gossipFrame: Target = {
  name: 'gossip-frame',
  format: 'cbor',
  about: 'decodeGossipFrame, then overlayMessageKind and the check of that kind, as the overlay does',
  seeds: (rng) =>
    [
      ...overlayMessages(rng).map((message) => encodeGossipFrame({ kind: 'overlay', topic: TOPIC, message })),
      encodeGossipFrame({
        kind: 'addresses',
        peers: [
          [peer(rng), ['/ip4/127.0.0.1/tcp/4077', '/dns4/example.org/tcp/443/wss']],
          [peer(rng), []],
        ],
      }),
    ].map((b) => new Uint8Array(b)),
  run: (input) => {
    const frame = decodeGossipFrame(input);
    if (frame.kind !== 'overlay') return frame;
    // As the overlay does: the kind of message by its type, then that machine's check.
    const kind = overlayMessageKind(frame.message);
    if (kind === 'membership') return checkHyParViewMessage(frame.message, MAX_SHUFFLE_PEERS);
    if (kind === 'broadcast') return checkPlumTreeMessage(frame.message, MAX_MESSAGE, MAX_IHAVE);
    return kind;
  },
};

const DICT = ['type', 'join', 'forward-join', 'neighbor', 'shuffle', 'shuffle-reply', 'gossip', 'ihave', 'graft', 'prune', 'peers', 'ttl', 'hop', 'ids', 'hops'].map(
  (s) => new Uint8Array(encode(s)),
);

export const membership: Target = {
  name: 'membership',
  format: 'cbor',
  about: 'checkHyParViewMessage of a strictly decoded message (null or a reason, never a throw)',
  seeds: (rng) =>
    overlayMessages(rng)
      .slice(0, 8)
      .map((m) => new Uint8Array(encode(m))),
  dictionary: DICT,
  run: (input) => checkHyParViewMessage(decodeStrictCbor(input, 'membership message'), MAX_SHUFFLE_PEERS),
};

export const broadcastMessage: Target = {
  name: 'broadcast-message',
  format: 'cbor',
  about: 'checkPlumTreeMessage of a strictly decoded message (null or a reason, never a throw)',
  seeds: (rng) =>
    overlayMessages(rng)
      .slice(8)
      .map((m) => new Uint8Array(encode(m))),
  dictionary: DICT,
  run: (input) => checkPlumTreeMessage(decodeStrictCbor(input, 'broadcast message'), MAX_MESSAGE, MAX_IHAVE),
};

export const multicast: Target = {
  name: 'multicast',
  format: 'bytes',
  about: 'a received multicast datagram (v2): topic tag, AEAD, then broadcast sync or a signed ephemeral (see targets/multicast.ts)',
  seeds: (rng) => multicastDatagrams(rng, seededOperations(rng, 6)),
  run: receiveDatagram,
  // An opened ephemeral datagram carries one signature check.
  budgetUsPerKiB: SIGNATURE_BUDGET_US_PER_KIB,
};
