import assert from 'node:assert/strict';
import type { Duplex } from 'node:stream';
import { describe, it } from 'node:test';
import '../../src/net/polyfill.ts';
import type { Stream } from '@libp2p/interface';
import { multiaddr } from '@multiformats/multiaddr';
import { networkId, PrivateKey } from '../../src/core/index.ts';
import { createHost } from '../../src/net/transport/host.ts';
import { streamToDuplex, WRITE_MARK } from '../../src/net/transport/stream-duplex.ts';

const PROTOCOL = '/walkaway-test/stream-duplex/1';
const CHUNK = 65536;

/**
 * Two hosts on 127.0.0.1: `a` writes `chunks` chunks of 64 KiB, each filled
 * with its index, through `streamToDuplex` and ends; `b` reads them with
 * `read`. `afterWrite` sees the writer's stream after every write.
 */
async function transfer(seed: number, chunks: number, read: (input: Duplex) => Promise<void>, afterWrite?: (stream: Stream) => void): Promise<void> {
  const key = (n: number) => PrivateKey.fromBytes(new Uint8Array(32).fill(n));
  const a = await createHost({ privateKey: key(seed), networkId: networkId('duplex-test'), listen: ['/ip4/127.0.0.1/tcp/0'] });
  const b = await createHost({ privateKey: key(seed + 1), networkId: networkId('duplex-test'), listen: [] });
  try {
    await a.handle(PROTOCOL, (stream) => {
      const out = streamToDuplex(stream);
      void (async () => {
        for (let i = 0; i < chunks; i++) {
          const more = out.write(new Uint8Array(CHUNK).fill(i));
          afterWrite?.(stream);
          if (!more) await new Promise((r) => out.once('drain', r));
        }
        out.end();
      })();
    });
    const target = multiaddr(
      a
        .getMultiaddrs()
        .find((m) => m.toString().includes('127.0.0.1'))!
        .toString(),
    );
    await read(streamToDuplex(await b.dialProtocol(target, PROTOCOL)));
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
}

describe('streamToDuplex over real libp2p hosts', () => {
  it('a slow reader gets every byte the writer sent before it closed (issue 21: sync lost its tail)', async () => {
    // 6 MiB: more than the reader buffers, so the reader's stream is paused when the writer closes.
    const chunks = 96;
    let received = 0;
    let sum = 0;
    await transfer(1, chunks, async (input) => {
      for await (const chunk of input) {
        for (const byte of chunk as Uint8Array) sum += byte;
        received += (chunk as Uint8Array).length;
        // A reader slower than the writer: stays paused for a while now and then.
        if (received % (1 << 20) < (chunk as Uint8Array).length) await new Promise((r) => setTimeout(r, 200));
      }
    });
    assert.equal(received, chunks * CHUNK);
    assert.equal(sum, CHUNK * ((chunks * (chunks - 1)) / 2));
  });

  it('a writer ahead of a slow reader leaves at most WRITE_MARK (plus one chunk) queued in the stream', async () => {
    const chunks = 256;
    let mostQueued = 0;
    let received = 0;
    await transfer(
      3,
      chunks,
      async (input) => {
        for await (const chunk of input) {
          received += (chunk as Uint8Array).length;
          if (received % (1 << 20) < (chunk as Uint8Array).length) await new Promise((r) => setTimeout(r, 20));
        }
      },
      (stream) => {
        mostQueued = Math.max(mostQueued, stream.writeBufferLength);
      },
    );
    assert.equal(received, chunks * CHUNK);
    assert.ok(mostQueued <= WRITE_MARK + CHUNK, `at most ${WRITE_MARK + CHUNK} bytes queued, saw ${mostQueued}`);
  });
});
