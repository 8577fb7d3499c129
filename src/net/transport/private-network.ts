/**
 * The libp2p private-network protector (the pnet protocol: each side sends
 * a random 24-byte nonce, then every byte is XSalsa20 under the network's
 * pre-shared key), wire-compatible with `@libp2p/pnet`, with the cipher
 * from `@noble/ciphers`.
 *
 * Why not `@libp2p/pnet` itself: its `xsalsa20` module (1.2.0, WASM) keeps
 * one memory for every connection; once one large write grows it, every
 * other connection's view of it is stale, and each of their updates grows
 * it again, by the size of the update. A peer that keeps data flowing
 * drives it to its 64 MB maximum, and the RangeError thrown inside a socket
 * handler ends the process (seen by bench/faults after a 100 MB flood).
 */
import type { AbortOptions, ConnectionProtector, MultiaddrConnection } from '@libp2p/interface';
import { AbstractMultiaddrConnection, byteStream, type SendResult } from '@libp2p/utils';
import { xsalsa20 } from '@noble/ciphers/salsa.js';
import { markHeard } from './liveness.ts';

const NONCE_BYTES = 24;
const KEY_BYTES = 32;
const BLOCK_BYTES = 64;

/** XSalsa20 as a stream: any chunking gives the bytes of one pass over the whole. */
export class XSalsa20Stream {
  readonly #key: Uint8Array;
  readonly #nonce: Uint8Array;
  #offset = 0;

  constructor(key: Uint8Array, nonce: Uint8Array) {
    if (key.length !== KEY_BYTES || nonce.length !== NONCE_BYTES) throw new RangeError('XSalsa20 takes a 32-byte key and a 24-byte nonce');
    this.#key = key;
    this.#nonce = nonce;
  }

  update(input: Uint8Array): Uint8Array {
    const out = new Uint8Array(input.length);
    let done = 0;
    const within = this.#offset % BLOCK_BYTES;
    if (within !== 0 && input.length > 0) {
      // Finish the block the last chunk began.
      const block = xsalsa20(this.#key, this.#nonce, new Uint8Array(BLOCK_BYTES), undefined, Math.floor(this.#offset / BLOCK_BYTES));
      done = Math.min(BLOCK_BYTES - within, input.length);
      for (let i = 0; i < done; i++) out[i] = input[i] ^ block[within + i];
    }
    if (done < input.length) {
      xsalsa20(this.#key, this.#nonce, input.subarray(done), out.subarray(done), (this.#offset + done) / BLOCK_BYTES);
    }
    this.#offset += input.length;
    return out;
  }
}

/** The 32-byte key of a libp2p PSK file (`/key/swarm/psk/1.0.0/`, `/base16/`, hex key). */
export function decodePskFile(file: Uint8Array): Uint8Array {
  const lines = new TextDecoder().decode(file).split(/\r\n|\r|\n/);
  const hex = lines[2] ?? '';
  if (lines[0] !== '/key/swarm/psk/1.0.0/' || lines[1] !== '/base16/' || !/^[0-9a-fA-F]{64}$/.test(hex)) {
    throw new RangeError('not a version 1 pre-shared key file');
  }
  return Uint8Array.from(hex.match(/../g)!, (h) => parseInt(h, 16));
}

class PrivateConnection extends AbstractMultiaddrConnection {
  readonly #inner: MultiaddrConnection;
  readonly #in: XSalsa20Stream;
  readonly #out: XSalsa20Stream;

  constructor(inner: MultiaddrConnection, psk: Uint8Array, localNonce: Uint8Array, remoteNonce: Uint8Array) {
    super({ log: inner.log.newScope('private-network'), remoteAddr: inner.remoteAddr, direction: inner.direction });
    this.#inner = inner;
    this.#in = new XSalsa20Stream(psk, remoteNonce);
    this.#out = new XSalsa20Stream(psk, localNonce);
    inner.addEventListener('message', (event) => {
      markHeard(inner);
      const data = event.data;
      if (data instanceof Uint8Array) this.onData(this.#in.update(data));
      else for (const chunk of data) this.onData(this.#in.update(chunk));
    });
    inner.addEventListener('drain', () => this.onMuxerDrain());
    inner.addEventListener('close', (event) => {
      if (event.error == null) this.onTransportClosed();
      else if (event.local) this.abort(event.error);
      else this.onRemoteReset();
    });
  }

  async sendClose(options?: AbortOptions): Promise<void> {
    await this.#inner.close(options);
  }

  sendData(data: { byteLength: number; subarray(): Uint8Array }): SendResult {
    return { sentBytes: data.byteLength, canSendMore: this.#inner.send(this.#out.update(data.subarray())) };
  }

  sendReset(err: Error): void {
    this.#inner.abort(err);
  }

  sendPause(): void {
    this.#inner.pause();
  }

  sendResume(): void {
    this.#inner.resume();
  }
}

/** `connectionProtector` for createLibp2p: strangers without the key cannot finish a handshake. */
export function privateNetwork(init: { psk: Uint8Array; timeoutMs: number }): () => ConnectionProtector {
  const key = decodePskFile(init.psk);
  return () => ({
    tag: '/key/swarm/psk/1.0.0/',
    async protect(connection: MultiaddrConnection, options?: AbortOptions): Promise<MultiaddrConnection> {
      const signal = options?.signal ?? AbortSignal.timeout(init.timeoutMs);
      const localNonce = globalThis.crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
      const bytes = byteStream(connection);
      const [remote] = await Promise.all([bytes.read({ bytes: NONCE_BYTES, signal }), bytes.write(localNonce, { signal })]);
      return new PrivateConnection(bytes.unwrap(), key, localNonce, remote.subarray());
    },
  });
}
