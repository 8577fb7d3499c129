/**
 * The realtime channel's data items: up to 128000 bytes each (the spec),
 * carried in pieces of REALTIME_CHUNK bytes because one ephemeral message
 * holds at most 16 KiB. `splitRealtime` cuts an item; `Reassembler` puts
 * pieces back together, bounded per author and overall, and drops what is
 * not complete within its expiry. Sans-IO: time is passed in.
 */
import { encodeRealtimeChunk, REALTIME_CHUNK, REALTIME_MAX_SIZE, type RealtimeChunk } from './wire.ts';
import { WalkawayError } from '../core/index.ts';

export function splitRealtime(data: Uint8Array, messageId: number): Uint8Array[] {
  if (!(data instanceof Uint8Array)) throw new WalkawayError('INVALID_ARGUMENT', 'realtime data must be a Uint8Array');
  if (data.length > REALTIME_MAX_SIZE) {
    throw new WalkawayError('TOO_LARGE', `realtime data is ${data.length} bytes, more than ${REALTIME_MAX_SIZE}`, { size: data.length, limit: REALTIME_MAX_SIZE });
  }
  const count = Math.max(1, Math.ceil(data.length / REALTIME_CHUNK));
  const pieces: Uint8Array[] = [];
  for (let i = 0; i < count; i++) pieces.push(encodeRealtimeChunk(messageId, i, count, data.subarray(i * REALTIME_CHUNK, (i + 1) * REALTIME_CHUNK)));
  return pieces;
}

export interface ReassemblerLimits {
  /** Incomplete items per author. */
  perAuthor: number;
  /** Incomplete items overall. */
  total: number;
  /** Milliseconds an incomplete item waits for its other pieces. */
  expiryMs: number;
}

export const DEFAULT_REASSEMBLER_LIMITS: ReassemblerLimits = { perAuthor: 4, total: 64, expiryMs: 10_000 };

interface Partial {
  author: string;
  count: number;
  pieces: (Uint8Array | undefined)[];
  have: number;
  expires: number;
}

export class Reassembler {
  readonly #limits: ReassemblerLimits;
  readonly #partial = new Map<string, Partial>();

  constructor(limits: ReassemblerLimits = DEFAULT_REASSEMBLER_LIMITS) {
    this.#limits = limits;
  }

  /** Incomplete items held now. */
  get size(): number {
    return this.#partial.size;
  }

  /** Takes one piece; returns the whole item when this piece completes it. */
  add(author: string, chunk: RealtimeChunk, now: number): Uint8Array | undefined {
    this.expire(now);
    if (chunk.count === 1) return chunk.bytes;
    const key = `${author}/${chunk.messageId}`;
    let entry = this.#partial.get(key);
    if (entry && entry.count !== chunk.count) return undefined; // a liar: keep the first shape
    if (!entry) {
      if (this.#countOf(author) >= this.#limits.perAuthor) this.#dropOldest((p) => p.author === author);
      if (this.#partial.size >= this.#limits.total) this.#dropOldest(() => true);
      entry = { author, count: chunk.count, pieces: new Array(chunk.count), have: 0, expires: now + this.#limits.expiryMs };
      this.#partial.set(key, entry);
    }
    // Only the last piece may be short: a sender's pieces are all REALTIME_CHUNK bytes before it.
    if (chunk.index < chunk.count - 1 && chunk.bytes.length !== REALTIME_CHUNK) return undefined;
    if (entry.pieces[chunk.index]) return undefined;
    entry.pieces[chunk.index] = chunk.bytes;
    if (++entry.have < entry.count) return undefined;
    this.#partial.delete(key);
    const whole = new Uint8Array(entry.pieces.reduce((n, p) => n + p!.length, 0));
    let at = 0;
    for (const p of entry.pieces) {
      whole.set(p!, at);
      at += p!.length;
    }
    return whole;
  }

  /** Drops incomplete items past their expiry. */
  expire(now: number): void {
    for (const [key, p] of this.#partial) if (p.expires <= now) this.#partial.delete(key);
  }

  #countOf(author: string): number {
    let n = 0;
    for (const p of this.#partial.values()) if (p.author === author) n++;
    return n;
  }

  #dropOldest(match: (p: Partial) => boolean): void {
    for (const [key, p] of this.#partial) {
      if (match(p)) {
        this.#partial.delete(key);
        return;
      }
    }
  }
}
