/**
 * A hand-written decoder of the common header shape, checking canonical
 * encoding as it reads: shortest integer heads, definite lengths, exact
 * byte-string lengths, nothing after the last item. It accepts a strict
 * subset of what the generic path (`decodeHeader`: cborg strict decode, then
 * re-encode and compare) accepts, and decodes it to the same value; for
 * anything else (any error, unknown extension versions or variants, extra
 * extension fields, integers outside the safe range) it returns `undefined`
 * and the caller takes the generic path, which decides and names the error.
 * test/core/header-fast.test.ts compares both on valid headers and mutations.
 */
import type { Extensions } from './extensions.ts';
import { Hash } from './hash.ts';
import { MAX_PREVIOUS } from './limits.ts';
import type { Header } from './header.ts';
import { PublicKey } from './keys.ts';

// [0x85..0x88][0x01][0x58 0x20 key][0x58 0x40 signature] then payloadSize.
const KEY_AT = 4;
const SIG_AT = KEY_AT + 32 + 2;
const AFTER_SIG = SIG_AT + 64;

/** Read position of the helpers below (module state: no closure or result object per field). */
let pos = 0;

export function decodeHeaderFast(b: Uint8Array): Header | undefined {
  const len = b.length;
  const count = b[0] - 0x80;
  if (!(count >= 5 && count <= 8) || len < AFTER_SIG + 2 || b[1] !== 0x01) return undefined;
  if (b[2] !== 0x58 || b[3] !== 32 || b[SIG_AT - 2] !== 0x58 || b[SIG_AT - 1] !== 64) return undefined;
  pos = AFTER_SIG;
  let items = 4;
  const payloadSize = readUint(b, false);
  if (payloadSize < 0) return undefined;
  let payloadHashAt = -1;
  if (payloadSize > 0) {
    payloadHashAt = readHash(b);
    if (payloadHashAt < 0) return undefined;
    items++;
  }
  const seqNum = readUint(b, false);
  if (seqNum < 0) return undefined;
  items++;
  let backlinkAt = -1;
  if (seqNum > 0) {
    backlinkAt = readHash(b);
    if (backlinkAt < 0) return undefined;
    items++;
  }
  let extensions: Extensions | undefined;
  if (items < count) {
    extensions = readExtensions(b);
    if (extensions === undefined) return undefined;
    items++;
  }
  if (items !== count || pos !== len) return undefined;
  return {
    version: 1,
    publicKey: PublicKey.fromBytes(b.subarray(KEY_AT, KEY_AT + 32)),
    signature: copyOf(b, SIG_AT, 64),
    payloadSize,
    payloadHash: payloadHashAt < 0 ? undefined : Hash.fromBytes(b.subarray(payloadHashAt, payloadHashAt + 32)),
    seqNum,
    backlink: backlinkAt < 0 ? undefined : Hash.fromBytes(b.subarray(backlinkAt, backlinkAt + 32)),
    extensions,
  };
}

/** `[1, 0|1, logId, timestamp, pruneFlag|previous]`, exactly five items. */
function readExtensions(b: Uint8Array): Extensions | undefined {
  const p = pos;
  const variant = b[p + 2];
  if (b[p] !== 0x85 || b[p + 1] !== 0x01 || (variant !== 0 && variant !== 1)) return undefined;
  pos = p + 3;
  const logIdAt = readHash(b);
  if (logIdAt < 0) return undefined;
  const timestamp = readUint(b, true);
  if (timestamp < 0) return undefined;
  if (variant === 0) {
    const flag = b[pos++];
    if (flag !== 0xf4 && flag !== 0xf5) return undefined;
    return { variant: 'basic', logId: copyOf(b, logIdAt, 32), timestamp, pruneFlag: flag === 0xf5 };
  }
  const n = readArrayHead(b);
  // Over MAX_PREVIOUS: the generic path decides (TOO_LARGE, or accepted when trusted).
  if (n < 0 || n > MAX_PREVIOUS || n * 34 > b.length - pos) return undefined;
  const previous: Hash[] = [];
  let prevAt = -1;
  for (let i = 0; i < n; i++) {
    const at = readHash(b);
    if (at < 0 || (prevAt >= 0 && !ascending(b, prevAt, at))) return undefined;
    previous.push(Hash.fromBytes(b.subarray(at, at + 32)));
    prevAt = at;
  }
  return { variant: 'causal', logId: copyOf(b, logIdAt, 32), timestamp, previous };
}

/** A canonical unsigned integer at `pos`: up to 32 bits, or up to 2^53 - 1 with `wide`; -1 otherwise. */
function readUint(b: Uint8Array, wide: boolean): number {
  const p = pos;
  const h = b[p];
  let v: number;
  if (h < 0x18) {
    pos = p + 1;
    return h;
  } else if (h === 0x18) {
    v = b[p + 1];
    if (!(v >= 24)) return -1;
    pos = p + 2;
  } else if (h === 0x19) {
    if (p + 3 > b.length) return -1;
    v = (b[p + 1] << 8) | b[p + 2];
    if (v < 0x100) return -1;
    pos = p + 3;
  } else if (h === 0x1a) {
    if (p + 5 > b.length) return -1;
    v = u32At(b, p + 1);
    if (v < 0x10000) return -1;
    pos = p + 5;
  } else if (h === 0x1b && wide) {
    if (p + 9 > b.length) return -1;
    const hi = u32At(b, p + 1);
    // hi = 0 would fit in fewer bytes; hi > 2^21 - 1 is beyond the safe integers.
    if (hi === 0 || hi > 0x1f_ffff) return -1;
    v = hi * 0x1_0000_0000 + u32At(b, p + 5);
    pos = p + 9;
  } else return -1;
  return v;
}

/** A canonical definite array head at `pos` (counts below 65536; longer lists take the generic path); -1 otherwise. */
function readArrayHead(b: Uint8Array): number {
  const p = pos;
  const h = b[p];
  if (h >= 0x80 && h < 0x98) {
    pos = p + 1;
    return h - 0x80;
  }
  if (h === 0x98) {
    const n = b[p + 1];
    if (!(n >= 24)) return -1;
    pos = p + 2;
    return n;
  }
  if (h === 0x99 && p + 3 <= b.length) {
    const n = (b[p + 1] << 8) | b[p + 2];
    if (n < 0x100) return -1;
    pos = p + 3;
    return n;
  }
  return -1;
}

/** `0x58 0x20` and 32 bytes at `pos`: returns where the bytes start, -1 otherwise. */
function readHash(b: Uint8Array): number {
  const p = pos;
  if (b[p] !== 0x58 || b[p + 1] !== 32 || p + 34 > b.length) return -1;
  pos = p + 34;
  return p + 2;
}

function u32At(b: Uint8Array, p: number): number {
  return b[p] * 0x100_0000 + ((b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]);
}

/** Strictly ascending 32-byte strings at `a` < `c`. */
function ascending(b: Uint8Array, a: number, c: number): boolean {
  for (let i = 0; i < 32; i++) {
    const x = b[a + i];
    const y = b[c + i];
    if (x !== y) return x < y;
  }
  return false;
}

/** A plain copy (a Buffer's `slice` would be a view). */
function copyOf(b: Uint8Array, start: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = b[start + i];
  return out;
}
