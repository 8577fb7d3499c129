/**
 * Unreliable multicast on the LAN: one UDP multicast group carries, for every
 * joined topic, broadcast-only sync (src/sync/broadcast.ts: announcements of
 * log heights and the operations others lack) and ephemeral messages, for
 * peers that have no connection yet. Nothing is ever answered; loss only
 * slows convergence. Datagrams start with an 8-byte tag of the network id
 * (other networks' traffic is dropped) and a kind byte.
 *
 * Privacy: topic ids travel in clear on the LAN, and a topic id is all it
 * takes to join. So this channel is opt-in (`multicast: true`).
 */
import dgram from 'node:dgram';
import { encode } from 'cborg';
import {
  bytesEqual,
  concatBytes,
  crypto,
  decodeStrictCbor,
  toHex,
  unsignedBytesOf,
  utf8,
  WalkawayError,
  type Operation,
} from '../../core/index.ts';
import type { Store, StoredOperation } from '../../store/index.ts';
import { BroadcastSync, type BroadcastOutput, type IngestResult } from '../../sync/index.ts';
import type { Log } from '../../log.ts';

export interface MulticastOptions {
  store: Store;
  networkId: Uint8Array;
  /** Default 239.255.77.77:47077 on the default interface. */
  group?: string;
  port?: number;
  /** Local interface address for the group (e.g. 127.0.0.1 in tests). */
  interface?: string;
  /** Period of announcements. Default 2 s. */
  tickMs?: number;
  onStored: (topic: Uint8Array, op: StoredOperation) => void;
  onEphemeral: (topic: Uint8Array, bytes: Uint8Array) => void;
  log: Log;
}

const KIND_SYNC = 0;
const KIND_EPHEMERAL = 1;
const TAG_BYTES = 8;
const MAX_DATAGRAM = 60_000;

export class MulticastChannel {
  readonly #o: Required<Omit<MulticastOptions, 'interface'>> & { interface?: string };
  readonly #tag: Uint8Array;
  readonly #machines = new Map<string, BroadcastSync>();
  #socket: dgram.Socket | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: MulticastOptions) {
    this.#o = { group: '239.255.77.77', port: 47077, tickMs: 2000, ...options };
    this.#tag = crypto().blake3(concatBytes(utf8('walkaway/multicast/'), options.networkId)).subarray(0, TAG_BYTES);
  }

  async start(): Promise<void> {
    const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    socket.on('message', (datagram) => this.#receive(new Uint8Array(datagram.buffer, datagram.byteOffset, datagram.byteLength)));
    socket.on('error', (err) => this.#o.log(`multicast: ${err.message}`));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(this.#o.port, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    if (this.#o.interface) socket.setMulticastInterface(this.#o.interface);
    socket.addMembership(this.#o.group, this.#o.interface);
    socket.setMulticastLoopback(true);
    socket.unref();
    this.#socket = socket;
    this.#timer = setInterval(() => this.tick(), this.#o.tickMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#socket?.close();
    this.#socket = undefined;
  }

  join(topic: Uint8Array): void {
    const key = toHex(topic);
    if (!this.#machines.has(key)) this.#machines.set(key, new BroadcastSync(topic));
  }

  leave(topic: Uint8Array): void {
    this.#machines.delete(toHex(topic));
  }

  /** Announces every topic's heights now (also run on a timer). */
  tick(): void {
    for (const machine of this.#machines.values()) {
      this.#apply(machine, machine.handle({ type: 'tick', heights: this.#o.store.heights(machine.topic) }));
    }
  }

  sendEphemeral(topic: Uint8Array, bytes: Uint8Array): void {
    if (this.#machines.has(toHex(topic))) this.#send(KIND_EPHEMERAL, encode([topic, bytes]));
  }

  #apply(machine: BroadcastSync, outputs: BroadcastOutput[]): void {
    for (const out of outputs) {
      switch (out.type) {
        case 'broadcast':
          this.#send(KIND_SYNC, out.packet);
          break;
        case 'read-log': {
          const page = this.#o.store.readLog(out.author, out.logId, out.afterSeq, out.limit);
          this.#apply(machine, machine.handle({ type: 'log-page', operations: page }));
          break;
        }
        case 'ingest':
          this.#apply(machine, machine.handle({ type: 'ingested', results: [this.#ingest(machine.topic, out.request)] }));
          break;
        case 'emit':
          if (out.event.type === 'dropped') this.#o.log(`multicast: dropped ${out.event.error.message}`);
          break;
      }
    }
  }

  /** Signature check, then the store's rules: nothing unverified is stored. */
  #ingest(topic: Uint8Array, request: IngestResult['request']): IngestResult {
    const op: Operation = request.operation;
    if (!op.header.publicKey.verify(unsignedBytesOf(op.headerBytes), op.header.signature)) {
      const error = new WalkawayError('INVALID_SIGNATURE', `signature of ${op.hash.toHex()} does not verify`);
      return { request, outcome: { status: 'rejected', hash: op.hash, error } };
    }
    const outcome = this.#o.store.ingest(op, topic);
    if (outcome.status === 'inserted') this.#o.onStored(topic, outcome.operation);
    return { request, outcome };
  }

  #send(kind: number, payload: Uint8Array): void {
    const socket = this.#socket;
    if (!socket || payload.length + TAG_BYTES + 1 > MAX_DATAGRAM) return;
    const datagram = concatBytes(this.#tag, new Uint8Array([kind]), payload);
    socket.send(datagram, this.#o.port, this.#o.group, (err) => err && this.#o.log(`multicast send: ${err.message}`));
  }

  #receive(datagram: Uint8Array): void {
    if (datagram.length <= TAG_BYTES + 1 || !bytesEqual(datagram.subarray(0, TAG_BYTES), this.#tag)) return;
    const kind = datagram[TAG_BYTES];
    const payload = datagram.subarray(TAG_BYTES + 1);
    try {
      if (kind === KIND_SYNC) {
        for (const machine of this.#machines.values()) this.#apply(machine, machine.handle({ type: 'recv', packet: payload }));
      } else if (kind === KIND_EPHEMERAL) {
        const value = decodeStrictCbor(payload, 'multicast ephemeral datagram');
        if (!Array.isArray(value) || !(value[0] instanceof Uint8Array) || !(value[1] instanceof Uint8Array)) return;
        if (this.#machines.has(toHex(value[0]))) this.#o.onEphemeral(value[0], value[1]);
      }
    } catch (err) {
      this.#o.log(`multicast: bad datagram: ${(err as Error).message}`);
    }
  }
}
