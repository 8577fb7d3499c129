/**
 * What a webxdc app's topic carries. Operation bodies (persisted):
 * `[1, updateJson]` for a status update, `[2, index, count, sha, bytes]`
 * for a piece of the app's `.xdc` (when the app was shared from a chat).
 * Ephemeral bodies (realtime channel): `[3, messageId, index, count, bytes]`.
 * Everything from the network is checked here: CBOR within limits, the
 * update JSON parsed, its fields typed and bounded, the rest dropped.
 */
import { encode } from 'cborg';
import { decodeStrictCbor, WalkawayError, type CborLimits } from '../core/index.ts';

/** The largest serialized update object `sendUpdate` accepts (the spec's default `sendUpdateMaxSize`). */
export const SEND_UPDATE_MAX_SIZE = 128_000;
/** The largest realtime data item (the spec: "must not exceed 128000 bytes"). */
export const REALTIME_MAX_SIZE = 128_000;
/** Realtime data travels in pieces that fit an ephemeral message (16 KiB signed, src/node/ephemeral.ts). */
export const REALTIME_CHUNK = 12_000;
/** Pieces of a shared `.xdc`: operation bodies of at most this many bytes. */
export const ARCHIVE_CHUNK = 512 * 1024;
export const MAX_ARCHIVE_CHUNKS = 64;

const KIND_UPDATE = 1;
const KIND_ARCHIVE = 2;
const KIND_REALTIME = 3;

/** Text fields of an update, and how long each may be (the spec truncates for display; we bound for storage). */
const TEXT_FIELDS: Record<string, number> = { info: 1024, document: 1024, summary: 1024, href: 2048 };
const MAX_NOTIFY = 256;

const LIMITS: CborLimits = { maxItems: 8, maxDepth: 1, maxBytes: ARCHIVE_CHUNK + 256 };

export type TopicBody = { kind: 'update'; json: string; meta: UpdateMeta } | { kind: 'archive'; index: number; count: number; sha: Uint8Array; bytes: Uint8Array };

/** The fields the host shows beside the app (spec: info in the chat, document and summary by the icon). */
export interface UpdateMeta {
  info?: string;
  document?: string;
  summary?: string;
}

export function encodeUpdateBody(json: string): Uint8Array {
  return encode([KIND_UPDATE, json]);
}

export function encodeArchiveChunk(index: number, count: number, sha: Uint8Array, bytes: Uint8Array): Uint8Array {
  return encode([KIND_ARCHIVE, index, count, sha, bytes]);
}

export function encodeRealtimeChunk(messageId: number, index: number, count: number, bytes: Uint8Array): Uint8Array {
  return encode([KIND_REALTIME, messageId, index, count, bytes]);
}

/**
 * An update object as the app passed it to `sendUpdate`, as JSON text:
 * checked and normalized (only the spec's fields, each of its type and
 * length). Throws TOO_LARGE past SEND_UPDATE_MAX_SIZE bytes, and
 * INVALID_ARGUMENT for anything else wrong. Returns the JSON to publish.
 */
export function normalizeUpdate(text: string): { json: string; meta: UpdateMeta } {
  const size = Buffer.byteLength(text, 'utf8');
  if (size > SEND_UPDATE_MAX_SIZE) {
    throw new WalkawayError('TOO_LARGE', `the update is ${size} bytes, more than webxdc.sendUpdateMaxSize (${SEND_UPDATE_MAX_SIZE})`, {
      size,
      limit: SEND_UPDATE_MAX_SIZE,
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new WalkawayError('INVALID_ARGUMENT', 'the update is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new WalkawayError('INVALID_ARGUMENT', 'the update is not an object');
  const update = value as Record<string, unknown>;
  if (!('payload' in update) || update.payload === undefined) throw new WalkawayError('INVALID_ARGUMENT', 'update.payload is missing');
  const out: Record<string, unknown> = { payload: update.payload };
  const meta: UpdateMeta = {};
  for (const [field, max] of Object.entries(TEXT_FIELDS)) {
    const v = update[field];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string') throw new WalkawayError('INVALID_ARGUMENT', `update.${field} must be a string`);
    const clean = v.slice(0, max);
    out[field] = clean;
    if (field !== 'href') meta[field as keyof UpdateMeta] = clean;
  }
  if (update.notify !== undefined && update.notify !== null) {
    if (typeof update.notify !== 'object' || Array.isArray(update.notify))
      throw new WalkawayError('INVALID_ARGUMENT', 'update.notify must be an object of address: text');
    const notify: Record<string, string> = {};
    for (const [addr, note] of Object.entries(update.notify as Record<string, unknown>).slice(0, MAX_NOTIFY)) {
      if (typeof note === 'string' && addr.length <= 128) notify[addr] = note.slice(0, 1024);
    }
    out.notify = notify;
  }
  let json: string;
  try {
    json = JSON.stringify(out);
  } catch {
    // A payload nested past the stack (JSON.stringify recurses): refused, not a crash.
    throw new WalkawayError('INVALID_ARGUMENT', 'the update cannot be serialized');
  }
  const normalizedSize = Buffer.byteLength(json, 'utf8');
  if (normalizedSize > SEND_UPDATE_MAX_SIZE)
    throw new WalkawayError('TOO_LARGE', `the update is ${normalizedSize} bytes, more than webxdc.sendUpdateMaxSize (${SEND_UPDATE_MAX_SIZE})`);
  return { json, meta };
}

/** A topic's operation body, or undefined when it is none of ours or does not check out (dropped, never an error). */
export function decodeTopicBody(body: Uint8Array | undefined): TopicBody | undefined {
  if (!body || body.length > LIMITS.maxBytes!) return undefined;
  let value: unknown;
  try {
    value = decodeStrictCbor(body, 'webxdc body', LIMITS);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value)) return undefined;
  if (value[0] === KIND_UPDATE && value.length === 2 && typeof value[1] === 'string') {
    try {
      return { kind: 'update', ...normalizeUpdate(value[1]) };
    } catch {
      return undefined;
    }
  }
  if (value[0] === KIND_ARCHIVE && value.length === 5) {
    const [, index, count, sha, bytes] = value;
    if (!Number.isSafeInteger(count) || count < 1 || count > MAX_ARCHIVE_CHUNKS) return undefined;
    if (!Number.isSafeInteger(index) || index < 0 || index >= count) return undefined;
    if (!(sha instanceof Uint8Array) || sha.length !== 32 || !(bytes instanceof Uint8Array) || bytes.length > ARCHIVE_CHUNK) return undefined;
    return { kind: 'archive', index, count, sha, bytes };
  }
  return undefined;
}

export interface RealtimeChunk {
  messageId: number;
  index: number;
  count: number;
  bytes: Uint8Array;
}

const MAX_REALTIME_CHUNKS = Math.ceil(REALTIME_MAX_SIZE / REALTIME_CHUNK);
const REALTIME_LIMITS: CborLimits = { maxItems: 6, maxDepth: 1, maxBytes: REALTIME_CHUNK + 64 };

export function decodeRealtimeChunk(body: Uint8Array): RealtimeChunk | undefined {
  if (body.length > REALTIME_LIMITS.maxBytes!) return undefined;
  let value: unknown;
  try {
    value = decodeStrictCbor(body, 'realtime body', REALTIME_LIMITS);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value) || value.length !== 5 || value[0] !== KIND_REALTIME) return undefined;
  const [, messageId, index, count, bytes] = value;
  if (!Number.isSafeInteger(messageId) || messageId < 0 || messageId > 0xffffffff) return undefined;
  if (!Number.isSafeInteger(count) || count < 1 || count > MAX_REALTIME_CHUNKS) return undefined;
  if (!Number.isSafeInteger(index) || index < 0 || index >= count) return undefined;
  if (!(bytes instanceof Uint8Array) || bytes.length > REALTIME_CHUNK) return undefined;
  return { messageId, index, count, bytes };
}
