/**
 * A hand-written encoder of the header shapes this stack signs: writes the
 * same canonical CBOR as the generic path (`encodeHeaderGeneric`: cborg over
 * the field array), into one exactly sized array. cborg builds a token list
 * and grows chunked buffers per call: on a publish, right after a wait for
 * the disk, that cost several times the microseconds it does in a tight loop.
 * Anything outside the common shape (a field that is not an unsigned safe
 * integer or a byte array, unknown extensions, a missing hash) returns
 * `undefined`, and the caller takes the generic path, which decides and names
 * the error. test/core/header-encode.test.ts compares both on random headers.
 */
import { compareBytes } from './bytes.ts';
import type { Extensions } from './extensions.ts';
import type { Hash } from './hash.ts';
import type { UnsignedHeader } from './header.ts';

/** Write position of the helpers below (module state: no closure per field). */
let pos = 0;

export function encodeHeaderFast(header: UnsignedHeader, signature?: Uint8Array): Uint8Array | undefined {
  const { version, payloadSize, seqNum, extensions } = header;
  const key = header.publicKey?.bytes;
  const payloadHash = payloadSize > 0 ? header.payloadHash?.bytes : undefined;
  const backlink = seqNum > 0 ? header.backlink?.bytes : undefined;
  if (!isUint(version) || !isUint(payloadSize) || !isUint(seqNum) || !isBytes(key)) return undefined;
  if (signature !== undefined && !isBytes(signature)) return undefined;
  if ((payloadSize > 0 && !isBytes(payloadHash)) || (seqNum > 0 && !isBytes(backlink))) return undefined;
  let previous: Hash[] | undefined;
  let count = 4;
  let size = 1 + uintSize(version) + bytesSize(key) + uintSize(payloadSize) + uintSize(seqNum);
  if (signature) size += bytesSize(signature);
  if (payloadHash) size += bytesSize(payloadHash);
  if (backlink) size += bytesSize(backlink);
  count += (signature ? 1 : 0) + (payloadHash ? 1 : 0) + (backlink ? 1 : 0);
  if (extensions) {
    const ext = extensionSize(extensions);
    if (ext < 0) return undefined;
    count++;
    size += ext;
    if (extensions.variant === 'causal') previous = sortedPrevious(extensions.previous);
  }
  const out = new Uint8Array(size);
  out[0] = 0x80 + count;
  pos = 1;
  writeUint(out, 0, version);
  writeBytes(out, key);
  if (signature) writeBytes(out, signature);
  writeUint(out, 0, payloadSize);
  if (payloadHash) writeBytes(out, payloadHash);
  writeUint(out, 0, seqNum);
  if (backlink) writeBytes(out, backlink);
  if (extensions && extensions.variant !== 'unknown') {
    // [1, variant, logId, timestamp, pruneFlag | previous]
    out[pos] = 0x85;
    out[pos + 1] = 0x01;
    out[pos + 2] = extensions.variant === 'basic' ? 0 : 1;
    pos += 3;
    writeBytes(out, extensions.logId);
    writeUint(out, 0, extensions.timestamp);
    if (extensions.variant === 'basic') out[pos++] = extensions.pruneFlag === true ? 0xf5 : 0xf4;
    else {
      writeUint(out, 0x80, previous!.length);
      for (const h of previous!) writeBytes(out, h.bytes);
    }
  }
  return out;
}

/** Bytes of the extensions array; -1 for anything the generic path must decide (its errors included). */
function extensionSize(ext: Extensions): number {
  if (ext.variant === 'unknown') return -1;
  const { logId, timestamp } = ext;
  if (!isBytes(logId) || logId.length !== 32 || !isUint(timestamp)) return -1;
  const head = 3 + bytesSize(logId) + uintSize(timestamp);
  if (ext.variant === 'basic') return head + 1;
  if (ext.variant !== 'causal' || !Array.isArray(ext.previous)) return -1;
  let size = head + uintSize(ext.previous.length);
  for (const h of ext.previous) {
    if (!isBytes(h?.bytes) || h.bytes.length !== 32) return -1;
    size += 34;
  }
  // Duplicates are dropped by the sort below: recount from the sorted list.
  return size - 34 * (ext.previous.length - sortedPrevious(ext.previous).length);
}

/** `previous` sorted and de-duplicated, as `sortPrevious`; the list itself when it already is. */
function sortedPrevious(previous: Hash[]): Hash[] {
  for (let i = 1; i < previous.length; i++) {
    if (compareBytes(previous[i - 1].bytes, previous[i].bytes) >= 0) {
      const sorted = [...previous].sort((a, b) => compareBytes(a.bytes, b.bytes));
      return sorted.filter((h, j) => j === 0 || compareBytes(h.bytes, sorted[j - 1].bytes) !== 0);
    }
  }
  return previous;
}

function isUint(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function isBytes(v: unknown): v is Uint8Array {
  return v instanceof Uint8Array;
}

function uintSize(v: number): number {
  return v < 24 ? 1 : v < 0x100 ? 2 : v < 0x1_0000 ? 3 : v < 0x1_0000_0000 ? 5 : 9;
}

function bytesSize(b: Uint8Array): number {
  return uintSize(b.length) + b.length;
}

/** A head of major type `major` (0x00 uint, 0x40 bytes, 0x80 array) with the shortest argument `v`. */
function writeUint(out: Uint8Array, major: number, v: number): void {
  let p = pos;
  if (v < 24) out[p++] = major | v;
  else if (v < 0x100) {
    out[p++] = major | 0x18;
    out[p++] = v;
  } else if (v < 0x1_0000) {
    out[p++] = major | 0x19;
    out[p++] = v >>> 8;
    out[p++] = v & 0xff;
  } else if (v < 0x1_0000_0000) {
    out[p++] = major | 0x1a;
    p = u32(out, p, v);
  } else {
    out[p++] = major | 0x1b;
    p = u32(out, p, Math.floor(v / 0x1_0000_0000));
    p = u32(out, p, v >>> 0);
  }
  pos = p;
}

function u32(out: Uint8Array, p: number, v: number): number {
  out[p] = v >>> 24;
  out[p + 1] = (v >>> 16) & 0xff;
  out[p + 2] = (v >>> 8) & 0xff;
  out[p + 3] = v & 0xff;
  return p + 4;
}

function writeBytes(out: Uint8Array, b: Uint8Array): void {
  writeUint(out, 0x40, b.length);
  out.set(b, pos);
  pos += b.length;
}
