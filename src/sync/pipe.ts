/**
 * Two connected in-memory duplex streams: the transport of tests and
 * simulations. Backpressure crosses the pipe: a write completes only once
 * the other side has room to read it, as with a socket.
 */
import { Duplex } from 'node:stream';

class PipeEnd extends Duplex {
  peer!: PipeEnd;
  /** The write waiting for this side's reader to want more. */
  pendingWrite: (() => void) | undefined;

  override _read(): void {
    const resume = this.pendingWrite;
    this.pendingWrite = undefined;
    resume?.();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    const peer = this.peer;
    setImmediate(() => {
      if (peer.destroyed) return callback();
      if (peer.push(chunk)) callback();
      else peer.pendingWrite = () => callback();
    });
  }

  override _final(callback: (err?: Error | null) => void): void {
    const peer = this.peer;
    setImmediate(() => {
      if (!peer.destroyed) peer.push(null);
      callback();
    });
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    const peer = this.peer;
    // A write of the peer waiting for us to read is dropped, as on a reset socket.
    const resume = this.pendingWrite;
    this.pendingWrite = undefined;
    resume?.();
    setImmediate(() => {
      if (!peer.destroyed) peer.destroy();
    });
    callback(err);
  }
}

export function duplexPair(highWaterMark = 64 * 1024): [Duplex, Duplex] {
  const a = new PipeEnd({ highWaterMark });
  const b = new PipeEnd({ highWaterMark });
  a.peer = b;
  b.peer = a;
  return [a, b];
}
