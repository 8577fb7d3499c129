/**
 * Compact operations (sync protocol 2): within a session, an operation that
 * follows the previous operation message in its log (same author and log,
 * seqNum + 1, backlink = hash of the previous) travels as `Next`: only its
 * signature, the timestamp delta, its prune flag or `previous` list (the
 * backlink hash written as null) and its body. The receiver rebuilds the
 * exact signed header bytes from the previous operation and the body
 * (publicKey, logId, seqNum, backlink, payloadSize, payloadHash), then
 * treats them as if they had come whole: strict decode, hash, signature and
 * the store's rules, unchanged. The sender sends `Next` only when the
 * rebuilt bytes equal the stored ones, so nothing changes for the store.
 *
 * Wire: `[9, signature (64 bytes), timestampDelta (uint), ext, body?]`,
 * ext = false | true (basic extensions, prune flag) or an array of at most
 * MAX_PREVIOUS items, each a 32-byte hash or null (causal, previous).
 */
import { bytesEqual, Hash, MAX_PREVIOUS, SIGNATURE_LENGTH, WalkawayError, type Operation } from '../core/index.ts';

/** One `previous` item of a compact causal header: a hash, or null for the backlink (the previous operation's hash). */
export type PreviousRef = Uint8Array | null;

export interface NextOperation {
  signature: Uint8Array;
  timestampDelta: number;
  /** Basic extensions: the prune flag. Causal: the previous list. */
  ext: boolean | PreviousRef[];
  body?: Uint8Array;
}

export const NEXT_TAG = 9;
const U32_MAX = 0xffff_ffff;

/**
 * The compact form of `op` after `prev`, when the receiver can rebuild the
 * exact header from it; otherwise undefined (send the whole operation).
 */
export function compactOf(prev: Operation | undefined, op: Operation): NextOperation | undefined {
  if (!prev) return undefined;
  const h = op.header;
  const p = prev.header;
  const ext = h.extensions;
  const pext = p.extensions;
  if (h.seqNum !== p.seqNum + 1 || !h.backlink?.equals(prev.hash) || !h.publicKey.equals(p.publicKey)) return undefined;
  if (!ext || ext.variant === 'unknown' || !pext || pext.variant === 'unknown' || !bytesEqual(ext.logId, pext.logId)) return undefined;
  if (ext.timestamp < pext.timestamp) return undefined;
  // The body gives payloadSize and payloadHash: it must be there exactly when the payload is.
  if (h.payloadSize > 0 ? op.body?.length !== h.payloadSize : op.body !== undefined && op.body.length > 0) return undefined;
  const next: NextOperation = {
    signature: h.signature,
    timestampDelta: ext.timestamp - pext.timestamp,
    ext: ext.variant === 'basic' ? ext.pruneFlag : ext.previous.map((hash) => (hash.equals(prev.hash) ? null : hash.bytes)),
    body: h.payloadSize > 0 ? op.body : undefined,
  };
  const rebuilt = rebuildHeader(prev, next, h.payloadHash?.bytes);
  return bytesEqual(rebuilt, op.headerBytes) ? next : undefined;
}

/**
 * The signed header bytes `next` stands for after `prev`. `payloadHash` is
 * the hash of `next.body` (the receiver computes it). Throws PROTOCOL when
 * `prev` has no extensions to continue, MALFORMED when a field overflows;
 * whatever it returns still goes through the strict header decoder.
 */
export function rebuildHeader(prev: Operation, next: NextOperation, payloadHash?: Uint8Array): Uint8Array {
  const p = prev.header;
  const pext = p.extensions;
  if (!pext || pext.variant === 'unknown') {
    throw new WalkawayError('PROTOCOL', 'a compact operation must follow an operation with known extensions');
  }
  const seqNum = p.seqNum + 1;
  const timestamp = pext.timestamp + next.timestampDelta;
  if (seqNum > U32_MAX) throw new WalkawayError('MALFORMED', 'a compact operation after seqNum 2^32 - 1');
  if (!Number.isSafeInteger(timestamp)) throw new WalkawayError('MALFORMED', 'a compact operation timestamp overflows');
  const payloadSize = next.body?.length ?? 0;
  if (payloadSize > 0 && payloadHash?.length !== 32) throw new WalkawayError('INVALID_ARGUMENT', 'rebuilding a header with a body needs its payload hash');
  const previous = typeof next.ext === 'boolean' ? undefined : next.ext;
  const w = new Writer(250 + (previous ? previous.length * 34 : 0));
  w.byte(payloadSize > 0 ? 0x88 : 0x87);
  w.byte(0x01);
  w.bytes32(p.publicKey.bytes);
  w.byte(0x58);
  w.byte(SIGNATURE_LENGTH);
  w.raw(next.signature);
  w.uint(payloadSize);
  if (payloadSize > 0) w.bytes32(payloadHash!);
  w.uint(seqNum);
  w.bytes32(prev.hash.bytes);
  w.byte(0x85);
  w.byte(0x01);
  w.byte(previous ? 0x01 : 0x00);
  w.bytes32(pext.logId);
  w.uint(timestamp);
  if (!previous) w.byte(next.ext === true ? 0xf5 : 0xf4);
  else {
    w.arrayHead(previous.length);
    for (const ref of previous) w.bytes32(ref ?? prev.hash.bytes);
  }
  return w.done();
}

/** Encodes `[9, signature, timestampDelta, ext, body?]` canonically. */
export function encodeNext(next: NextOperation): Uint8Array {
  const hasBody = next.body !== undefined && next.body.length > 0;
  const previous = typeof next.ext === 'boolean' ? undefined : next.ext;
  const w = new Writer(90 + (previous ? previous.length * 34 : 0) + (hasBody ? next.body!.length + 5 : 0));
  w.byte(hasBody ? 0x85 : 0x84);
  w.byte(NEXT_TAG);
  w.byte(0x58);
  w.byte(SIGNATURE_LENGTH);
  w.raw(next.signature);
  w.uint(next.timestampDelta);
  if (!previous) w.byte(next.ext === true ? 0xf5 : 0xf4);
  else {
    w.arrayHead(previous.length);
    for (const ref of previous) {
      if (ref === null) w.byte(0xf6);
      else w.bytes32(ref);
    }
  }
  if (hasBody) w.bstr(next.body!);
  return w.done();
}

/**
 * Decodes a `Next` frame, accepting only what `encodeNext` writes (shortest
 * heads, exact lengths, nothing after). Bounded: the previous list's count is
 * checked against MAX_PREVIOUS (TOO_LARGE) and the frame's length before a
 * single item is read; everything else is MALFORMED.
 */
export function decodeNext(received: Uint8Array): NextOperation {
  // One copy: what is kept pins this frame only, not the socket chunk.
  const f = new Uint8Array(received);
  const r = new Reader(f);
  const head = r.byte();
  if ((head !== 0x84 && head !== 0x85) || r.byte() !== NEXT_TAG) throw malformed('a next message is [9, signature, timestampDelta, ext, body?]');
  const signature = r.bstr();
  if (signature.length !== SIGNATURE_LENGTH) throw malformed('next.signature must be 64 bytes');
  const timestampDelta = r.uint();
  let ext: boolean | PreviousRef[];
  const e = f[r.at];
  if (e === 0xf4 || e === 0xf5) {
    r.at++;
    ext = e === 0xf5;
  } else if (e >= 0x80 && e <= 0x97) {
    r.at++;
    const n = e - 0x80;
    if (n > MAX_PREVIOUS) throw new WalkawayError('TOO_LARGE', `previous names ${n} operations, limit ${MAX_PREVIOUS}`, { size: n, limit: MAX_PREVIOUS });
    ext = [];
    for (let i = 0; i < n; i++) {
      if (f[r.at] === 0xf6) {
        r.at++;
        ext.push(null);
      } else {
        const hash = r.bstr();
        if (hash.length !== 32) throw malformed('a previous item is a 32-byte hash or null');
        ext.push(hash);
      }
    }
  } else if (e === 0x98) {
    throw new WalkawayError('TOO_LARGE', `previous list over ${MAX_PREVIOUS} items`, { limit: MAX_PREVIOUS });
  } else throw malformed('next.ext must be a boolean or an array of previous hashes');
  let body: Uint8Array | undefined;
  if (head === 0x85) {
    body = r.bstr();
    if (body.length === 0) throw malformed('next.body is left out when empty');
  }
  if (r.at !== f.length) throw malformed('bytes after a next message');
  return { signature, timestampDelta, ext, body };
}

/** The header a compact operation stands for, hashing its body for the payload hash. */
export function headerOfNext(prev: Operation, next: NextOperation): Uint8Array {
  return rebuildHeader(prev, next, next.body && Hash.digest(next.body).bytes);
}

function malformed(message: string): WalkawayError {
  return new WalkawayError('MALFORMED', message);
}

/** A canonical CBOR writer over a buffer that grows when needed. */
class Writer {
  #buf: Uint8Array;
  #at = 0;

  constructor(size: number) {
    this.#buf = new Uint8Array(size);
  }

  #room(n: number): void {
    if (this.#at + n <= this.#buf.length) return;
    const grown = new Uint8Array(Math.max(this.#buf.length * 2, this.#at + n));
    grown.set(this.#buf.subarray(0, this.#at));
    this.#buf = grown;
  }

  byte(b: number): void {
    this.#room(1);
    this.#buf[this.#at++] = b;
  }

  raw(bytes: Uint8Array): void {
    this.#room(bytes.length);
    this.#buf.set(bytes, this.#at);
    this.#at += bytes.length;
  }

  bytes32(bytes: Uint8Array): void {
    this.byte(0x58);
    this.byte(32);
    this.raw(bytes);
  }

  bstr(bytes: Uint8Array): void {
    this.#head(0x40, bytes.length);
    this.raw(bytes);
  }

  uint(n: number): void {
    this.#head(0x00, n);
  }

  arrayHead(n: number): void {
    this.#head(0x80, n);
  }

  #head(major: number, n: number): void {
    if (n < 24) return this.byte(major + n);
    if (n < 0x100) {
      this.byte(major + 24);
      return this.byte(n);
    }
    if (n < 0x10000) {
      this.byte(major + 25);
      this.byte(n >>> 8);
      return this.byte(n & 0xff);
    }
    if (n <= U32_MAX) {
      this.byte(major + 26);
      for (let s = 24; s >= 0; s -= 8) this.byte((n >>> s) & 0xff);
      return;
    }
    this.byte(major + 27);
    const hi = Math.floor(n / 2 ** 32);
    const lo = n >>> 0;
    for (let s = 24; s >= 0; s -= 8) this.byte((hi >>> s) & 0xff);
    for (let s = 24; s >= 0; s -= 8) this.byte((lo >>> s) & 0xff);
  }

  done(): Uint8Array {
    return this.#buf.subarray(0, this.#at);
  }
}

/** Reads canonical CBOR heads; any short or non-shortest head is MALFORMED. */
class Reader {
  at = 0;
  readonly #f: Uint8Array;

  constructor(f: Uint8Array) {
    this.#f = f;
  }

  byte(): number {
    if (this.at >= this.#f.length) throw malformed('a next message ends early');
    return this.#f[this.at++];
  }

  /** The argument of a head of `major` type, shortest form only, at most 2^53 - 1. */
  #arg(major: number): number {
    const b = this.byte();
    if (b >> 5 !== major >> 5) throw malformed('unexpected CBOR type in a next message');
    const info = b & 0x1f;
    if (info < 24) return info;
    const size = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : info === 27 ? 8 : 0;
    if (size === 0) throw malformed('indefinite or reserved CBOR head in a next message');
    let n = 0;
    for (let i = 0; i < size; i++) n = n * 256 + this.byte();
    const min = size === 1 ? 24 : size === 2 ? 0x100 : size === 4 ? 0x10000 : 2 ** 32;
    if (n < min) throw malformed('non-shortest CBOR head in a next message');
    if (!Number.isSafeInteger(n)) throw malformed('integer over 2^53 - 1 in a next message');
    return n;
  }

  uint(): number {
    return this.#arg(0x00);
  }

  bstr(): Uint8Array {
    const n = this.#arg(0x40);
    if (n > this.#f.length - this.at) throw malformed('a byte string runs past the end of a next message');
    const out = this.#f.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
}
