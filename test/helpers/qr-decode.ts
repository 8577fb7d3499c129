/**
 * A QR code reader for the tests, written apart from web/qr.js's encoder:
 * from a module matrix (or a grey image of a rendered code) back to its
 * text. It finds the format in the symbol, unmasks, reads the codewords in
 * the standard's zigzag order, checks every block's Reed-Solomon syndromes
 * are zero and parses byte mode. Only the block tables come from qr.js.
 */
import { BLOCKS, EC_PER_BLOCK, formatBits, rawCodewords, type QrLevel } from '../../web/qr.js';

const EXP: number[] = [];
const LOG: number[] = [];
for (let i = 0, x = 1; i < 255; i++) {
  EXP[i] = x;
  LOG[x] = i;
  x <<= 1;
  if (x & 0x100) x ^= 0x11d;
}
const gfMul = (a: number, b: number) => (a && b ? EXP[(LOG[a] + LOG[b]) % 255] : 0);

/** Which modules are not data: finders with separators, timing, alignment, format and version areas. */
function functionModules(size: number, version: number): boolean[][] {
  const f = Array.from({ length: size }, () => new Array<boolean>(size).fill(false));
  const box = (r0: number, c0: number, h: number, w: number) => {
    for (let r = r0; r < r0 + h; r++) for (let c = c0; c < c0 + w; c++) if (r >= 0 && c >= 0 && r < size && c < size) f[r][c] = true;
  };
  box(0, 0, 9, 9); // finder, separator, format bits
  box(0, size - 8, 9, 8);
  box(size - 8, 0, 8, 9);
  box(6, 0, 1, size);
  box(0, 6, size, 1);
  if (version >= 2) {
    const n = Math.floor(version / 7) + 2;
    const last = size - 7;
    const step = version === 32 ? 26 : Math.ceil((last - 6) / (n - 1) / 2) * 2;
    const centres = [6];
    for (let i = n - 2; i >= 0; i--) centres.push(last - i * step);
    for (const r of centres)
      for (const c of centres) {
        if ((r < 9 && c < 9) || (r < 9 && c > size - 9) || (r > size - 9 && c < 9)) continue;
        box(r - 2, c - 2, 5, 5);
      }
  }
  if (version >= 7) {
    box(0, size - 11, 6, 3);
    box(size - 11, 0, 3, 6);
  }
  return f;
}

const MASK = [
  (r: number, c: number) => (r + c) % 2 === 0,
  (r: number) => r % 2 === 0,
  (_r: number, c: number) => c % 3 === 0,
  (r: number, c: number) => (r + c) % 3 === 0,
  (r: number, c: number) => (Math.floor(r / 2) + Math.floor(c / 3)) % 2 === 0,
  (r: number, c: number) => ((r * c) % 2) + ((r * c) % 3) === 0,
  (r: number, c: number) => (((r * c) % 2) + ((r * c) % 3)) % 2 === 0,
  (r: number, c: number) => (((r + c) % 2) + ((r * c) % 3)) % 2 === 0,
];

export function decodeMatrix(m: boolean[][]): { text: string; version: number; level: QrLevel; mask: number } {
  const size = m.length;
  const version = (size - 17) / 4;
  if (!Number.isInteger(version) || version < 1 || version > 40) throw new Error(`no QR size: ${size}`);
  // Format, first copy: column 8 downwards (rows 0-5, 7, 8), then row 8 leftwards (columns 7, 5..0).
  const cells: [number, number][] = [
    [0, 8],
    [1, 8],
    [2, 8],
    [3, 8],
    [4, 8],
    [5, 8],
    [7, 8],
    [8, 8],
    [8, 7],
    [8, 5],
    [8, 4],
    [8, 3],
    [8, 2],
    [8, 1],
    [8, 0],
  ];
  let read = 0;
  cells.forEach(([r, c], i) => {
    if (m[r][c]) read |= 1 << i;
  });
  let found: { level: QrLevel; mask: number } | undefined;
  for (const level of ['L', 'M'] as const) for (let mask = 0; mask < 8; mask++) if (formatBits(level, mask) === read) found = { level, mask };
  if (!found) throw new Error(`unknown format bits ${read.toString(2)}`);
  const { level, mask } = found;

  const fn = functionModules(size, version);
  const bits: number[] = [];
  for (let right = size - 1; right >= 1; right -= 2) {
    if (right === 6) right = 5;
    const upward = ((size - 1 - right) >> 1) % 2 === 0;
    for (let k = 0; k < size; k++) {
      const r = upward ? size - 1 - k : k;
      for (const c of [right, right - 1]) if (!fn[r][c]) bits.push(m[r][c] !== MASK[mask](r, c) ? 1 : 0);
    }
  }
  const total = rawCodewords(version);
  const words: number[] = [];
  for (let i = 0; i < total; i++) words.push(bits.slice(i * 8, i * 8 + 8).reduce((a, b) => (a << 1) | b, 0));

  const nBlocks = BLOCKS[level][version];
  const ec = EC_PER_BLOCK[level][version];
  const dataTotal = total - nBlocks * ec;
  const short = Math.floor(dataTotal / nBlocks);
  const longFrom = nBlocks - (dataTotal % nBlocks);
  const blocks: number[][] = Array.from({ length: nBlocks }, () => []);
  let at = 0;
  for (let i = 0; i <= short; i++) for (let b = 0; b < nBlocks; b++) if (i < short || b >= longFrom) blocks[b].push(words[at++]);
  for (let i = 0; i < ec; i++) for (let b = 0; b < nBlocks; b++) blocks[b].push(words[at++]);
  for (const block of blocks) {
    for (let i = 0; i < ec; i++) {
      // The codeword polynomial (first word = highest power) at a^i must be zero.
      let s = 0;
      for (const w of block) s = gfMul(s, EXP[i]) ^ w;
      if (s !== 0) throw new Error('a block fails its Reed-Solomon check');
    }
  }
  const data = blocks.flatMap((b) => b.slice(0, b.length - ec));
  const stream = data.flatMap((w) => [7, 6, 5, 4, 3, 2, 1, 0].map((i) => (w >> i) & 1));
  let p = 0;
  const take = (n: number) => {
    let v = 0;
    for (let i = 0; i < n; i++) v = (v << 1) | stream[p++];
    return v;
  };
  if (take(4) !== 0b0100) throw new Error('not byte mode');
  const count = take(version <= 9 ? 8 : 16);
  const bytes = Uint8Array.from({ length: count }, () => take(8));
  return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes), version, level, mask };
}

/**
 * The module matrix of a rendered code: `grey` holds width*height values
 * 0-255. The code is the dark bounding box; the top-left finder's first
 * row (7 modules) tells roughly how many modules a side has; each module
 * is read at its centre.
 */
export function matrixFromImage(grey: ArrayLike<number>, width: number, height: number): boolean[][] {
  const dark = (x: number, y: number) => grey[y * width + x] < 128;
  let top = -1,
    left = width,
    right = -1;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      if (!dark(x, y)) continue;
      if (top < 0) top = y;
      left = Math.min(left, x);
      right = Math.max(right, x);
    }
  if (top < 0) throw new Error('no dark pixels');
  let run = 0;
  while (dark(left + run, top + 1)) run++;
  // The finder's run gives a first guess; a QR side is 17 + 4 * version modules.
  const guess = (right - left + 1) / (run / 7);
  const size = 17 + 4 * Math.round((guess - 17) / 4);
  const moduleSize = (right - left + 1) / size;
  return Array.from({ length: size }, (_, r) =>
    Array.from({ length: size }, (_, c) => dark(Math.floor(left + (c + 0.5) * moduleSize), Math.floor(top + (r + 0.5) * moduleSize))),
  );
}
