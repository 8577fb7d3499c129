/**
 * The messages of a sync session and their CBOR encoding: each message is a
 * definite-length array whose first item is a small integer tag. Decoding
 * treats every frame as hostile: strict CBOR, exact shapes, bounded sizes;
 * anything else is a typed WalkawayError, never an uncaught exception.
 */
import { encode as cborEncode } from 'cborg';
import { decodeStrictCbor, WalkawayError, type CborLimits, type Limits } from '../core/index.ts';
import { decodeNext, encodeNext, NEXT_TAG, type NextOperation } from './op-delta.ts';

/** 2: adds `Next` (compact operations, op-delta.ts); version 1 peers are refused at the handshake. */
export const SYNC_PROTOCOL_VERSION = 2;

/**
 * Most log heights in one `Have` message: a wire rule (senders split longer
 * lists, receivers refuse more with TOO_LARGE). 4096 entries of 74 bytes
 * make a frame of ~300 KB.
 */
export const MAX_HAVE_ENTRIES = 4096;

/**
 * What the generic decoder may build from one frame, checked while scanning,
 * before anything is built. Operations and `Have` lists, the only large
 * messages, are read by hand (`decodeOperationFast`, `decodeHaveFast`)
 * checking their shape as they go; every other message is at most 5 items.
 * The generic path still names the errors of a short non-canonical `Have`.
 */
export const SYNC_CBOR_LIMITS: CborLimits = { maxItems: 16, maxDepth: 3 };

/**
 * The largest message an honest peer sends under `limits`: an operation
 * with header and body at their limits (plus 11 bytes of CBOR heads), a fork
 * (two headers), or a full `Have` (74 bytes per entry). The default
 * `maxFrameBytes` of a session (~1 MiB + 8 KiB).
 */
export function maxMessageBytes(limits: Limits): number {
  const heads = 16;
  return Math.max(limits.maxHeaderBytes + limits.maxBodyBytes, 2 * limits.maxHeaderBytes, 74 * MAX_HAVE_ENTRIES) + heads;
}

/** The height of one log as announced in `Have`. */
export interface HaveEntry {
  author: Uint8Array;
  logId: Uint8Array;
  seqNum: number;
}

export type SyncMessage =
  /** Handshake: the initiator proposes, the acceptor confirms with its own. */
  | { type: 'hello'; version: number; topic: Uint8Array; live: boolean }
  /** Log heights of the topic, possibly over several messages (`last` ends it). */
  | { type: 'have'; logs: HaveEntry[]; last: boolean }
  | { type: 'presync'; operations: number; bytes: number }
  | { type: 'operation'; header: Uint8Array; body?: Uint8Array }
  /** The operation after the previous `operation`/`next` of this session in its log, compacted (op-delta.ts). */
  | ({ type: 'next' } & NextOperation)
  /** Fork evidence: two signed headers of one log at one seqNum. */
  | { type: 'fork'; headers: [Uint8Array, Uint8Array] }
  | { type: 'done' }
  | { type: 'live'; header: Uint8Array; body?: Uint8Array }
  /** Keeps an idle live session from looking stalled. */
  | { type: 'ping' }
  | { type: 'close'; code?: string; reason?: string };

export type SyncMessageType = SyncMessage['type'];

const TAGS: Record<SyncMessageType, number> = {
  hello: 0,
  have: 1,
  presync: 2,
  operation: 3,
  fork: 4,
  done: 5,
  live: 6,
  ping: 7,
  close: 8,
  next: NEXT_TAG,
};

const CBOR_OPTIONS = { useMaps: true };

const MAX_REASON = 1024;

export function encodeMessage(message: SyncMessage): Uint8Array {
  switch (message.type) {
    case 'operation':
    case 'live':
      return encodeOperation(TAGS[message.type], message.header, message.body);
    case 'next':
      return encodeNext(message);
    case 'hello':
      return cborEncode([TAGS.hello, message.version, message.topic, message.live]);
    case 'have':
      return cborEncode([TAGS.have, message.logs.map((l) => [l.author, l.logId, l.seqNum]), message.last]);
    case 'presync':
      return cborEncode([TAGS.presync, message.operations, message.bytes]);
    case 'fork':
      return cborEncode([TAGS.fork, message.headers[0], message.headers[1]]);
    case 'close': {
      const items: unknown[] = [TAGS.close];
      if (message.code !== undefined) items.push(message.code, (message.reason ?? '').slice(0, MAX_REASON));
      return cborEncode(items);
    }
    default:
      return cborEncode([TAGS[message.type]]);
  }
}

/** Encodes `[tag, header, body?]` by hand: the hot path of bulk sync. */
function encodeOperation(tag: number, header: Uint8Array, body?: Uint8Array): Uint8Array {
  const hasBody = body !== undefined && body.length > 0;
  const size = 2 + bstrHeadSize(header.length) + header.length + (hasBody ? bstrHeadSize(body.length) + body.length : 0);
  const out = new Uint8Array(size);
  out[0] = hasBody ? 0x83 : 0x82;
  out[1] = tag; // tags are < 24: one byte
  let offset = writeBstrHead(out, 2, header.length);
  out.set(header, offset);
  offset += header.length;
  if (hasBody) {
    offset = writeBstrHead(out, offset, body.length);
    out.set(body, offset);
  }
  return out;
}

function bstrHeadSize(length: number): number {
  return length < 24 ? 1 : length < 0x100 ? 2 : length < 0x10000 ? 3 : 5;
}

function writeBstrHead(out: Uint8Array, offset: number, length: number): number {
  if (length < 24) {
    out[offset] = 0x40 + length;
    return offset + 1;
  }
  if (length < 0x100) {
    out[offset] = 0x58;
    out[offset + 1] = length;
    return offset + 2;
  }
  if (length < 0x10000) {
    out[offset] = 0x59;
    out[offset + 1] = length >>> 8;
    out[offset + 2] = length & 0xff;
    return offset + 3;
  }
  out[offset] = 0x5a;
  new DataView(out.buffer, out.byteOffset + offset + 1, 4).setUint32(0, length);
  return offset + 5;
}

/** Limits that shape what a message may hold. */
export interface MessageLimits {
  /** Most log heights in one `Have` message (at most MAX_HAVE_ENTRIES). */
  maxHaveEntries: number;
}

/** Decodes one frame. Throws MALFORMED (bad CBOR or shape) or PROTOCOL (unknown message). */
export function decodeMessage(frame: Uint8Array, limits: MessageLimits): SyncMessage {
  const head = frame[0];
  if ((head === 0x82 || head === 0x83) && (frame[1] === TAGS.operation || frame[1] === TAGS.live)) {
    const fast = decodeOperationFast(frame, head === 0x83);
    if (fast) return fast;
  }
  if ((head === 0x84 || head === 0x85) && frame[1] === TAGS.next) return { type: 'next', ...decodeNext(frame) };
  if (head === 0x83 && frame[1] === TAGS.have) {
    const have = decodeHaveFast(frame, Math.min(limits.maxHaveEntries, MAX_HAVE_ENTRIES));
    if (have) return have;
  }
  const value = decodeStrictCbor(frame, 'sync frame', SYNC_CBOR_LIMITS, CBOR_OPTIONS);
  if (!Array.isArray(value) || value.length === 0 || !isUint(value[0])) {
    throw new WalkawayError('MALFORMED', 'a sync message is an array starting with an unsigned tag');
  }
  const [tag] = value;
  switch (tag) {
    case TAGS.operation:
    case TAGS.live: {
      arity(value, 2, 3);
      const header = bytes(value[1], 'header');
      const body = value.length === 3 ? bytes(value[2], 'body') : undefined;
      return { type: tag === TAGS.live ? 'live' : 'operation', header, body };
    }
    case TAGS.hello:
      arity(value, 4, 4);
      return { type: 'hello', version: uint(value[1], 'version'), topic: bytes(value[2], 'topic', 32), live: bool(value[3], 'live') };
    case TAGS.have:
      arity(value, 3, 3);
      return { type: 'have', logs: haveEntries(value[1], Math.min(limits.maxHaveEntries, MAX_HAVE_ENTRIES)), last: bool(value[2], 'last') };
    case TAGS.presync:
      arity(value, 3, 3);
      return { type: 'presync', operations: uint(value[1], 'operations'), bytes: uint(value[2], 'bytes') };
    case TAGS.fork:
      arity(value, 3, 3);
      return { type: 'fork', headers: [bytes(value[1], 'header'), bytes(value[2], 'header')] };
    case TAGS.done:
      arity(value, 1, 1);
      return { type: 'done' };
    case TAGS.ping:
      arity(value, 1, 1);
      return { type: 'ping' };
    case TAGS.close:
      if (value.length === 1) return { type: 'close' };
      arity(value, 3, 3);
      return { type: 'close', code: text(value[1], 'code'), reason: text(value[2], 'reason') };
    case TAGS.next:
      throw malformed('a next message is [9, signature, timestampDelta, ext, body?]');
    default:
      throw new WalkawayError('PROTOCOL', `unknown sync message tag ${tag}`, { tag });
  }
}

/**
 * The hot path of bulk sync without a generic CBOR decoder: accepts exactly
 * the canonical bytes `encodeOperation` writes (shortest lengths, nothing
 * after). Anything else returns undefined and goes through the strict
 * decoder, which names the error.
 */
function decodeOperationFast(received: Uint8Array, hasBody: boolean): SyncMessage | undefined {
  // One copy of the frame: what is kept pins this frame only, not the socket chunk.
  const frame = new Uint8Array(received);
  const header = readBstr(frame, 2);
  if (!header) return undefined;
  let end = header.end;
  let body: Uint8Array | undefined;
  if (hasBody) {
    const b = readBstr(frame, end);
    if (!b) return undefined;
    body = b.value;
    end = b.end;
  }
  if (end !== frame.length) return undefined;
  return { type: frame[1] === TAGS.live ? 'live' : 'operation', header: header.value, body };
}

/**
 * `[1, [[author, logId, seqNum]...], last]` exactly as `encodeMessage`
 * writes it (shortest heads, 32-byte strings, u32 seqNum), read without a
 * generic decoder: no work beyond the bytes of honest entries. A list over
 * `max` is TOO_LARGE as soon as its head is read; any other deviation
 * returns undefined and the generic decoder (small budget) names the error.
 */
function decodeHaveFast(frame: Uint8Array, max: number): SyncMessage | undefined {
  let p = 2;
  const h = frame[p];
  let n: number;
  if (h >= 0x80 && h < 0x98) {
    n = h - 0x80;
    p += 1;
  } else if (h === 0x98 && frame[p + 1] >= 24) {
    n = frame[p + 1];
    p += 2;
  } else if (h === 0x99 && p + 3 <= frame.length && ((frame[p + 1] << 8) | frame[p + 2]) >= 0x100) {
    n = (frame[p + 1] << 8) | frame[p + 2];
    p += 3;
  } else if (h === 0x9a || h === 0x9b) {
    n = Infinity;
  } else return undefined;
  if (n > max) {
    throw new WalkawayError('TOO_LARGE', `have message with ${n} logs, limit ${max}`, { size: n, limit: max });
  }
  // Each entry is 1 + 34 + 34 + (1..5) bytes: the count must fit the frame.
  if (n * 70 + 1 > frame.length - p) return undefined;
  const logs: HaveEntry[] = [];
  for (let i = 0; i < n; i++) {
    if (frame[p] !== 0x83 || frame[p + 1] !== 0x58 || frame[p + 2] !== 32 || frame[p + 35] !== 0x58 || frame[p + 36] !== 32) return undefined;
    // Copies (a Buffer's slice would be a view pinning the frame).
    const author = new Uint8Array(frame.subarray(p + 3, p + 35));
    const logId = new Uint8Array(frame.subarray(p + 37, p + 69));
    p += 69;
    const b = frame[p];
    let seqNum: number;
    if (b < 24) {
      seqNum = b;
      p += 1;
    } else if (b === 0x18 && frame[p + 1] >= 24) {
      seqNum = frame[p + 1];
      p += 2;
    } else if (b === 0x19 && p + 3 <= frame.length && ((frame[p + 1] << 8) | frame[p + 2]) >= 0x100) {
      seqNum = (frame[p + 1] << 8) | frame[p + 2];
      p += 3;
    } else if (b === 0x1a && p + 5 <= frame.length) {
      seqNum = frame[p + 1] * 0x100_0000 + ((frame[p + 2] << 16) | (frame[p + 3] << 8) | frame[p + 4]);
      if (seqNum < 0x10000) return undefined;
      p += 5;
    } else return undefined;
    logs.push({ author, logId, seqNum });
  }
  const last = frame[p];
  if ((last !== 0xf4 && last !== 0xf5) || p + 1 !== frame.length) return undefined;
  return { type: 'have', logs, last: last === 0xf5 };
}

function readBstr(frame: Uint8Array, offset: number): { value: Uint8Array; end: number } | undefined {
  const b = frame[offset];
  let length: number;
  let start: number;
  if (b >= 0x40 && b < 0x58) {
    length = b - 0x40;
    start = offset + 1;
  } else if (b === 0x58) {
    length = frame[offset + 1];
    start = offset + 2;
    if (!(length >= 24)) return undefined;
  } else if (b === 0x59) {
    length = (frame[offset + 1] << 8) | frame[offset + 2];
    start = offset + 3;
    if (!(length >= 0x100)) return undefined;
  } else return undefined;
  const end = start + length;
  if (end > frame.length) return undefined;
  return { value: frame.subarray(start, end), end };
}

function haveEntries(value: unknown, max: number): HaveEntry[] {
  if (!Array.isArray(value)) throw malformed('have.logs must be an array');
  if (value.length > max) {
    throw new WalkawayError('TOO_LARGE', `have message with ${value.length} logs, limit ${max}`, { size: value.length, limit: max });
  }
  return value.map((item: unknown) => {
    if (!Array.isArray(item) || item.length !== 3) throw malformed('a have entry is [author, logId, seqNum]');
    return { author: bytes(item[0], 'author', 32), logId: bytes(item[1], 'logId', 32), seqNum: u32(item[2], 'seqNum') };
  });
}

function arity(value: unknown[], min: number, max: number): void {
  if (value.length < min || value.length > max) {
    throw malformed(`message tag ${value[0]} has ${value.length} items, expected ${min === max ? min : `${min}..${max}`}`);
  }
}

function bytes(value: unknown, name: string, length?: number): Uint8Array {
  if (!(value instanceof Uint8Array)) throw malformed(`${name} must be a byte string`);
  if (length !== undefined && value.length !== length) throw malformed(`${name} must be ${length} bytes, got ${value.length}`);
  return value;
}

function uint(value: unknown, name: string): number {
  if (!isUint(value)) throw malformed(`${name} must be an unsigned integer`);
  return value;
}

function u32(value: unknown, name: string): number {
  const n = uint(value, name);
  if (n > 0xffff_ffff) throw malformed(`${name} must fit in 32 bits`);
  return n;
}

function bool(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') throw malformed(`${name} must be a boolean`);
  return value;
}

function text(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.length > MAX_REASON) throw malformed(`${name} must be a short text string`);
  return value;
}

function isUint(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function malformed(message: string): WalkawayError {
  return new WalkawayError('MALFORMED', message);
}
