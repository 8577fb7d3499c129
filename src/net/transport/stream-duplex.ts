/**
 * A libp2p 3 stream as a Node `Duplex`, so that drivers written for sockets
 * (sync) run over libp2p unchanged. Backpressure crosses in both directions:
 * writes wait for the stream's 'drain', reads pause the stream while the
 * Duplex's buffer is full.
 */
import { Duplex } from 'node:stream';
import type { Stream } from '@libp2p/interface';

/** Bytes a writer may leave queued in the stream before its next write waits. */
export const WRITE_MARK = 1024 * 1024;

/**
 * Until the stream takes writes and holds at most WRITE_MARK unsent. Its
 * 'drain' comes as soon as the muxer takes data again, maybe with most of
 * the buffer still queued: letting the next write in then grew the buffer
 * without bound (50-65 MB serving a sync of 1M operations).
 */
async function untilWritable(stream: Stream): Promise<void> {
  while (stream.writeStatus === 'writable' && (stream.writableNeedsDrain || stream.writeBufferLength > WRITE_MARK)) {
    if (stream.writableNeedsDrain) await nextDrain(stream);
    // Sending resumes in a microtask after 'drain': look again after it.
    else await new Promise((resolve) => setImmediate(resolve));
  }
}

/**
 * The stream's next 'drain' (rejects at its close). Not `onDrain()`: in
 * @libp2p/utils 7.4 that keeps its first, resolved promise, so after one
 * drain it resolves at once, and a waiting writer spun without a turn of
 * the event loop.
 */
function nextDrain(stream: Stream): Promise<void> {
  return new Promise((resolve, reject) => {
    const drained = () => {
      stream.removeEventListener('close', closed);
      resolve();
    };
    const closed = () => {
      stream.removeEventListener('drain', drained);
      reject(new Error('the stream closed while a write waited'));
    };
    stream.addEventListener('drain', drained, { once: true });
    stream.addEventListener('close', closed, { once: true });
  });
}

export function streamToDuplex(stream: Stream): Duplex {
  const duplex = new Duplex({
    write(chunk: Buffer, _encoding, callback) {
      try {
        if (stream.send(chunk) && stream.writeBufferLength <= WRITE_MARK) callback();
        else untilWritable(stream).then(() => callback(), callback);
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
  // The pause waits for a microtask: `resume()` (@libp2p/utils 7.4) hands
  // out what was buffered before it tells the muxer to resume, so a pause
  // made inside that hand-out was undone at once. yamux then kept granting
  // window to a paused stream until libp2p aborted it at its 4 MiB read
  // buffer (3 of 5 all-signature syncs of 100k operations).
  let pausing = false;
  const pauseSoon = () => {
    if (pausing) return;
    pausing = true;
    queueMicrotask(() => {
      pausing = false;
      if (stream.readStatus === 'readable' && duplex.readableLength >= duplex.readableHighWaterMark) stream.pause();
    });
  };
  stream.addEventListener('message', (evt) => {
    const bytes = evt.data instanceof Uint8Array ? evt.data : evt.data.subarray();
    if (!duplex.push(bytes)) pauseSoon();
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
