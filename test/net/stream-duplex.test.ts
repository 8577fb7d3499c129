import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import '../../src/net/polyfill.ts';
import { multiaddr } from '@multiformats/multiaddr';
import { networkId, PrivateKey } from '../../src/core/index.ts';
import { createHost } from '../../src/net/transport/host.ts';
import { streamToDuplex, WRITE_MARK } from '../../src/net/transport/stream-duplex.ts';

const PROTOCOL = '/walkaway-test/stream-duplex/1';

describe('streamToDuplex over real libp2p hosts', () => {
  it('a slow reader gets every byte the writer sent before it closed (issue 21: sync lost its tail)', async () => {
    const a = await createHost({ privateKey: PrivateKey.fromBytes(new Uint8Array(32).fill(1)), networkId: networkId('duplex-test'), listen: ['/ip4/127.0.0.1/tcp/0'] });
    const b = await createHost({ privateKey: PrivateKey.fromBytes(new Uint8Array(32).fill(2)), networkId: networkId('duplex-test'), listen: [] });
    // 6 MiB in 64 KiB chunks, each chunk filled with its index: more than the
    // reader buffers, so the reader's stream is paused when the writer closes.
    const chunks = 96;
    try {
      await a.handle(PROTOCOL, (stream) => {
        const out = streamToDuplex(stream);
        void (async () => {
          for (let i = 0; i < chunks; i++) {
            if (!out.write(new Uint8Array(65536).fill(i))) await new Promise((r) => out.once('drain', r));
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
      const input = streamToDuplex(await b.dialProtocol(target, PROTOCOL));
      let received = 0;
      let sum = 0;
      for await (const chunk of input) {
        for (const byte of chunk as Uint8Array) sum += byte;
        received += (chunk as Uint8Array).length;
        // A reader slower than the writer: stays paused for a while now and then.
        if (received % (1 << 20) < (chunk as Uint8Array).length) await new Promise((r) => setTimeout(r, 200));
      }
      assert.equal(received, chunks * 65536);
      assert.equal(sum, 65536 * ((chunks * (chunks - 1)) / 2));
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it('a writer ahead of a slow reader leaves at most WRITE_MARK (plus one chunk) queued in the stream', async () => {
    const a = await createHost({ privateKey: PrivateKey.fromBytes(new Uint8Array(32).fill(3)), networkId: networkId('duplex-test'), listen: ['/ip4/127.0.0.1/tcp/0'] });
    const b = await createHost({ privateKey: PrivateKey.fromBytes(new Uint8Array(32).fill(4)), networkId: networkId('duplex-test'), listen: [] });
    const chunks = 256;
    let mostQueued = 0;
    try {
      await a.handle(PROTOCOL, (stream) => {
        const out = streamToDuplex(stream);
        void (async () => {
          for (let i = 0; i < chunks; i++) {
            const more = out.write(new Uint8Array(65536).fill(i));
            mostQueued = Math.max(mostQueued, stream.writeBufferLength);
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
      const input = streamToDuplex(await b.dialProtocol(target, PROTOCOL));
      let received = 0;
      for await (const chunk of input) {
        received += (chunk as Uint8Array).length;
        if (received % (1 << 20) < (chunk as Uint8Array).length) await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(received, chunks * 65536);
      assert.ok(mostQueued <= WRITE_MARK + 65536, `at most ${WRITE_MARK + 65536} bytes queued, saw ${mostQueued}`);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});
