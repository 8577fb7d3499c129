/**
 * One end of an in-memory stream of a `MemoryNetwork` link: a Node Duplex
 * whose writes travel as segments over the link (latency, loss repaired by
 * retransmission, in order), and whose reset reaches the other end.
 */
import { Duplex } from 'node:stream';

/** What a stream end needs of its link. */
export interface StreamLink {
  /** Delivers `deliver` at the other end, in order after what was sent before; counts `bytes`. */
  transmit(from: string, bytes: number, deliver: () => void): void;
  /** Is the link still up (not reset)? */
  readonly up: boolean;
  /** The stream is gone on both sides: forget it. */
  release(stream: MemoryStreamEnd): void;
}

export class MemoryStreamEnd extends Duplex {
  other!: MemoryStreamEnd;
  readonly #link: StreamLink;
  readonly owner: string;
  #ended = false;
  #gone = false;

  constructor(link: StreamLink, owner: string) {
    super({ highWaterMark: 64 * 1024 });
    this.#link = link;
    this.owner = owner;
    // A reset must not crash a process whose stream has no reader yet: readers see it anyway.
    this.on('error', () => {});
  }

  override _read(): void {
    // Push-based: segments are pushed as they arrive; a paused reader keeps them buffered.
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    if (!this.#link.up) return callback(new Error('connection reset'));
    const other = this.other;
    const bytes = new Uint8Array(chunk);
    this.#link.transmit(this.owner, bytes.length, () => {
      if (!other.destroyed && !other.readableEnded) other.push(bytes);
    });
    callback();
  }

  override _final(callback: (err?: Error | null) => void): void {
    this.#sendEnd();
    callback();
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    if (!this.#gone) {
      this.#gone = true;
      const other = this.other;
      if (this.#link.up) {
        // A graceful destroy ends our half; an error resets the stream at the other end.
        if (err) this.#link.transmit(this.owner, 0, () => other.reset(new Error('stream reset by peer')));
        else this.#sendEnd();
      }
    }
    if (this.other.#gone || !this.#link.up) this.#link.release(this);
    callback(err);
  }

  /** The link went down, or the other end reset: fail now. */
  reset(error: Error): void {
    if (this.destroyed) return;
    this.#gone = true;
    this.destroy(error);
  }

  #sendEnd(): void {
    if (this.#ended) return;
    this.#ended = true;
    const other = this.other;
    this.#link.transmit(this.owner, 0, () => {
      if (!other.destroyed && !other.readableEnded) other.push(null);
    });
  }
}
