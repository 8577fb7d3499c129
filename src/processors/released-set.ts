/**
 * Which operations have been released (and acknowledged), by `localSeq`: a
 * watermark (every localSeq at or below it is settled) plus a bitmap of the
 * settled localSeqs above it. Operations live in the store already; this is
 * the only thing the causal orderer persists, with `setCursor`, in batches.
 *
 * A bitmap, not a list: with a uniform shuffle the watermark stays low for a
 * long time (the first arrival is released late), and a bit per localSeq keeps
 * each cursor write small (100,000 operations: 12.5 KiB at most).
 *
 * Encoding: `[1][watermark u48 BE][base u48 BE][bitmap]`, bit j of the bitmap
 * (LSB first) is localSeq `base + 1 + j`.
 */
import { WalkawayError } from '../core/index.ts';

const VERSION = 1;
const HEAD = 13;

export interface ReleasedSet {
  watermark: number;
  /** Bit j is localSeq base + 1 + j; base <= watermark. */
  base: number;
  bits: Uint8Array;
}

export function emptyReleasedSet(): ReleasedSet {
  return { watermark: 0, base: 0, bits: new Uint8Array(64) };
}

export function isSettled(set: ReleasedSet, localSeq: number): boolean {
  if (localSeq <= set.watermark) return true;
  const j = localSeq - set.base - 1;
  const byte = j >>> 3;
  return byte < set.bits.length && (set.bits[byte] & (1 << (j & 7))) !== 0;
}

/** Marks `localSeq` settled and moves the watermark over every settled run. */
export function settle(set: ReleasedSet, localSeq: number): void {
  if (localSeq <= set.watermark) return;
  const j = localSeq - set.base - 1;
  const byte = j >>> 3;
  if (byte >= set.bits.length) {
    const grown = new Uint8Array(Math.max(set.bits.length * 2, byte + 64));
    grown.set(set.bits);
    set.bits = grown;
  }
  set.bits[byte] |= 1 << (j & 7);
  if (localSeq === set.watermark + 1) advance(set);
}

function advance(set: ReleasedSet): void {
  const { bits } = set;
  let w = set.watermark;
  for (;;) {
    const j = w - set.base; // bit of localSeq w + 1
    const byte = j >>> 3;
    if (byte >= bits.length) break;
    if ((j & 7) === 0 && bits[byte] === 0xff) {
      w += 8;
      continue;
    }
    if ((bits[byte] & (1 << (j & 7))) === 0) break;
    w++;
  }
  set.watermark = w;
  // Drop whole bytes below the watermark once they are most of the bitmap.
  const dead = (w - set.base) >>> 3;
  if (dead >= 4096 && dead * 2 >= bits.length) {
    set.bits = bits.slice(dead);
    set.base += dead * 8;
  }
}

/** Highest settled localSeq above the watermark, or the watermark. */
function highest(set: ReleasedSet): number {
  for (let byte = set.bits.length - 1; byte >= 0; byte--) {
    const v = set.bits[byte];
    if (v !== 0) return set.base + byte * 8 + (31 - Math.clz32(v)) + 1;
  }
  return set.watermark;
}

export function encodeReleasedSet(set: ReleasedSet): Uint8Array {
  const top = Math.max(highest(set), set.watermark);
  const used = Math.max(0, Math.ceil((top - set.base) / 8));
  const out = new Uint8Array(HEAD + used);
  out[0] = VERSION;
  writeU48(out, 1, set.watermark);
  writeU48(out, 7, set.base);
  out.set(set.bits.subarray(0, used), HEAD);
  return out;
}

export function decodeReleasedSet(bytes: Uint8Array | undefined): ReleasedSet {
  if (!bytes) return emptyReleasedSet();
  if (!(bytes instanceof Uint8Array) || bytes.length < HEAD || bytes[0] !== VERSION) {
    throw new WalkawayError('MALFORMED', `released cursor must start with version ${VERSION} and be at least ${HEAD} bytes`);
  }
  const watermark = readU48(bytes, 1);
  const base = readU48(bytes, 7);
  if (base > watermark) throw new WalkawayError('MALFORMED', 'released cursor base is above its watermark');
  const bits = new Uint8Array(Math.max(64, bytes.length - HEAD));
  bits.set(bytes.subarray(HEAD));
  return { watermark, base, bits };
}

function writeU48(out: Uint8Array, at: number, value: number): void {
  const hi = Math.floor(value / 2 ** 32);
  const lo = value >>> 0;
  out[at] = hi >>> 8;
  out[at + 1] = hi & 0xff;
  out[at + 2] = lo >>> 24;
  out[at + 3] = (lo >>> 16) & 0xff;
  out[at + 4] = (lo >>> 8) & 0xff;
  out[at + 5] = lo & 0xff;
}

function readU48(bytes: Uint8Array, at: number): number {
  const hi = (bytes[at] << 8) | bytes[at + 1];
  const lo = ((bytes[at + 2] << 24) | (bytes[at + 3] << 16) | (bytes[at + 4] << 8) | bytes[at + 5]) >>> 0;
  return hi * 2 ** 32 + lo;
}
