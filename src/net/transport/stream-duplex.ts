/**
 * A libp2p 3 stream as a Node `Duplex`, so that drivers written for sockets
 * (sync) run over libp2p unchanged. Backpressure crosses in both directions:
 * writes wait for the stream's 'drain', reads pause the stream while the
 * Duplex's buffer is full.
 */
import { Duplex } from 'node:stream';
import type { Stream } from '@libp2p/interface';

export function streamToDuplex(stream: Stream): Duplex {
  const duplex = new Duplex({
    write(chunk: Buffer, _encoding, callback) {
      try {
        if (stream.send(chunk)) callback();
        else stream.onDrain().then(() => callback(), callback);
      } catch (err) {
        callback(err as Error);
      }
    },
    final(callback) {
      stream.close().then(() => callback(), (err: Error) => callback(err));
    },
    read() {
      stream.resume();
    },
    destroy(err, callback) {
      if (err) stream.abort(err);
      else stream.close().catch(() => stream.abort(new Error('closed')));
      callback(err);
    },
  });
  // A remote reset must not crash a process that has no reader on the stream yet: readers see it anyway.
  duplex.on('error', () => {});
  void (async () => {
    try {
      for await (const chunk of stream) {
        const bytes = chunk instanceof Uint8Array ? chunk : chunk.subarray();
        if (!duplex.push(bytes)) stream.pause();
      }
      duplex.push(null);
    } catch (err) {
      duplex.destroy(err as Error);
    }
  })();
  return duplex;
}
