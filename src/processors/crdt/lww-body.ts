/**
 * LWW write bodies: CBOR `[key, value]` to set, `[key]` to delete.
 *
 * `decodeLwwBody` reads the common small shapes itself (an ASCII key under
 * 256 bytes; a value that is an integer of up to 32 bits, a short ASCII
 * string, a boolean or null) and hands everything else to cborg, so it
 * accepts exactly what `cborg.decode` accepts, to the same value. The fast
 * path exists because decoding is most of the map's work per write: cborg
 * builds a token list for a two-item array.
 */
import { decode as cborDecode, encode as cborEncode } from 'cborg';
import { WalkawayError } from '../../core/index.ts';

export interface LwwBody {
  key: string;
  /** Undefined for a delete (`[key]`). */
  value: unknown;
  deleted: boolean;
}

export function encodeLwwWrite(key: string, value?: unknown): Uint8Array {
  return cborEncode(value === undefined ? [key] : [key, value]);
}

/** Throws MALFORMED for anything that is not `[key]` or `[key, value]` with a text key. */
export function decodeLwwBody(bytes: Uint8Array): LwwBody {
  return fastBody(bytes) ?? slowBody(bytes);
}

function slowBody(bytes: Uint8Array): LwwBody {
  let value: unknown;
  try {
    value = cborDecode(bytes);
  } catch (err) {
    throw new WalkawayError('MALFORMED', `LWW write is not CBOR: ${(err as Error).message}`);
  }
  if (!Array.isArray(value) || typeof value[0] !== 'string' || value.length < 1 || value.length > 2) {
    throw new WalkawayError('MALFORMED', 'LWW write must be [key] or [key, value]');
  }
  return value.length === 1 ? { key: value[0], value: undefined, deleted: true } : { key: value[0], value: value[1], deleted: false };
}

/** Position after the last item read by `readText`/`readValue`; -1 when the shape is not a fast one. */
let at = 0;

function fastBody(b: Uint8Array): LwwBody | undefined {
  const head = b[0];
  if (head !== 0x81 && head !== 0x82) return undefined;
  at = 1;
  const key = readText(b);
  if (key === undefined) return undefined;
  if (head === 0x81) return at === b.length ? { key, value: undefined, deleted: true } : undefined;
  const value = readValue(b);
  if (at !== b.length) return undefined;
  return { key, value, deleted: false };
}

/** An ASCII text string of under 256 bytes, or undefined. */
function readText(b: Uint8Array): string | undefined {
  let p = at;
  const h = b[p++];
  let len: number;
  if (h >= 0x60 && h <= 0x77) len = h - 0x60;
  else if (h === 0x78 && p < b.length) len = b[p++];
  else return undefined;
  if (p + len > b.length) return undefined;
  // Char by char: a subarray of a small (on-heap) body would make V8 move its bytes off the heap first.
  let s = '';
  for (let i = p; i < p + len; i++) {
    const c = b[i];
    if (c >= 0x80) return undefined;
    s += String.fromCharCode(c);
  }
  at = p + len;
  return s;
}

/** Sentinel for "not a fast shape" (undefined is no CBOR value cborg gives back for these shapes). */
const NOT_FAST = undefined;

function readValue(b: Uint8Array): unknown {
  if (at >= b.length) {
    at = -1;
    return NOT_FAST;
  }
  const h = b[at];
  const major = h >> 5;
  if (major === 0 || major === 1) {
    const n = readUint(b, h & 0x1f);
    if (n === undefined) return NOT_FAST;
    return major === 0 ? n : -1 - n;
  }
  if (major === 3) {
    const s = readText(b);
    if (s === undefined) at = -1;
    return s;
  }
  at++;
  if (h === 0xf4) return false;
  if (h === 0xf5) return true;
  if (h === 0xf6) return null;
  at = -1;
  return NOT_FAST;
}

/** The argument of an integer head (up to 32 bits; non-minimal forms too, as cborg's default mode). */
function readUint(b: Uint8Array, info: number): number | undefined {
  const p = at + 1;
  if (info < 24) {
    at = p;
    return info;
  }
  if (info === 24 && p < b.length) {
    at = p + 1;
    return b[p];
  }
  if (info === 25 && p + 1 < b.length) {
    at = p + 2;
    return (b[p] << 8) | b[p + 1];
  }
  if (info === 26 && p + 3 < b.length) {
    at = p + 4;
    return ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
  }
  at = -1;
  return undefined;
}
