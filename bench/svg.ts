/**
 * A small SVG writer for benchmark charts (no dependencies): grouped bars
 * with min-max whiskers, for medians of interleaved repetitions. The
 * benchmark returns the SVG text under `charts`; bench/run.ts writes it next
 * to the JSON.
 */
export interface Bar {
  median: number;
  min?: number;
  max?: number;
}

export interface BarGroup {
  label: string;
  /** One bar per series, in the order of `series`; null where a side has no figure. */
  bars: (Bar | null)[];
}

const COLOURS = ['#2b6cb0', '#63b3ed', '#c05621', '#f6ad55', '#2f855a', '#9ae6b4', '#6b46c1', '#b794f4'];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function niceMax(x: number): number {
  if (!(x > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= x) return m * p;
  return 10 * p;
}

const fmt = (x: number) => (x >= 100 ? Math.round(x).toLocaleString('en-US') : String(Math.round(x * 100) / 100));

/** Grouped bar chart with whiskers from min to max; `note` is a footer line (load, reps). */
export function barChart(o: { title: string; unit: string; series: string[]; groups: BarGroup[]; note?: string }): string {
  const width = 640;
  const height = 340;
  const left = 64;
  const right = 16;
  const top = 40;
  const bottom = 70;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const top1 = Math.max(...o.groups.flatMap((g) => g.bars.map((b) => (b ? Math.max(b.max ?? b.median, b.median) : 0))));
  const yMax = niceMax(top1);
  const y = (v: number) => top + plotH - (v / yMax) * plotH;
  const groupW = plotW / Math.max(1, o.groups.length);
  const barW = Math.min(36, (groupW * 0.8) / Math.max(1, o.series.length));
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${esc(o.title)}</text>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const v = (yMax * i) / 4;
    parts.push(`<line x1="${left}" x2="${width - right}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`);
    parts.push(`<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${fmt(v)}</text>`);
  }
  parts.push(`<text x="14" y="${top + plotH / 2}" transform="rotate(-90 14 ${top + plotH / 2})" text-anchor="middle">${esc(o.unit)}</text>`);
  o.groups.forEach((g, gi) => {
    const x0 = left + gi * groupW + (groupW - barW * o.series.length) / 2;
    g.bars.forEach((b, si) => {
      if (!b || !Number.isFinite(b.median)) return;
      const x = x0 + si * barW;
      parts.push(
        `<rect x="${x + 1}" y="${y(b.median)}" width="${barW - 2}" height="${top + plotH - y(b.median)}" fill="${COLOURS[si % COLOURS.length]}"><title>${esc(o.series[si])}: ${fmt(b.median)}</title></rect>`,
      );
      if (b.min != null && b.max != null) {
        const cx = x + barW / 2;
        parts.push(`<line x1="${cx}" x2="${cx}" y1="${y(b.min)}" y2="${y(b.max)}" stroke="black"/>`);
        parts.push(`<line x1="${cx - 4}" x2="${cx + 4}" y1="${y(b.min)}" y2="${y(b.min)}" stroke="black"/>`);
        parts.push(`<line x1="${cx - 4}" x2="${cx + 4}" y1="${y(b.max)}" y2="${y(b.max)}" stroke="black"/>`);
      }
      parts.push(`<text x="${x + barW / 2}" y="${y(b.max ?? b.median) - 4}" text-anchor="middle" font-size="9">${fmt(b.median)}</text>`);
    });
    parts.push(`<text x="${left + gi * groupW + groupW / 2}" y="${top + plotH + 16}" text-anchor="middle">${esc(g.label)}</text>`);
  });
  let lx = left;
  o.series.forEach((s, si) => {
    parts.push(`<rect x="${lx}" y="${height - 38}" width="10" height="10" fill="${COLOURS[si % COLOURS.length]}"/>`);
    parts.push(`<text x="${lx + 14}" y="${height - 29}">${esc(s)}</text>`);
    lx += 24 + s.length * 6.5;
  });
  if (o.note) parts.push(`<text x="${left}" y="${height - 10}" fill="#555" font-size="10">${esc(o.note)}</text>`);
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

/** Bars of one statistic for every side, from the harness's `stats`. */
export function barsOf(sides: Record<string, { stats: Record<string, { median: number; min: number; max: number }> }>, names: string[], key: string): (Bar | null)[] {
  return names.map((n) => {
    const s = sides[n]?.stats[key];
    return s ? { median: s.median, min: s.min, max: s.max } : null;
  });
}
