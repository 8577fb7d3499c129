// A small QR code encoder (ISO/IEC 18004): byte mode, error correction L or
// M, versions 1 to 40, mask chosen by the standard's penalty rules. The page
// draws invite tickets with it; no third-party code, no network.

const EC_BITS = { L: 1, M: 0 };
// Per version 1..40 (index 0 unused): EC codewords per block, and blocks.
export const EC_PER_BLOCK = {
  L: [0, 7, 10, 15, 20, 26, 18, 20, 24, 30, 18, 20, 24, 26, 30, 22, 24, 28, 30, 28, 28, 28, 28, 30, 30, 26, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
  M: [0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26, 26, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28],
};
export const BLOCKS = {
  L: [0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 4, 4, 6, 6, 6, 6, 7, 8, 8, 9, 9, 10, 12, 12, 12, 13, 14, 15, 16, 17, 18, 19, 19, 20, 21, 22, 24, 25],
  M: [0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16, 17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49],
};

// GF(256) with the QR polynomial x^8 + x^4 + x^3 + x^2 + 1.
const EXP = new Uint8Array(512);
const LOG = new Uint8Array(256);
for (let i = 0, x = 1; i < 255; i++) {
  EXP[i] = x;
  LOG[x] = i;
  x = (x << 1) ^ (x & 0x80 ? 0x11d : 0);
}
for (let i = 255; i < 512; i++) EXP[i] = EXP[i - 255];
const mul = (a, b) => (a === 0 || b === 0 ? 0 : EXP[LOG[a] + LOG[b]]);

/** The Reed-Solomon error correction codewords of `data` (generator roots a^0..a^(n-1)). */
export function reedSolomon(data, n) {
  let gen = [1];
  for (let i = 0; i < n; i++) {
    const next = new Array(gen.length + 1).fill(0);
    gen.forEach((g, j) => {
      next[j] ^= g;
      next[j + 1] ^= mul(g, EXP[i]);
    });
    gen = next;
  }
  const rem = new Array(n).fill(0);
  for (const byte of data) {
    const factor = byte ^ rem.shift();
    rem.push(0);
    for (let j = 0; j < n; j++) rem[j] ^= mul(gen[j + 1], factor);
  }
  return rem;
}

/** Modules usable for data and EC in a symbol of this version, in whole codewords. */
export function rawCodewords(version) {
  let bits = (16 * version + 128) * version + 64;
  if (version >= 2) {
    const align = Math.floor(version / 7) + 2;
    bits -= (25 * align - 10) * align - 55;
    if (version >= 7) bits -= 36;
  }
  return Math.floor(bits / 8);
}

function dataCodewords(version, level) {
  return rawCodewords(version) - EC_PER_BLOCK[level][version] * BLOCKS[level][version];
}

function alignmentPositions(version, size) {
  if (version === 1) return [];
  const count = Math.floor(version / 7) + 2;
  const step = version === 32 ? 26 : Math.ceil((version * 4 + 4) / (count * 2 - 2)) * 2;
  const positions = [6];
  for (let pos = size - 7; positions.length < count; pos -= step) positions.splice(1, 0, pos);
  return positions;
}

/** The 15 format bits: level and mask, BCH(15,5), masked with 0x5412. */
export function formatBits(level, mask) {
  const data = (EC_BITS[level] << 3) | mask;
  let rem = data;
  for (let i = 0; i < 10; i++) rem = (rem << 1) ^ ((rem >>> 9) * 0x537);
  return ((data << 10) | rem) ^ 0x5412;
}

function versionBits(version) {
  let rem = version;
  for (let i = 0; i < 12; i++) rem = (rem << 1) ^ ((rem >>> 11) * 0x1f25);
  return (version << 12) | rem;
}

const MASKS = [
  (r, c) => (r + c) % 2 === 0,
  (r) => r % 2 === 0,
  (_r, c) => c % 3 === 0,
  (r, c) => (r + c) % 3 === 0,
  (r, c) => (Math.floor(r / 2) + Math.floor(c / 3)) % 2 === 0,
  (r, c) => ((r * c) % 2) + ((r * c) % 3) === 0,
  (r, c) => (((r * c) % 2) + ((r * c) % 3)) % 2 === 0,
  (r, c) => (((r + c) % 2) + ((r * c) % 3)) % 2 === 0,
];

/** The codewords of `bytes` in byte mode, padded, split in blocks, with EC, interleaved. */
function codewords(bytes, version, level) {
  const capacity = dataCodewords(version, level);
  const bits = [];
  const put = (value, length) => {
    for (let i = length - 1; i >= 0; i--) bits.push((value >>> i) & 1);
  };
  put(0b0100, 4);
  put(bytes.length, version <= 9 ? 8 : 16);
  for (const b of bytes) put(b, 8);
  put(0, Math.min(4, capacity * 8 - bits.length));
  while (bits.length % 8) bits.push(0);
  const data = [];
  for (let i = 0; i < bits.length; i += 8) data.push(bits.slice(i, i + 8).reduce((a, b) => (a << 1) | b, 0));
  for (let pad = 0xec; data.length < capacity; pad ^= 0xec ^ 0x11) data.push(pad);

  const blocks = BLOCKS[level][version];
  const ecLength = EC_PER_BLOCK[level][version];
  const shortLength = Math.floor(capacity / blocks);
  const longBlocks = capacity % blocks;
  const split = [];
  for (let b = 0, at = 0; b < blocks; b++) {
    const length = shortLength + (b >= blocks - longBlocks ? 1 : 0);
    split.push(data.slice(at, at + length));
    at += length;
  }
  const out = [];
  for (let i = 0; i <= shortLength; i++) for (const block of split) if (i < block.length) out.push(block[i]);
  const ecs = split.map((block) => reedSolomon(block, ecLength));
  for (let i = 0; i < ecLength; i++) for (const ec of ecs) out.push(ec[i]);
  return out;
}

/**
 * The smallest symbol that holds `text` (UTF-8) at `level`: a square of
 * booleans (true = dark), rows of columns, without the quiet zone.
 */
export function qrMatrix(text, level = 'M') {
  const bytes = new TextEncoder().encode(text);
  let version = 1;
  while (version <= 40 && dataCodewords(version, level) < 2 + (version <= 9 ? 0 : 1) + bytes.length) version++;
  if (version > 40) throw new Error(`${bytes.length} bytes do not fit in a QR code at level ${level}`);
  const size = version * 4 + 17;
  const dark = Array.from({ length: size }, () => new Array(size).fill(false));
  const fixed = Array.from({ length: size }, () => new Array(size).fill(false));
  const set = (r, c, value) => {
    dark[r][c] = value;
    fixed[r][c] = true;
  };

  for (let i = 0; i < size; i++) {
    set(6, i, i % 2 === 0);
    set(i, 6, i % 2 === 0);
  }
  for (const [r0, c0] of [
    [3, 3],
    [3, size - 4],
    [size - 4, 3],
  ]) {
    for (let dr = -4; dr <= 4; dr++)
      for (let dc = -4; dc <= 4; dc++) {
        const r = r0 + dr,
          c = c0 + dc;
        if (r < 0 || c < 0 || r >= size || c >= size) continue;
        const ring = Math.max(Math.abs(dr), Math.abs(dc));
        set(r, c, ring !== 2 && ring !== 4);
      }
  }
  const align = alignmentPositions(version, size);
  for (const r of align)
    for (const c of align) {
      if ((r === 6 && c === 6) || (r === 6 && c === size - 7) || (r === size - 7 && c === 6)) continue;
      for (let dr = -2; dr <= 2; dr++) for (let dc = -2; dc <= 2; dc++) set(r + dr, c + dc, Math.max(Math.abs(dr), Math.abs(dc)) !== 1);
    }
  const drawFormat = (target, mask) => {
    const f = formatBits(level, mask);
    const put = (r, c, i) => {
      target[r][c] = ((f >>> i) & 1) === 1;
      fixed[r][c] = true;
    };
    for (let i = 0; i <= 5; i++) put(i, 8, i);
    put(7, 8, 6);
    put(8, 8, 7);
    put(8, 7, 8);
    for (let i = 9; i < 15; i++) put(8, 14 - i, i);
    for (let i = 0; i < 8; i++) put(8, size - 1 - i, i);
    for (let i = 8; i < 15; i++) put(size - 15 + i, 8, i);
    set(size - 8, 8, true);
  };
  drawFormat(dark, 0); // reserves the format areas
  if (version >= 7) {
    const v = versionBits(version);
    for (let i = 0; i < 18; i++) {
      const on = ((v >>> i) & 1) === 1;
      const a = size - 11 + (i % 3),
        b = Math.floor(i / 3);
      set(b, a, on);
      set(a, b, on);
    }
  }

  const words = codewords(bytes, version, level);
  let i = 0;
  for (let right = size - 1; right >= 1; right -= 2) {
    if (right === 6) right = 5;
    for (let step = 0; step < size; step++) {
      for (let j = 0; j < 2; j++) {
        const c = right - j;
        const upward = ((right + 1) & 2) === 0;
        const r = upward ? size - 1 - step : step;
        if (fixed[r][c]) continue;
        dark[r][c] = i < words.length * 8 && ((words[i >>> 3] >>> (7 - (i & 7))) & 1) === 1;
        i++;
      }
    }
  }

  let best,
    bestScore = Infinity;
  for (let mask = 0; mask < 8; mask++) {
    const candidate = dark.map((row, r) => row.map((d, c) => (fixed[r][c] ? d : d !== MASKS[mask](r, c))));
    drawFormat(candidate, mask);
    const score = penalty(candidate);
    if (score < bestScore) {
      bestScore = score;
      best = candidate;
    }
  }
  return best;
}

/** The standard's mask penalty: runs, 2x2 blocks, finder-like patterns, dark balance. */
function penalty(m) {
  const size = m.length;
  let score = 0;
  const lines = [];
  for (let i = 0; i < size; i++) {
    lines.push(m[i]);
    lines.push(m.map((row) => row[i]));
  }
  for (const line of lines) {
    let run = 1;
    for (let j = 1; j <= size; j++) {
      if (j < size && line[j] === line[j - 1]) run++;
      else {
        if (run >= 5) score += run - 2;
        run = 1;
      }
    }
    const s = line.map((d) => (d ? '1' : '0')).join('');
    for (const pattern of ['10111010000', '00001011101']) {
      for (let at = s.indexOf(pattern); at >= 0; at = s.indexOf(pattern, at + 1)) score += 40;
    }
  }
  for (let r = 0; r < size - 1; r++)
    for (let c = 0; c < size - 1; c++) {
      const d = m[r][c];
      if (m[r][c + 1] === d && m[r + 1][c] === d && m[r + 1][c + 1] === d) score += 3;
    }
  const darkCount = m.reduce((n, row) => n + row.filter(Boolean).length, 0);
  score += Math.floor(Math.abs(darkCount * 20 - size * size * 10) / (size * size)) * 10;
  return score;
}
