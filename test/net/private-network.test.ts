import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import '../../src/net/polyfill.ts';
import { xsalsa20 } from '@noble/ciphers/salsa.js';
import { multiaddr } from '@multiformats/multiaddr';
import { networkId, PrivateKey } from '../../src/core/index.ts';
import { createHost, pnetKey } from '../../src/net/transport/host.ts';
import { decodePskFile, XSalsa20Stream } from '../../src/net/transport/private-network.ts';
import { SplitMix32 } from '../../src/net/membership/random.ts';

function bytes(rng: SplitMix32, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.nextU32() & 0xff;
  return out;
}

describe('private network (pnet) protector', () => {
  it('XSalsa20Stream gives one pass over the whole for any chunking, across many interleaved streams', () => {
    const rng = new SplitMix32(7);
    const key = bytes(rng, 32);
    // Six streams updated in turn with chunks from 0 bytes to 1 MiB: the
    // pattern that made the WASM xsalsa20 of @libp2p/pnet grow without end.
    const streams = Array.from({ length: 6 }, () => ({ nonce: bytes(rng, 24), plain: [] as Uint8Array[], cipher: [] as Uint8Array[] }));
    const ciphers = streams.map((s) => new XSalsa20Stream(key, s.nonce));
    for (let round = 0; round < 40; round++) {
      for (let i = 0; i < streams.length; i++) {
        const size = round % 7 === 3 ? (1 << 20) + (rng.nextU32() % 100) : rng.nextU32() % 200;
        const chunk = bytes(rng, size);
        streams[i].plain.push(chunk);
        streams[i].cipher.push(ciphers[i].update(chunk));
      }
    }
    for (const s of streams) {
      const whole = Buffer.concat(s.plain);
      assert.deepEqual(Buffer.concat(s.cipher), Buffer.from(xsalsa20(key, s.nonce, whole)));
    }
  });

  it('decodes the PSK file of a network id and refuses anything else', () => {
    const key = decodePskFile(pnetKey(networkId('walkaway')));
    assert.equal(key.length, 32);
    assert.throws(() => decodePskFile(new TextEncoder().encode('/key/swarm/psk/1.0.0/\n/base16/\nzz')), RangeError);
  });

  it('two hosts of one network connect and talk through it; a host of another network cannot connect', async () => {
    const a = await createHost({ privateKey: PrivateKey.generate(), networkId: networkId('pnet-test'), listen: ['/ip4/127.0.0.1/tcp/0'] });
    const b = await createHost({ privateKey: PrivateKey.generate(), networkId: networkId('pnet-test'), listen: ['/ip4/127.0.0.1/tcp/0'] });
    const stranger = await createHost({ privateKey: PrivateKey.generate(), networkId: networkId('other'), listen: ['/ip4/127.0.0.1/tcp/0'] });
    try {
      const target = multiaddr(
        a
          .getMultiaddrs()
          .find((m) => m.toString().includes('127.0.0.1'))!
          .toString(),
      );
      const rtt = await (b.services as { ping: { ping(addr: unknown, options?: unknown): Promise<number> } }).ping.ping(target, { signal: AbortSignal.timeout(20_000) });
      assert.equal(typeof rtt, 'number');
      await assert.rejects(stranger.dial(target, { signal: AbortSignal.timeout(5_000) }));
    } finally {
      await Promise.all([a.stop(), b.stop(), stranger.stop()]);
    }
  });
});
