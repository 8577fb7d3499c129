/**
 * Byte-level mutations: bit flips, interesting values, insertions, deletions,
 * duplications, splices with other corpus entries and dictionary tokens.
 * Every mutation returns a new array; inputs are never changed in place.
 */
import type { Rng } from './prng.ts';

/** Mutated inputs are cut to this size (huge inputs come from declared lengths instead). */
export const MAX_INPUT_BYTES = 256 * 1024;

const INTERESTING_8 = [
  0x00, 0x01, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1f, 0x20, 0x3f, 0x40, 0x58, 0x5f, 0x7f, 0x80, 0x98, 0x9f, 0xa0, 0xbf, 0xc0, 0xf4, 0xf5, 0xf6, 0xf7, 0xf9, 0xfa, 0xfb, 0xff,
];
const INTERESTING_32 = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe, 4096, 8192, 65536];

export type Mutator = (input: Uint8Array, rng: Rng, ctx: MutationContext) => Uint8Array;

export interface MutationContext {
  /** Another corpus entry, for splices. */
  other(): Uint8Array;
  dictionary: Uint8Array[];
}

function replace(input: Uint8Array, start: number, end: number, insert: Uint8Array): Uint8Array {
  const out = new Uint8Array(input.length - (end - start) + insert.length);
  out.set(input.subarray(0, start), 0);
  out.set(insert, start);
  out.set(input.subarray(end), start + insert.length);
  return out;
}

export { replace as spliceBytes };

function range(input: Uint8Array, rng: Rng): [number, number] {
  const start = rng.below(input.length + 1);
  const max = Math.min(input.length - start, rng.oneIn(4) ? 256 : 16);
  return [start, start + rng.below(max + 1)];
}

const flipBit: Mutator = (input, rng) => {
  if (input.length === 0) return rng.bytes(1);
  const out = input.slice();
  const i = rng.below(out.length);
  out[i] ^= 1 << rng.below(8);
  return out;
};

const setInteresting: Mutator = (input, rng) => {
  if (input.length === 0) return new Uint8Array([rng.pick(INTERESTING_8)]);
  const out = input.slice();
  out[rng.below(out.length)] = rng.pick(INTERESTING_8);
  return out;
};

const randomByte: Mutator = (input, rng) => {
  if (input.length === 0) return rng.bytes(1);
  const out = input.slice();
  out[rng.below(out.length)] = rng.u32() & 0xff;
  return out;
};

const arithmetic: Mutator = (input, rng) => {
  if (input.length === 0) return rng.bytes(1);
  const out = input.slice();
  const i = rng.below(out.length);
  out[i] = (out[i] + (rng.oneIn(2) ? 1 : -1) * (1 + rng.below(35))) & 0xff;
  return out;
};

const setWord: Mutator = (input, rng) => {
  const width = rng.pick([2, 4, 8]);
  if (input.length < width) return input.slice();
  const out = input.slice();
  const at = rng.below(out.length - width + 1);
  const v = rng.pick(INTERESTING_32);
  if (width === 8) {
    const hi = rng.oneIn(2) ? 0 : rng.pick(INTERESTING_32);
    new DataView(out.buffer).setUint32(at, hi);
    new DataView(out.buffer).setUint32(at + 4, v);
  } else if (width === 4) new DataView(out.buffer).setUint32(at, v);
  else new DataView(out.buffer).setUint16(at, v & 0xffff);
  return out;
};

const insertRandom: Mutator = (input, rng) => {
  const at = rng.below(input.length + 1);
  return replace(input, at, at, rng.bytes(1 + rng.below(rng.oneIn(8) ? 128 : 8)));
};

const deleteRange: Mutator = (input, rng) => {
  const [a, b] = range(input, rng);
  return replace(input, a, b, new Uint8Array(0));
};

const duplicateRange: Mutator = (input, rng) => {
  const [a, b] = range(input, rng);
  const chunk = input.slice(a, b);
  const times = rng.oneIn(16) ? 2 + rng.below(64) : 1;
  const rep = new Uint8Array(chunk.length * times);
  for (let i = 0; i < times; i++) rep.set(chunk, i * chunk.length);
  const at = rng.below(input.length + 1);
  return replace(input, at, at, rep);
};

const truncate: Mutator = (input, rng) => input.slice(0, rng.below(input.length + 1));

const splice: Mutator = (input, rng, ctx) => {
  const other = ctx.other();
  if (rng.oneIn(2)) {
    // Head of this, tail of the other.
    return replace(input, rng.below(input.length + 1), input.length, other.subarray(rng.below(other.length + 1)));
  }
  const [a, b] = range(other, rng);
  const at = rng.below(input.length + 1);
  return replace(input, at, rng.oneIn(2) ? at : Math.min(input.length, at + (b - a)), other.subarray(a, b));
};

const dictionary: Mutator = (input, rng, ctx) => {
  if (ctx.dictionary.length === 0) return insertRandom(input, rng, ctx);
  const token = rng.pick(ctx.dictionary);
  const at = rng.below(input.length + 1);
  return replace(input, at, rng.oneIn(2) ? at : Math.min(input.length, at + token.length), token);
};

export const BYTE_MUTATORS: Mutator[] = [
  flipBit,
  flipBit,
  setInteresting,
  randomByte,
  arithmetic,
  setWord,
  insertRandom,
  deleteRange,
  duplicateRange,
  truncate,
  splice,
  splice,
  dictionary,
];

/** Random bytes: mostly short, sometimes a few KiB. */
export function randomInput(rng: Rng): Uint8Array {
  const r = rng.below(100);
  const n = r < 50 ? rng.below(65) : r < 95 ? rng.below(513) : rng.below(8193);
  return rng.bytes(n);
}
