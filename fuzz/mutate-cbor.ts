/**
 * CBOR-aware mutations: the input is walked as CBOR items (as far as it
 * parses), then one item is changed: its major type, its declared length
 * (off by one, zero, huge, non-shortest, indefinite), wrapped in arrays (deep
 * nesting), repeated, deleted, or replaced by an item of another corpus entry
 * or an odd item (undefined, NaN, bignum tag, a huge declared string).
 */
import type { Rng } from './prng.ts';
import { spliceBytes, type MutationContext, type Mutator } from './mutate-bytes.ts';

interface Item {
  start: number;
  headLen: number;
  major: number;
  /** Declared argument (length, count or value); -1 for indefinite. */
  arg: number;
  end: number;
  parent: number;
}

const MAX_ITEMS = 512;
const MAX_DEPTH = 48;

/** The items of `b` in order (a parent before its children), as far as `b` parses. */
export function cborItems(b: Uint8Array): Item[] {
  const items: Item[] = [];
  const parseItem = (pos: number, parent: number, depth: number): number => {
    if (pos >= b.length || items.length >= MAX_ITEMS || depth > MAX_DEPTH) return -1;
    const h = b[pos];
    const major = h >> 5;
    const ai = h & 31;
    if (ai >= 28 && ai <= 30) return -1;
    const headLen = ai < 24 || ai === 31 ? 1 : 1 + (1 << (ai - 24));
    if (pos + headLen > b.length) return -1;
    let arg: number;
    if (ai < 24) arg = ai;
    else if (ai === 31) arg = -1;
    else if (ai === 24) arg = b[pos + 1];
    else if (ai === 25) arg = (b[pos + 1] << 8) | b[pos + 2];
    else if (ai === 26) arg = b[pos + 1] * 0x100_0000 + ((b[pos + 2] << 16) | (b[pos + 3] << 8) | b[pos + 4]);
    else arg = Number.MAX_SAFE_INTEGER;
    const index = items.length;
    const item: Item = { start: pos, headLen, major, arg, end: b.length, parent };
    items.push(item);
    let p = pos + headLen;
    if (major === 2 || major === 3) {
      if (arg >= 0) p += arg;
      else {
        while (p < b.length && b[p] !== 0xff) if ((p = parseItem(p, index, depth + 1)) < 0) return -1;
        p++;
      }
    } else if (major === 4 || major === 5) {
      const n = arg < 0 ? Infinity : major === 5 ? arg * 2 : arg;
      for (let i = 0; i < n; i++) {
        if (arg < 0 && b[p] === 0xff) {
          p++;
          break;
        }
        if ((p = parseItem(p, index, depth + 1)) < 0) return -1;
      }
    } else if (major === 6) {
      if ((p = parseItem(p, index, depth + 1)) < 0) return -1;
    }
    if (p > b.length) return -1;
    item.end = p;
    return p;
  };
  let pos = 0;
  while (pos >= 0 && pos < b.length && items.length < MAX_ITEMS) pos = parseItem(pos, -1, 0);
  return items;
}

/** A head of `major` with `value`, shortest form or `width` extra bytes (0, 1, 2, 4, 8). */
export function encodeHead(major: number, value: number, width?: number): Uint8Array {
  const w = width ?? (value < 24 ? 0 : value < 0x100 ? 1 : value < 0x10000 ? 2 : value < 0x1_0000_0000 ? 4 : 8);
  const out = new Uint8Array(1 + w);
  const m = major << 5;
  if (w === 0) out[0] = m | Math.min(value, 23);
  else {
    out[0] = m | { 1: 24, 2: 25, 4: 26, 8: 27 }[w]!;
    const dv = new DataView(out.buffer);
    if (w === 1) out[1] = value & 0xff;
    else if (w === 2) dv.setUint16(1, value & 0xffff);
    else if (w === 4) dv.setUint32(1, value >>> 0);
    else {
      dv.setUint32(1, Math.floor(value / 0x1_0000_0000) >>> 0);
      dv.setUint32(5, value >>> 0);
    }
  }
  return out;
}

const ODD_ITEMS = [
  [0xf7],
  [0xf6],
  [0xf4],
  [0xf5],
  [0xf9, 0x7e, 0x00],
  [0xf9, 0x7c, 0x00],
  [0xfb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0],
  [0xc2, 0x49, 1, 0, 0, 0, 0, 0, 0, 0, 0],
  [0x3b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
  [0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
  [0x1b, 0x00, 0x20, 0, 0, 0, 0, 0, 0],
  [0x5a, 0xff, 0xff, 0xff, 0xff],
  [0x7a, 0x7f, 0xff, 0xff, 0xff],
  [0x9b, 0, 0, 0, 1, 0, 0, 0, 0],
  [0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
  [0x5f, 0x41, 0x00, 0xff],
  [0x9f, 0xff],
  [0xbf, 0xff],
  [0x40],
  [0x60],
  [0x80],
  [0xa0],
  [0x62, 0xc3, 0x28],
  [0x61, 0x00],
  [0xa1, 0x61, 0x61, 0x01],
  [0xa2, 0x61, 0x61, 0x01, 0x61, 0x61, 0x02],
  [0xd8, 0x2a, 0x40],
  [0xe0],
  [0xf8, 0x18],
  [0x1c],
  [0xff],
].map((a) => new Uint8Array(a));

function bumpParent(out: Uint8Array, items: Item[], item: Item, delta: number): Uint8Array {
  const parent = item.parent >= 0 ? items[item.parent] : undefined;
  if (!parent || parent.arg < 0 || (parent.major !== 4 && parent.major !== 5)) return out;
  const count = Math.max(0, parent.arg + (parent.major === 5 ? Math.trunc(delta / 2) : delta));
  return spliceBytes(out, parent.start, parent.start + parent.headLen, encodeHead(parent.major, count));
}

export const cborMutator: Mutator = (input: Uint8Array, rng: Rng, ctx: MutationContext): Uint8Array => {
  const items = cborItems(input);
  if (items.length === 0) return spliceBytes(input, 0, 0, rng.pick(ODD_ITEMS));
  const item = items[rng.below(items.length)];
  const { start, headLen, major, arg, end } = item;
  switch (rng.below(10)) {
    case 0: {
      // Another major type, same argument bits.
      const out = input.slice();
      out[start] = (rng.below(8) << 5) | (input[start] & 31);
      return out;
    }
    case 1:
    case 2: {
      // Another declared length or value.
      const base = Math.max(arg, 0);
      const value = rng.pick([base + 1, Math.max(0, base - 1), 0, 23, 24, 255, 256, 65535, 65536, 0xffff_ffff, 2 ** 32, 2 ** 53 - 1, rng.below(64)]);
      return spliceBytes(input, start, start + headLen, encodeHead(major, value));
    }
    case 3: {
      // Same value, a longer (non-canonical) head; or indefinite length.
      if (rng.oneIn(3)) return spliceBytes(input, start, start + headLen, new Uint8Array([(major << 5) | 31]));
      return spliceBytes(input, start, start + headLen, encodeHead(major, Math.max(arg, 0), rng.pick([1, 2, 4, 8])));
    }
    case 4: {
      // Nest deeper: wrap the item in arrays (rarely thousands deep).
      const depth = rng.oneIn(256) ? 100 + rng.below(20_000) : 1 + rng.below(4);
      const wrap = new Uint8Array(depth).fill(rng.oneIn(4) ? 0x9f : 0x81);
      return spliceBytes(input, start, start, wrap);
    }
    case 5: {
      // Repeat the item (and count it in its parent).
      const times = rng.oneIn(8) ? 2 + rng.below(200) : 1;
      const chunk = input.subarray(start, end);
      const rep = new Uint8Array(chunk.length * times);
      for (let i = 0; i < times; i++) rep.set(chunk, i * chunk.length);
      const out = spliceBytes(input, end, end, rep);
      return rng.oneIn(4) ? out : bumpParent(out, items, item, times);
    }
    case 6: {
      const out = spliceBytes(input, start, end, new Uint8Array(0));
      return rng.oneIn(4) ? out : bumpParent(out, items, item, -1);
    }
    case 7: {
      // Type confusion: an item of another corpus entry in this one's place.
      const other = ctx.other();
      const theirs = cborItems(other);
      if (theirs.length === 0) return input.slice();
      const t = theirs[rng.below(theirs.length)];
      return spliceBytes(input, start, end, other.subarray(t.start, t.end));
    }
    case 8:
      return spliceBytes(input, start, rng.oneIn(2) ? end : start, rng.pick(ODD_ITEMS));
    default: {
      // A byte or text string that declares more than there is.
      if (major !== 2 && major !== 3) return spliceBytes(input, start, end, rng.pick(ODD_ITEMS));
      const value = rng.pick([Math.max(arg, 0) + 1 + rng.below(16), 0xffff_ffff, 2 ** 53 - 1, 1 << 20]);
      return spliceBytes(input, start, start + headLen, encodeHead(major, value));
    }
  }
};
