/** src/sync: session messages, the length-prefixed framing, and broadcast-only sync packets. */
import { createOperation, decodeOperationUnverified, Hash, logIdForTopic, PrivateKey, type Operation } from '../../src/core/index.ts';
import { BroadcastSync, type BroadcastOutput } from '../../src/sync/broadcast-sync.ts';
import { encodeFrames, FrameDecoder } from '../../src/sync/frames.ts';
import { decodeMessage, encodeMessage, type SyncMessage } from '../../src/sync/messages.ts';
import { compactOf, headerOfNext } from '../../src/sync/op-delta.ts';
import { DEFAULT_SYNC_CONFIG } from '../../src/sync/types.ts';
import type { Rng } from '../prng.ts';
import type { Target } from '../target.ts';
import { seededOperations, TOPIC } from './fixtures.ts';

const LIMITS = { maxHaveEntries: DEFAULT_SYNC_CONFIG.maxLogs };

function messages(rng: Rng): SyncMessage[] {
  const ops = seededOperations(rng, 12);
  const logs = ops.map((op) => ({ author: op.header.publicKey.bytes, logId: logIdForTopic(TOPIC), seqNum: op.header.seqNum }));
  return [
    { type: 'hello', version: 1, topic: TOPIC, live: true },
    { type: 'hello', version: 1, topic: TOPIC, live: false },
    { type: 'have', logs, last: true },
    { type: 'have', logs: [], last: false },
    { type: 'presync', operations: 12, bytes: 2 ** 40 },
    ...ops.map((op, i): SyncMessage => ({ type: i % 2 ? 'operation' : 'live', header: op.headerBytes, body: op.body })),
    { type: 'fork', headers: [ops[0].headerBytes, ops[1].headerBytes] },
    { type: 'done' },
    { type: 'ping' },
    { type: 'close' },
    { type: 'close', code: 'PROTOCOL', reason: 'bye' },
  ];
}

/** What the `sync-next` inputs continue: a fixed operation with basic extensions. */
const NEXT_KEY = PrivateKey.fromBytes(new Uint8Array(32).fill(5));
const PREV = createOperation({
  privateKey: NEXT_KEY,
  seqNum: 0,
  body: new Uint8Array(10).fill(1),
  extensions: { variant: 'basic', logId: logIdForTopic(TOPIC), timestamp: 1_700_000_000_000_000, pruneFlag: false },
});

export const syncNext: Target = {
  name: 'sync-next',
  format: 'cbor',
  about: 'a compact operation (Next, sync protocol 2): decodeMessage, the rebuilt header, decodeOperationUnverified',
  seeds: (rng) =>
    Array.from({ length: 12 }, (_, i) => {
      const op = createOperation({
        privateKey: NEXT_KEY,
        seqNum: 1,
        backlink: PREV.hash,
        body: i % 4 === 0 ? undefined : rng.bytes(1 + rng.below(300)),
        extensions:
          i % 2
            ? { variant: 'basic', logId: logIdForTopic(TOPIC), timestamp: 1_700_000_000_000_000 + rng.u32(), pruneFlag: i % 3 === 0 }
            : {
                variant: 'causal',
                logId: logIdForTopic(TOPIC),
                timestamp: 1_700_000_000_000_000 + i,
                previous: [PREV.hash, ...Array.from({ length: rng.below(4) }, () => Hash.digest(rng.bytes(4)))],
              },
      });
      return encodeMessage({ type: 'next', ...compactOf(PREV, op)! });
    }),
  run: (input) => {
    const message = decodeMessage(input, LIMITS);
    if (message.type !== 'next') return message.type;
    return decodeOperationUnverified(headerOfNext(PREV, message), message.body).hash;
  },
};

export const syncMessage: Target = {
  name: 'sync-message',
  format: 'cbor',
  about: 'decodeMessage of one sync frame (fast operation path and strict decoder)',
  seeds: (rng) => messages(rng).map(encodeMessage),
  run: (input) => decodeMessage(input, LIMITS),
};

/** Chunk sizes from the input itself, so an input always splits the same way. */
function chunksOf(input: Uint8Array): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let s = (input.length * 2654435761 + (input[0] ?? 7)) >>> 0;
  for (let at = 0; at < input.length; ) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const n = 1 + (s >>> 24 < 64 ? (s >>> 8) % 8 : (s >>> 8) % 4096);
    chunks.push(input.subarray(at, at + n));
    at += n;
  }
  return chunks;
}

export const syncFrames: Target = {
  name: 'sync-frames',
  format: 'bytes',
  about: 'FrameDecoder over the input cut in chunks, decodeMessage of every frame',
  seeds: (rng) => {
    const all = messages(rng).map(encodeMessage);
    return [encodeFrames(all), ...Array.from({ length: 8 }, () => encodeFrames(all.filter(() => rng.oneIn(3))))].map((b) => new Uint8Array(b));
  },
  dictionary: [
    [0, 0, 0, 0],
    [0xff, 0xff, 0xff, 0xff],
    [0, 0x20, 0, 1],
    [0, 0, 0, 1],
    [0, 0, 1, 0],
  ].map((a) => new Uint8Array(a)),
  run: (input) => {
    const decoder = new FrameDecoder(DEFAULT_SYNC_CONFIG.maxFrameBytes);
    let n = 0;
    for (const chunk of chunksOf(input)) for (const frame of decoder.push(chunk)) n += decodeMessage(frame, LIMITS).type.length;
    return n;
  },
};

/**
 * One machine takes many packets (its memory of what it heard is part of
 * what is tested); a tick every 256 packets forgets old state as a node's
 * timer would; a new machine every 65,536.
 */
let machine = new BroadcastSync(TOPIC);
let received = 0;

function packetsOf(outputs: BroadcastOutput[]): Uint8Array[] {
  return outputs.flatMap((o) => (o.type === 'broadcast' ? [o.packet] : []));
}

export const broadcastSync: Target = {
  name: 'broadcast-sync',
  format: 'cbor',
  about: 'BroadcastSync.handle(recv): announcements and operation packets (never throws)',
  seeds: (rng) => {
    const ops: Operation[] = seededOperations(rng);
    const sender = new BroadcastSync(TOPIC);
    const heights = ops.filter((op) => op.header.seqNum === 3).map((op) => ({ author: op.header.publicKey, logId: logIdForTopic(TOPIC), seqNum: 3 }));
    const out = packetsOf(sender.handle({ type: 'tick', heights }));
    out.push(...packetsOf(sender.handle({ type: 'log-page', operations: ops.slice(0, 6) })));
    const other = new BroadcastSync(TOPIC, { maxPacketBytes: 4000 });
    other.handle({ type: 'tick', heights: [] });
    out.push(...packetsOf(other.handle({ type: 'log-page', operations: ops })));
    return out;
  },
  expected: () => false,
  run: (input) => {
    if (++received % 65536 === 0) machine = new BroadcastSync(TOPIC);
    else if (received % 256 === 0) machine.handle({ type: 'tick', heights: [] });
    return machine.handle({ type: 'recv', packet: input });
  },
};
