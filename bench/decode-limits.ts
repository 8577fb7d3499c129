/**
 * Worst-case decode cost of every decoder of remote input on adversarial
 * inputs: empty maps, nested arrays, many tiny byte strings, a string filling
 * the input, deep maps, small integers, and the largest honest message. Each
 * shape is tried at the decoder's item budget (the most that gets through to
 * cborg) and at its byte limit (the most a peer can send). Prints CPU µs per
 * call and per KiB (inputs of 1 KiB and more); the worst per decoder goes
 * into docs/interfaces.md.
 *
 *   node --import tsx bench/decode-limits.ts [--before]
 *
 * `--before` also times cborg alone on a 2 MiB frame of empty maps (the cost
 * without the scan, for comparison; takes seconds).
 */
import { decode as cborDecode, encode as cborEncode } from 'cborg';
import { decodeHeader, DEFAULT_LIMITS, PrivateKey, topicId, type CborLimits } from '../src/core/index.ts';
import { HEADER_CBOR_LIMITS } from '../src/core/header.ts';
import { STRICT_CBOR } from '../src/core/cbor.ts';
import { decodeGossipFrame, encodeGossipFrame, GOSSIP_CBOR_LIMITS } from '../src/net/gossip/wire.ts';
import { EPHEMERAL_CBOR_LIMITS, signEphemeral, verifyEphemeral } from '../src/node/ephemeral.ts';
import { decodePayload, encodePayload, PAYLOAD_CBOR_LIMITS } from '../src/node/payload.ts';
import { decodeTicket, encodeTicket, TICKET_CBOR_LIMITS } from '../src/node/ticket.ts';
import { DEFAULT_SYNC_CONFIG } from '../src/sync/index.ts';
import { decodeMessage, encodeMessage, MAX_HAVE_ENTRIES, SYNC_CBOR_LIMITS } from '../src/sync/messages.ts';

interface Decoder {
  name: string;
  limits: CborLimits;
  maxBytes: number;
  decode: (bytes: Uint8Array) => unknown;
  honest: Uint8Array;
}

function head(major: number, n: number): number[] {
  const m = major << 5;
  if (n < 24) return [m | n];
  if (n < 0x100) return [m | 24, n];
  if (n < 0x10000) return [m | 25, n >> 8, n & 0xff];
  return [m | 26, n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
}

/** An array of `count` copies of `item`, cut to at most `maxBytes`. */
function arrayOf(count: number, item: number[], maxBytes: number): Uint8Array {
  const fit = Math.max(0, Math.min(count, Math.floor((maxBytes - 5) / item.length)));
  const h = head(4, fit);
  const out = new Uint8Array(h.length + fit * item.length);
  out.set(h);
  for (let i = 0; i < fit; i++) out.set(item, h.length + i * item.length);
  return out;
}

function nested(depth: number, open: number[], maxBytes: number, leaf = [0x00]): Uint8Array {
  const d = Math.max(1, Math.min(depth, Math.floor((maxBytes - leaf.length) / open.length)));
  const out: number[] = [];
  for (let i = 0; i < d; i++) out.push(...open);
  out.push(...leaf);
  return new Uint8Array(out);
}

function shapes(d: Decoder): [string, Uint8Array][] {
  const items = d.limits.maxItems - 1;
  const max = d.maxBytes;
  const shapesAt = (n: number, size: number, tag: string): [string, Uint8Array][] => [
    [`empty maps ${tag}`, arrayOf(n, [0xa0], size)],
    [`empty arrays ${tag}`, arrayOf(n, [0x80], size)],
    [`tiny byte strings ${tag}`, arrayOf(n, [0x41, 0x07], size)],
    [`small integers ${tag}`, arrayOf(n, [0x17], size)],
    [`one-key maps ${tag}`, arrayOf(Math.floor(n / 3), [0xa1, 0x00, 0x00], size)],
  ];
  const longString = (major: number) => {
    const n = max - 5;
    const out = new Uint8Array(max);
    out.set(head(major, n));
    out.fill(0x61, head(major, n).length);
    return out.subarray(0, head(major, n).length + n);
  };
  return [
    ...shapesAt(items, max, 'at the item budget'),
    ...shapesAt(max, max, 'filling the byte limit'),
    ['nested arrays to the depth cap', nested(d.limits.maxDepth, [0x81], max)],
    ['nested arrays past the depth cap', nested(max, [0x81], max)],
    ['nested maps past the depth cap', nested(max, [0xa1, 0x00], max)],
    ['max-length byte string', longString(2)],
    ['max-length text string', longString(3)],
    ['largest honest message', d.honest],
  ];
}

/**
 * CPU µs (user + system of this process) per call, repeated until 100 ms of
 * CPU passed (at least 3 calls): on a loaded machine, wall time would count
 * the time other processes ran.
 */
function time(fn: () => void): number {
  for (let i = 0; i < 2; i++) fn();
  let calls = 0;
  let batch = 1;
  let used = 0;
  const start = process.cpuUsage();
  while (calls < 3 || used < 100_000) {
    for (let i = 0; i < batch; i++) fn();
    calls += batch;
    batch *= 2;
    const d = process.cpuUsage(start);
    used = d.user + d.system;
  }
  return used / calls;
}

const key = PrivateKey.fromBytes(new Uint8Array(32).fill(3));
const header = (() => {
  const prev = Array.from({ length: 32 }, (_, i) => new Uint8Array(32).fill(i));
  return new Uint8Array(
    cborEncode([
      1,
      key.publicKey.bytes,
      new Uint8Array(64),
      4_000_000_000,
      new Uint8Array(32),
      4_000_000_000,
      new Uint8Array(32),
      [1, 1, new Uint8Array(32), 2 ** 53 - 1, prev],
    ]),
  );
})();
const haveAll = encodeMessage({
  type: 'have',
  logs: Array.from({ length: MAX_HAVE_ENTRIES }, (_, i) => ({ author: new Uint8Array(32).fill(i & 0xff), logId: new Uint8Array(32), seqNum: 0xffff_ffff })),
  last: true,
});
const ids = Array.from({ length: 256 }, (_, i) => `${'f'.repeat(60)}${i}`);

const decoders: Decoder[] = [
  { name: 'operation header (decodeHeader)', limits: HEADER_CBOR_LIMITS, maxBytes: DEFAULT_LIMITS.maxHeaderBytes, decode: (b) => decodeHeader(b), honest: header },
  {
    name: 'sync frame (decodeMessage)',
    limits: SYNC_CBOR_LIMITS,
    maxBytes: DEFAULT_SYNC_CONFIG.maxFrameBytes,
    decode: (b) => decodeMessage(b, { maxHaveEntries: DEFAULT_SYNC_CONFIG.maxLogs }),
    honest: haveAll,
  },
  {
    name: 'gossip frame (decodeGossipFrame)',
    limits: GOSSIP_CBOR_LIMITS,
    maxBytes: GOSSIP_CBOR_LIMITS.maxBytes!,
    decode: decodeGossipFrame,
    honest: encodeGossipFrame({ kind: 'overlay', topic: topicId('b'), message: { type: 'ihave', ids, hops: ids.map(() => 3) } as never }),
  },
  {
    name: 'gossip payload (decodePayload)',
    limits: PAYLOAD_CBOR_LIMITS,
    maxBytes: PAYLOAD_CBOR_LIMITS.maxBytes!,
    decode: decodePayload,
    honest: encodePayload({ kind: 'operation', headerBytes: header, body: new Uint8Array(DEFAULT_LIMITS.maxBodyBytes) }),
  },
  {
    name: 'ephemeral message (verifyEphemeral)',
    limits: EPHEMERAL_CBOR_LIMITS,
    maxBytes: EPHEMERAL_CBOR_LIMITS.maxBytes!,
    decode: verifyEphemeral,
    honest: signEphemeral(key, new Uint8Array(16 * 1024 - 200), 2 ** 52, 2 ** 40),
  },
  {
    name: 'ticket (decodeTicket, bytes after base64url)',
    limits: TICKET_CBOR_LIMITS,
    maxBytes: TICKET_CBOR_LIMITS.maxBytes!,
    decode: (b) => decodeTicket('walkaway:' + Buffer.from(b).toString('base64url')),
    honest: Buffer.from(
      encodeTicket({
        networkId: new Uint8Array(32),
        topic: new Uint8Array(32),
        addresses: Array.from({ length: 8 }, () => '/ip4/255.255.255.255/tcp/65535/p2p/' + 'x'.repeat(52)),
      }).slice(9),
      'base64url',
    ),
  },
];

const rows: string[] = [];
for (const d of decoders) {
  let worstPerKiB = { value: 0, shape: '' };
  let worstCall = { value: 0, shape: '' };
  console.log(`\n${d.name}: max ${d.maxBytes} bytes, ${d.limits.maxItems} items, depth ${d.limits.maxDepth}`);
  for (const [shape, bytes] of shapes(d)) {
    let outcome = 'ok';
    const us = time(() => {
      try {
        d.decode(bytes);
        outcome = 'ok';
      } catch (err) {
        outcome = (err as { code?: string }).code ?? 'untyped!';
      }
    });
    const perKiB = us / Math.max(1, bytes.length / 1024);
    console.log(`  ${shape.padEnd(44)} ${String(bytes.length).padStart(8)} B  ${us.toFixed(1).padStart(9)} µs  ${perKiB.toFixed(2).padStart(8)} µs/KiB  ${outcome}`);
    // Per KiB only from 1 KiB up: below that, the fixed cost of a call (~5 µs) dominates.
    if (bytes.length >= 1024 && perKiB > worstPerKiB.value) worstPerKiB = { value: perKiB, shape };
    if (us > worstCall.value) worstCall = { value: us, shape };
  }
  rows.push(
    `| ${d.name} | ${d.maxBytes} | ${d.limits.maxItems} | ${d.limits.maxDepth} | ${worstPerKiB.value.toFixed(1)} (${worstPerKiB.shape}) | ${worstCall.value.toFixed(0)} (${worstCall.shape}) |`,
  );
}

console.log('\n| decoder | max bytes | max items | max depth | worst µs/KiB (inputs >= 1 KiB) | worst µs per call |');
console.log('|---|---|---|---|---|---|');
for (const r of rows) console.log(r);

if (process.argv.includes('--before')) {
  const bomb = arrayOf(2 * 1024 * 1024, [0xa0], 2 * 1024 * 1024);
  const start = process.cpuUsage();
  cborDecode(bomb, { ...STRICT_CBOR, useMaps: true });
  const d = process.cpuUsage(start);
  const ms = (d.user + d.system) / 1000;
  console.log(`\nwithout the scan: cborg on ${bomb.length} bytes of empty maps took ${ms.toFixed(0)} ms (${((ms * 1000) / (bomb.length / 1024)).toFixed(0)} µs/KiB)`);
}
