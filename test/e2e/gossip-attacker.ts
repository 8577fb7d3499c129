/**
 * An in-process attacker for gossip attack tests: a real libp2p host on
 * 127.0.0.1 that joins a topic's overlay through a real GossipService (so
 * the victim takes it as a neighbour), then writes raw gossip frames of its
 * choosing on its own stream.
 */
import '../../src/net/polyfill.ts';
import type { Stream } from '@libp2p/interface';
import { multiaddr } from '@multiformats/multiaddr';
import { encode } from 'cborg';
import { createOperation, encodeHeader, networkId, PrivateKey, topicId, withSignature, type Operation } from '../../src/core/index.ts';
import { AddressBook } from '../../src/net/address-book.ts';
import { GossipService } from '../../src/net/gossip/gossip-service.ts';
import { createHost, protocolId } from '../../src/net/transport/host.ts';
import { Libp2pTransport } from '../../src/net/transport/libp2p-transport.ts';
import { encodePayload } from '../../src/node/payload.ts';

export function frame(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + bytes.length);
  new DataView(out.buffer).setUint32(0, bytes.length);
  out.set(bytes, 4);
  return out;
}

export const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it holds (the test runner's own timeout bounds the wait). */
export async function until(check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  for (const end = Date.now() + timeoutMs; !check(); await wait(50)) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
  }
}

export class GossipAttacker {
  readonly key = PrivateKey.generate();
  readonly topic: Uint8Array;
  readonly net = networkId('walkaway');
  #host!: Awaited<ReturnType<typeof createHost>>;
  #gossip!: GossipService;
  #stream: Stream | undefined;
  #seq = 0;

  constructor(topicName: string) {
    this.topic = topicId(topicName);
  }

  get id(): string {
    return this.key.publicKey.toHex();
  }

  /** Connects to the victim and joins the topic's overlay (the victim's neighbour from then on). */
  async join(target: string, victimId: string): Promise<void> {
    if (!this.#host) {
      this.#host = await createHost({ privateKey: this.key, networkId: this.net, listen: ['/ip4/127.0.0.1/tcp/0'] });
      this.#gossip = new GossipService({ transport: new Libp2pTransport(this.#host), networkId: this.net, book: new AddressBook(undefined), seed: 7, onEvent: () => {} });
      await this.#gossip.start();
    }
    // A loaded machine now and then resets a fresh TCP connection: try again, as any peer would.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#host.dial(multiaddr(target));
        break;
      } catch (err) {
        if (attempt === 5) throw err;
        await wait(500);
      }
    }
    this.#gossip.join(this.topic, [victimId]);
  }

  /** Drops the raw stream (the next send opens a new one, redialling if need be). */
  reset(): void {
    this.#stream?.abort(new Error('reset'));
    this.#stream = undefined;
  }

  /** Can the attacker open a new connection to `target` now? */
  async canConnect(target: string): Promise<boolean> {
    try {
      await this.#host.hangUp(multiaddr(target)).catch(() => {});
      await this.#host.dialProtocol(multiaddr(target), protocolId(this.net, 'gossip'));
      return true;
    } catch {
      return false;
    }
  }

  /** Sends a gossip message carrying `payload` (a fresh id each time) on the attacker's raw stream. */
  async gossip(payloads: Uint8Array[], target: string): Promise<boolean> {
    try {
      this.#stream ??= await this.#host.dialProtocol(multiaddr(target), protocolId(this.net, 'gossip'));
      for (const payload of payloads) {
        const id = `${this.id.slice(0, 8)}:${this.#seq++}`;
        if (!this.#stream.send(frame(encode([0, this.topic, { type: 'gossip', id, payload, hop: 1 }])))) await this.#stream.onDrain();
      }
      return true;
    } catch {
      this.#stream = undefined;
      return false; // hung up on
    }
  }

  /** Raw bytes on the attacker's stream (junk frames). */
  async raw(bytes: Uint8Array[], target: string): Promise<boolean> {
    try {
      this.#stream ??= await this.#host.dialProtocol(multiaddr(target), protocolId(this.net, 'gossip'));
      for (const b of bytes) if (!this.#stream.send(b)) await this.#stream.onDrain();
      return true;
    } catch {
      this.#stream = undefined;
      return false;
    }
  }

  async stop(): Promise<void> {
    this.#gossip?.stop();
    await this.#host?.stop();
  }
}

/** A gossip payload of an operation whose signature does not verify. */
export function forgedOperation(body: string): Uint8Array {
  const key = PrivateKey.generate();
  const op = createOperation({ privateKey: key, body: new TextEncoder().encode(body), seqNum: 0 });
  const bad = new Uint8Array(op.header.signature);
  bad[0] ^= 0xff;
  return encodePayload({ kind: 'operation', headerBytes: withSignature(encodeHeader(op.header), bad), body: op.body });
}

/**
 * A validly signed operation of a throwaway key in the topic's log: seq 0,
 * or (`ahead`) seq 3 whose backlink nobody has, so it waits for its gap.
 */
export function throwawayOperation(logId: Uint8Array, body: Uint8Array, ahead = false): { op: Operation; payload: Uint8Array } {
  const privateKey = PrivateKey.generate();
  const extensions = { variant: 'causal' as const, logId, timestamp: Date.now() * 1000, previous: [] };
  const first = ahead ? createOperation({ privateKey, body, seqNum: 0, extensions }) : undefined;
  const op = createOperation({ privateKey, body, seqNum: ahead ? 3 : 0, backlink: first?.hash, extensions });
  return { op, payload: encodePayload({ kind: 'operation', headerBytes: op.headerBytes, body: op.body }) };
}
