/**
 * Compact map keys for hashes and the dependencies of an operation. A key is
 * the 32 bytes packed into 16 UTF-16 code units: lossless (two different
 * hashes never share a key), four times shorter than hex, and its string
 * order equals the byte order of the hash.
 */
import { compareBytes, Hash, pruneFlagOf, previousOf, timestampOf, type Operation } from '../core/index.ts';
import type { Stamp } from './types.ts';

export function hashKey(bytes: Uint8Array): string {
  const b = bytes;
  return String.fromCharCode(
    (b[0] << 8) | b[1],
    (b[2] << 8) | b[3],
    (b[4] << 8) | b[5],
    (b[6] << 8) | b[7],
    (b[8] << 8) | b[9],
    (b[10] << 8) | b[11],
    (b[12] << 8) | b[13],
    (b[14] << 8) | b[15],
    (b[16] << 8) | b[17],
    (b[18] << 8) | b[19],
    (b[20] << 8) | b[21],
    (b[22] << 8) | b[23],
    (b[24] << 8) | b[25],
    (b[26] << 8) | b[27],
    (b[28] << 8) | b[29],
    (b[30] << 8) | b[31],
  );
}

export function keyToHash(key: string): Hash {
  const out = new Uint8Array(32);
  for (let i = 0; i < 16; i++) {
    const c = key.charCodeAt(i);
    out[2 * i] = c >> 8;
    out[2 * i + 1] = c & 0xff;
  }
  return Hash.fromBytes(out);
}

/**
 * The operations `op` waits for: its backlink (unless it is a prune point,
 * which needs no previous entry) and every hash in `previous`, as keys,
 * without repeats.
 */
export function dependencyKeys(op: Operation): string[] {
  const deps = checkedDependencyKeys(op);
  return typeof deps === 'string' ? [] : deps;
}

/**
 * `dependencyKeys`, or why the dependencies cannot be trusted: `previous` not
 * sorted and unique (equal dependencies must give equal bytes), not 32-byte
 * hashes, or listing the operation itself. One pass; key order is byte order.
 */
export function checkedDependencyKeys(op: Operation): string[] | string {
  const { header } = op;
  const previous = previousOf(header);
  const out: string[] = [];
  let backlink: string | undefined;
  if (header.backlink) {
    if (!pruneFlagOf(header)) out.push((backlink = hashKey(header.backlink.bytes)));
  } else if (header.seqNum > 0) {
    return 'operation at seqNum > 0 has no backlink';
  }
  let last = '';
  for (let i = 0; i < previous.length; i++) {
    const bytes = previous[i]?.bytes;
    if (!(bytes instanceof Uint8Array) || bytes.length !== 32) return `previous[${i}] is not a 32-byte hash`;
    const key = hashKey(bytes);
    if (i > 0 && key <= last) return 'previous is not sorted and unique';
    last = key;
    if (key !== backlink) out.push(key);
  }
  if (previous.length > 0 && out.includes(hashKey(op.hash.bytes))) return 'operation lists itself in previous';
  return out;
}

/**
 * The dependencies as raw hash bytes (no strings: the orderer's hot path), or
 * why they cannot be trusted (as `checkedDependencyKeys`).
 */
export function checkedDependencies(op: Operation): Uint8Array[] | string {
  const { header } = op;
  const previous = previousOf(header);
  const out: Uint8Array[] = [];
  let backlink: Uint8Array | undefined;
  if (header.backlink) {
    if (!pruneFlagOf(header)) out.push((backlink = header.backlink.bytes));
  } else if (header.seqNum > 0) {
    return 'operation at seqNum > 0 has no backlink';
  }
  const own = op.hash.bytes;
  for (let i = 0; i < previous.length; i++) {
    const bytes = previous[i]?.bytes;
    if (!(bytes instanceof Uint8Array) || bytes.length !== 32) return `previous[${i}] is not a 32-byte hash`;
    if (i > 0 && compareBytes(previous[i - 1].bytes, bytes) >= 0) return 'previous is not sorted and unique';
    if (compareBytes(bytes, own) === 0) return 'operation lists itself in previous';
    if (backlink === undefined || compareBytes(bytes, backlink) !== 0) out.push(bytes);
  }
  return out;
}

export function stampOf(op: Operation, lamport: number): Stamp {
  return {
    lamport,
    timestamp: timestampOf(op.header) ?? 0,
    author: op.header.publicKey.bytes,
    hash: op.hash.bytes,
  };
}

/** Total order of stamps: Lamport, then wall clock, then author, then hash. */
export function compareStamps(a: Stamp, b: Stamp): number {
  if (a.lamport !== b.lamport) return a.lamport - b.lamport;
  if (a.timestamp !== b.timestamp) return a.timestamp - b.timestamp;
  return compareBytes(a.author, b.author) || compareBytes(a.hash, b.hash);
}
