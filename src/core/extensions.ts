/**
 * The versioned extensions array `[1, variant, ...]` (DESIGN.md, core):
 * variant 0 "basic" `[1, 0, logId, timestamp, pruneFlag]`, variant 1 "causal"
 * `[1, 1, logId, timestamp, previous]`. Known fields are always present and
 * canonical; extra trailing fields are tolerated (forward compatibility); an
 * unknown version or variant decodes to `{ variant: 'unknown' }`.
 */
import { compareBytes } from './bytes.ts';
import { WalkawayError } from './errors.ts';
import { Hash, HASH_LENGTH } from './hash.ts';
import { MAX_PREVIOUS } from './limits.ts';

export const EXTENSIONS_VERSION = 1;
export const VARIANT_BASIC = 0;
export const VARIANT_CAUSAL = 1;

export interface BasicExtensions {
  variant: 'basic';
  logId: Uint8Array;
  /** Microseconds since the Unix epoch. */
  timestamp: number;
  pruneFlag: boolean;
}

export interface CausalExtensions {
  variant: 'causal';
  logId: Uint8Array;
  timestamp: number;
  /** Operation hashes (any author) this one depends on; sorted and unique. */
  previous: Hash[];
}

export interface UnknownExtensions {
  variant: 'unknown';
  version: number;
  variantId: number;
}

export type Extensions = BasicExtensions | CausalExtensions | UnknownExtensions;

/** The log of an operation without extensions. */
export const DEFAULT_LOG_ID = new Uint8Array(32);

export function nowMicros(): number {
  return Date.now() * 1000;
}

/** Sorted, de-duplicated copy: equal dependencies give equal bytes. */
export function sortPrevious(previous: Hash[]): Hash[] {
  const sorted = [...previous].sort((a, b) => compareBytes(a.bytes, b.bytes));
  return sorted.filter((h, i) => i === 0 || !h.equals(sorted[i - 1]));
}

export function extensionsToCbor(ext: Extensions): unknown[] {
  if (ext.variant === 'unknown') {
    throw new WalkawayError('INVALID_ARGUMENT', 'cannot encode unknown extensions');
  }
  checkLogId(ext.logId);
  checkTimestamp(ext.timestamp);
  if (ext.variant === 'basic') {
    return [EXTENSIONS_VERSION, VARIANT_BASIC, ext.logId, ext.timestamp, ext.pruneFlag === true];
  }
  return [EXTENSIONS_VERSION, VARIANT_CAUSAL, ext.logId, ext.timestamp, sortPrevious(ext.previous).map((h) => h.bytes)];
}

/** `trusted`: bytes this process checked before (its store), decoded under the rules they came in with. */
export function extensionsFromCbor(value: unknown, trusted = false): Extensions {
  if (!Array.isArray(value) || value.length < 2) malformed('extensions must be an array [version, variant, ...]');
  const [version, variantId] = value;
  if (!isUint(version) || !isUint(variantId)) malformed('extensions version and variant must be unsigned integers');
  if (version !== EXTENSIONS_VERSION || (variantId !== VARIANT_BASIC && variantId !== VARIANT_CAUSAL)) {
    return { variant: 'unknown', version, variantId };
  }
  if (value.length < 5) malformed(`extensions variant ${variantId} needs 5 fields, got ${value.length}`);
  const logId = value[2];
  const timestamp = value[3];
  if (!(logId instanceof Uint8Array) || logId.length !== 32) malformed('extensions logId must be 32 bytes');
  if (!isUint(timestamp)) malformed('extensions timestamp must be an unsigned integer (microseconds)');
  if (variantId === VARIANT_BASIC) {
    if (typeof value[4] !== 'boolean') malformed('extensions pruneFlag must be a boolean');
    return { variant: 'basic', logId, timestamp, pruneFlag: value[4] };
  }
  return { variant: 'causal', logId, timestamp, previous: decodePrevious(value[4], trusted) };
}

function decodePrevious(value: unknown, trusted: boolean): Hash[] {
  if (!Array.isArray(value)) malformed('extensions previous must be an array of hashes');
  if (!trusted && value.length > MAX_PREVIOUS) {
    throw new WalkawayError('TOO_LARGE', `previous names ${value.length} operations, limit ${MAX_PREVIOUS}`, {
      size: value.length,
      limit: MAX_PREVIOUS,
    });
  }
  const out: Hash[] = [];
  for (let i = 0; i < value.length; i++) {
    const item = value[i];
    if (!(item instanceof Uint8Array) || item.length !== HASH_LENGTH) malformed(`previous[${i}] must be a 32-byte hash`);
    if (i > 0 && compareBytes(value[i - 1], item) >= 0) malformed('previous must be sorted and unique');
    out.push(Hash.fromBytes(item));
  }
  return out;
}

function checkLogId(logId: unknown): void {
  if (!(logId instanceof Uint8Array) || logId.length !== 32) {
    throw new WalkawayError('INVALID_ARGUMENT', 'logId must be 32 bytes');
  }
}

function checkTimestamp(ts: unknown): void {
  if (!isUint(ts)) throw new WalkawayError('INVALID_ARGUMENT', 'timestamp must be a non-negative safe integer (microseconds)');
}

export function isUint(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function malformed(message: string): never {
  throw new WalkawayError('MALFORMED', message);
}
