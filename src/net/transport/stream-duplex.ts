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
      stream.close().then(
        () => callback(),
        (err: Error) => callback(err),
      );
    },
    read() {
      if (stream.readStatus === 'paused') stream.resume();
    },
    destroy(err, callback) {
      if (err) stream.abort(err);
      else stream.close().catch(() => stream.abort(new Error('closed')));
      callback(err);
    },
  });
  // A remote reset must not crash a process that has no reader on the stream yet: readers see it anyway.
  duplex.on('error', () => {});
  // Events, not the stream's async iterator: the iterator ends at the remote's
  // close-write even while a paused stream still buffers data, and that data
  // was lost (a slow sync receiver lost the tail of the session). 'end' comes
  // only once the buffer is empty and the remote closed.
  stream.addEventListener('message', (evt) => {
    const bytes = evt.data instanceof Uint8Array ? evt.data : evt.data.subarray();
    if (!duplex.push(bytes) && stream.readStatus === 'readable') stream.pause();
  });
  stream.addEventListener('end', () => duplex.push(null), { once: true });
  stream.addEventListener(
    'close',
    (evt) => {
      if (evt.error) duplex.destroy(evt.error);
      else if (stream.readBufferLength === 0) duplex.push(null);
    },
    { once: true },
  );
  return duplex;
}
