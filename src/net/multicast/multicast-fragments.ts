/**
 * Fragments of multicast payloads larger than one datagram on a real link.
 * A datagram over the path MTU is split by IP, and losing any one IP fragment
 * loses all of it (some networks drop IP fragments outright), so payloads are
 * cut into datagrams of at most DATAGRAM_TARGET bytes sealed one by one
 * (kind FRAGMENT inside the sealed envelope, multicast-crypto.ts):
 *
 *   [inner kind: 1][message id: 8][index: u16][count: u16][chunk]
 *
 * Only authenticated fragments reach the reassembler (each is opened
 * first). Reassembly is bounded: count <= MAX_FRAGMENTS, 4 partial messages
 * per sender and 32 overall, MAX_HELD_BYTES held, partial messages expire
 * after EXPIRE_MS. A lost fragment loses its message; the broadcast carousel
 * sends it again later.
 */

/** Largest datagram sent: fits the IPv6 minimum MTU (1280) with IP and UDP headers. */
export const DATAGRAM_TARGET = 1200;
export const FRAGMENT_HEADER = 1 + 8 + 2 + 2;
/** Enough for an operation at the core limits (8 KiB header, 1 MiB body) and its packet. */
export const MAX_MESSAGE_BYTES = 8 * 1024 + 1024 * 1024 + 4096;
export const MAX_FRAGMENTS = 1024;
const MAX_PARTIAL_PER_SENDER = 4;
const MAX_PARTIAL = 32;
const MAX_HELD_BYTES = 16 * 1024 * 1024;
export const EXPIRE_MS = 10_000;

/** Cuts `payload` into fragment payloads of at most `chunkBytes` data each. */
export function fragment(kind: number, payload: Uint8Array, id: Uint8Array, chunkBytes: number): Uint8Array[] {
  const count = Math.ceil(payload.length / chunkBytes);
  if (count > MAX_FRAGMENTS || payload.length > MAX_MESSAGE_BYTES) return [];
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const chunk = payload.subarray(i * chunkBytes, (i + 1) * chunkBytes);
    const f = new Uint8Array(FRAGMENT_HEADER + chunk.length);
    const view = new DataView(f.buffer);
    f[0] = kind;
    f.set(id.subarray(0, 8), 1);
    view.setUint16(9, i);
    view.setUint16(11, count);
    f.set(chunk, FRAGMENT_HEADER);
    out.push(f);
  }
  return out;
}

interface Partial {
  sender: string;
  kind: number;
  chunks: (Uint8Array | undefined)[];
  received: number;
  bytes: number;
  startedAt: number;
}

export interface ReassemblyStats {
  completed: number;
  /** Malformed, over a bound, or of a message that expired. */
  dropped: number;
  expired: number;
}

export class Reassembler {
  readonly #partial = new Map<string, Partial>();
  #held = 0;
  readonly stats: ReassemblyStats = { completed: 0, dropped: 0, expired: 0 };

  get partialCount(): number {
    return this.#partial.size;
  }

  get heldBytes(): number {
    return this.#held;
  }

  /** Adds one authenticated fragment; returns the whole payload when this fragment completes it. */
  add(sender: string, f: Uint8Array, now: number): { kind: number; payload: Uint8Array } | undefined {
    this.expire(now);
    if (f.length <= FRAGMENT_HEADER) return this.#drop();
    const view = new DataView(f.buffer, f.byteOffset, f.byteLength);
    const index = view.getUint16(9);
    const count = view.getUint16(11);
    if (count < 2 || count > MAX_FRAGMENTS || index >= count) return this.#drop();
    const key = `${sender}/${Buffer.from(f.subarray(1, 9)).toString('hex')}`;
    let partial = this.#partial.get(key);
    if (!partial) {
      let mine = 0;
      for (const p of this.#partial.values()) if (p.sender === sender) mine++;
      if (mine >= MAX_PARTIAL_PER_SENDER || this.#partial.size >= MAX_PARTIAL) return this.#drop();
      partial = { sender, kind: f[0], chunks: new Array(count), received: 0, bytes: 0, startedAt: now };
      this.#partial.set(key, partial);
    }
    if (partial.chunks.length !== count || partial.kind !== f[0]) {
      this.#remove(key, partial);
      return this.#drop();
    }
    if (partial.chunks[index]) return undefined; // a duplicate
    const chunk = f.slice(FRAGMENT_HEADER);
    if (partial.bytes + chunk.length > MAX_MESSAGE_BYTES || this.#held + chunk.length > MAX_HELD_BYTES) {
      this.#remove(key, partial);
      return this.#drop();
    }
    partial.chunks[index] = chunk;
    partial.received++;
    partial.bytes += chunk.length;
    this.#held += chunk.length;
    if (partial.received < count) return undefined;
    this.#remove(key, partial);
    this.stats.completed++;
    const payload = new Uint8Array(partial.bytes);
    let offset = 0;
    for (const c of partial.chunks as Uint8Array[]) {
      payload.set(c, offset);
      offset += c.length;
    }
    return { kind: partial.kind, payload };
  }

  expire(now: number): void {
    for (const [key, p] of this.#partial) {
      if (now - p.startedAt < EXPIRE_MS) continue;
      this.#remove(key, p);
      this.stats.expired++;
    }
  }

  #remove(key: string, p: Partial): void {
    this.#partial.delete(key);
    this.#held -= p.bytes;
  }

  #drop(): undefined {
    this.stats.dropped++;
    return undefined;
  }
}
