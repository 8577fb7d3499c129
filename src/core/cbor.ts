/**
 * Strict CBOR decoding of hostile bytes: definite lengths, shortest
 * integers, no undefined/NaN/Infinity, no duplicate map keys; any failure
 * is a typed error naming what was being decoded.
 *
 * cborg builds every value before we can look at it, so a frame of 2 MiB of
 * empty maps used to cost seconds and hundreds of MB. `scanCbor` walks the
 * item heads first, without building anything, linear in the bytes and
 * stopping at the first item over the budget or container over the depth
 * cap; only input that passes is handed to cborg. Every decoder of remote
 * input passes limits sized to what an honest message needs
 * (docs/interfaces.md, "Decoder limits").
 */
import { decode } from 'cborg';
import { WalkawayError } from './errors.ts';

export const STRICT_CBOR = {
  strict: true,
  allowIndefinite: false,
  allowUndefined: false,
  allowNaN: false,
  allowInfinity: false,
  rejectDuplicateMapKeys: true,
};

export interface CborLimits {
  /** Most data items (every array, map, key, value, string, number counts one). */
  maxItems: number;
  /** Most nested containers (arrays, maps, tags); a flat array is depth 1. */
  maxDepth: number;
  /** Most input bytes; unlimited when absent (the caller's frame limit applies). */
  maxBytes?: number;
}

const NO_OPTIONS: Record<string, unknown> = {};

/** For callers that name no limits of their own. */
export const DEFAULT_CBOR_LIMITS: CborLimits = { maxItems: 4096, maxDepth: 16 };

/**
 * Checks the item structure of one CBOR data item filling `bytes` exactly,
 * within `limits`, building nothing. Throws TOO_LARGE (budget, depth, size)
 * or MALFORMED (truncated, reserved or indefinite heads, trailing bytes).
 * Work is at most one step per item head, and stops at the budget.
 */
export function scanCbor(bytes: Uint8Array, what: string, limits: CborLimits): void {
  const len = bytes.length;
  if (limits.maxBytes !== undefined && len > limits.maxBytes) {
    throw tooLarge(what, `${len} bytes, limit ${limits.maxBytes}`, { size: len, limit: limits.maxBytes, unit: 'bytes' });
  }
  // Items still expected by each open container, innermost last.
  const open: number[] = [];
  let pos = 0;
  let items = 0;
  do {
    if (pos >= len) throw malformed(what, 'ends inside an item');
    const initial = bytes[pos++];
    const major = initial >> 5;
    const info = initial & 0x1f;
    let arg: number;
    if (info < 24) arg = info;
    else if (info <= 27) {
      const size = 1 << (info - 24);
      if (pos + size > len) throw malformed(what, 'ends inside an item head');
      arg = 0;
      for (let i = 0; i < size; i++) arg = arg * 256 + bytes[pos + i];
      pos += size;
    } else throw malformed(what, info === 31 ? 'has an indefinite length or break' : 'has a reserved item head');
    if (++items > limits.maxItems) {
      throw tooLarge(what, `more than ${limits.maxItems} items`, { limit: limits.maxItems, unit: 'items', at: pos });
    }
    if (open.length > 0) open[open.length - 1]--;
    if (major === 2 || major === 3) {
      if (arg > len - pos) throw malformed(what, 'has a string longer than its input');
      pos += arg;
    } else if (major >= 4 && major <= 6) {
      const children = major === 4 ? arg : major === 5 ? arg * 2 : 1;
      if (open.length + 1 > limits.maxDepth) {
        throw tooLarge(what, `nested deeper than ${limits.maxDepth}`, { limit: limits.maxDepth, unit: 'depth', at: pos });
      }
      // Every item takes at least one byte: a count beyond the input is a lie.
      if (children > len - pos) throw malformed(what, 'has a container longer than its input');
      if (children > 0) open.push(children);
    }
    while (open.length > 0 && open[open.length - 1] === 0) open.pop();
  } while (open.length > 0);
  if (pos !== len) throw malformed(what, `has ${len - pos} bytes after its item`);
}

/**
 * Scans within `limits`, then decodes with cborg's strict options.
 * `options` adds cborg options (e.g. `useMaps`).
 */
export function decodeStrictCbor(bytes: Uint8Array, what: string, limits: CborLimits = DEFAULT_CBOR_LIMITS, options: Record<string, unknown> = NO_OPTIONS): unknown {
  scanCbor(bytes, what, limits);
  try {
    return decode(bytes, options === NO_OPTIONS ? STRICT_CBOR : { ...STRICT_CBOR, ...options });
  } catch (err) {
    throw new WalkawayError('MALFORMED', `${what} is not valid CBOR: ${(err as Error).message}`);
  }
}

function tooLarge(what: string, detail: string, data: Record<string, unknown>): WalkawayError {
  return new WalkawayError('TOO_LARGE', `${what}: ${detail}`, data);
}

function malformed(what: string, detail: string): WalkawayError {
  return new WalkawayError('MALFORMED', `${what} is not valid CBOR: it ${detail}`);
}
