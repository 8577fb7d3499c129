/**
 * Per-broadcast bookkeeping: who delivered, at which hop and when, and how
 * many payload messages the broadcast cost.
 *
 * RMR = m / (n - 1) - 1, with m the payload (gossip) messages sent for that
 * broadcast and n the nodes that delivered it (origin included).
 * LDH = the largest hop at which any node delivered it.
 */

const HIST_BINS = 120_001; // 1 ms bins up to 120 s, the last one open-ended

interface Track {
  id: string;
  origin: number;
  sentAt: number;
  phase: string;
  delivered: Uint8Array;
  count: number;
  maxHop: number;
  payload: number;
}

export interface MessageResult {
  id: string;
  phase: string;
  origin: number;
  sentAt: number;
  /** Nodes that should have delivered it (live, as the scenario defines). */
  intended: number;
  /** Of those, how many did. */
  reached: number;
  reliability: number;
  rmr: number;
  ldh: number;
  payloadMessages: number;
}

export class Tracker {
  /** Label given to messages published from now on. */
  phase = '';
  private readonly tracks = new Map<string, Track>();
  private readonly hists = new Map<string, Uint32Array>();

  onPublished(origin: number, id: string, now: number, nodeCount: number): void {
    const delivered = new Uint8Array(nodeCount);
    delivered[origin] = 1;
    this.tracks.set(id, { id, origin, sentAt: now, phase: this.phase, delivered, count: 1, maxHop: 0, payload: 0 });
  }

  onPayload(id: string): void {
    const t = this.tracks.get(id);
    if (t) t.payload++;
  }

  onDeliver(node: number, id: string, hop: number, now: number): void {
    const t = this.tracks.get(id);
    if (!t || node >= t.delivered.length || t.delivered[node] === 1) return;
    t.delivered[node] = 1;
    t.count++;
    if (hop > t.maxHop) t.maxHop = hop;
    let h = this.hists.get(t.phase);
    if (!h) {
      h = new Uint32Array(HIST_BINS);
      this.hists.set(t.phase, h);
    }
    h[Math.min(HIST_BINS - 1, Math.floor(now - t.sentAt))]++;
  }

  has(id: string): boolean {
    return this.tracks.has(id);
  }

  originOf(id: string): number {
    const t = this.tracks.get(id);
    if (!t) throw new Error(`no track for ${id}`);
    return t.origin;
  }

  /** Closes a broadcast's record; `intended(node)` says who should have it. */
  finalize(id: string, intended: (node: number) => boolean): MessageResult {
    const t = this.tracks.get(id);
    if (!t) throw new Error(`no track for ${id}`);
    this.tracks.delete(id);
    let want = 0,
      reached = 0;
    for (let node = 0; node < t.delivered.length; node++) {
      if (!intended(node)) continue;
      want++;
      if (t.delivered[node] === 1) reached++;
    }
    return {
      id,
      phase: t.phase,
      origin: t.origin,
      sentAt: t.sentAt,
      intended: want,
      reached,
      reliability: want === 0 ? 1 : reached / want,
      rmr: t.count > 1 ? t.payload / (t.count - 1) - 1 : 0,
      ldh: t.maxHop,
      payloadMessages: t.payload,
    };
  }

  /** The p-th percentile (0..1) of delivery latency in a phase, in ms. */
  latencyPercentile(phase: string, p: number): number | null {
    const h = this.hists.get(phase);
    if (!h) return null;
    let total = 0;
    for (let i = 0; i < h.length; i++) total += h[i];
    if (total === 0) return null;
    const rank = Math.ceil(p * total);
    let seen = 0;
    for (let i = 0; i < h.length; i++) {
      seen += h[i];
      if (seen >= rank) return i + 1;
    }
    return h.length;
  }
}

export function mean(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

export function max(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  let m = -Infinity;
  for (const x of xs) if (x > m) m = x;
  return m;
}

export function min(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  let m = Infinity;
  for (const x of xs) if (x < m) m = x;
  return m;
}

export function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = xs.slice().sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
