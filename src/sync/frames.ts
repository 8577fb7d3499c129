/**
 * Framing: every message travels as a 4-byte big-endian length and that many
 * bytes of CBOR. The decoder never buffers more than one frame plus one
 * chunk, and refuses a frame over the limit as soon as its length is read.
 */
import { WalkawayError } from '../core/index.ts';

export const FRAME_HEADER_BYTES = 4;

/** Concatenates `messages` into one buffer of length-prefixed frames. */
export function encodeFrames(messages: Uint8Array[]): Buffer {
  let total = 0;
  for (const m of messages) total += FRAME_HEADER_BYTES + m.length;
  const out = Buffer.allocUnsafe(total);
  let offset = 0;
  for (const m of messages) {
    out.writeUInt32BE(m.length, offset);
    out.set(m, offset + FRAME_HEADER_BYTES);
    offset += FRAME_HEADER_BYTES + m.length;
  }
  return out;
}

export class FrameDecoder {
  readonly #maxFrameBytes: number;
  #chunks: Buffer[] = [];
  #buffered = 0;

  constructor(maxFrameBytes: number) {
    this.#maxFrameBytes = maxFrameBytes;
  }

  /** Bytes held that do not form a whole frame yet. */
  get buffered(): number {
    return this.#buffered;
  }

  /**
   * Adds a chunk and returns the whole frames it completes (views into the
   * chunk where possible). Throws TOO_LARGE or MALFORMED on a bad length.
   */
  push(chunk: Uint8Array): Uint8Array[] {
    let buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.#buffered > 0) {
      // Join only once the pending frame is complete (no quadratic copying).
      this.#chunks.push(buf);
      this.#buffered += buf.length;
      const first = this.#chunks[0].length >= FRAME_HEADER_BYTES ? this.#chunks[0] : Buffer.concat(this.#chunks);
      if (first.length < FRAME_HEADER_BYTES) return [];
      const need = FRAME_HEADER_BYTES + this.#checkLength(first.readUInt32BE(0));
      if (this.#buffered < need) return [];
      buf = Buffer.concat(this.#chunks, this.#buffered);
      this.#chunks = [];
      this.#buffered = 0;
    }
    const frames: Uint8Array[] = [];
    let offset = 0;
    while (buf.length - offset >= FRAME_HEADER_BYTES) {
      const length = this.#checkLength(buf.readUInt32BE(offset));
      const end = offset + FRAME_HEADER_BYTES + length;
      if (end > buf.length) break;
      frames.push(buf.subarray(offset + FRAME_HEADER_BYTES, end));
      offset = end;
    }
    if (offset < buf.length) {
      this.#chunks = [buf.subarray(offset)];
      this.#buffered = buf.length - offset;
    }
    return frames;
  }

  #checkLength(length: number): number {
    if (length === 0) throw new WalkawayError('MALFORMED', 'empty frame: a frame holds one CBOR message');
    if (length > this.#maxFrameBytes) {
      throw new WalkawayError('TOO_LARGE', `frame of ${length} bytes, limit ${this.#maxFrameBytes}`, {
        size: length,
        limit: this.#maxFrameBytes,
      });
    }
    return length;
  }
}
