/**
 * Unreliable multicast on the LAN: one UDP multicast group carries, for every
 * joined topic, broadcast-only sync (src/sync/broadcast.ts: announcements of
 * log heights and the operations others lack) and ephemeral messages, for
 * peers that have no connection yet. Nothing is ever answered; loss only
 * slows convergence.
 *
 * Privacy: every datagram is sealed (multicast-crypto.ts, wire format v2)
 * with a key derived from the network id and the topic, and names its topic
 * only by an opaque tag; a listener who cannot guess the topic learns sizes,
 * timing and which datagrams share a topic, nothing else. Still opt-in
 * (`multicast: true`): a guessable topic name is no secret.
 *
 * Receiving is bounded: datagram size, unknown tags dropped before any
 * crypto, a datagram and byte budget per sender and overall, and
 * authentication failures counted and dropped.
 */
import dgram from 'node:dgram';
import { randomBytes as systemRandomBytes } from '@noble/ciphers/utils.js';
import { toHex, WalkawayError, type Operation } from '../../core/index.ts';
import type { IngestOutcome, Store } from '../../store/index.ts';
import { BroadcastSync, type BroadcastOutput } from '../../sync/index.ts';
import type { Log } from '../../core/log.ts';
import { ReceiveBudget, type ReceiveBudgetConfig } from './multicast-budget.ts';
import { deriveTopicKeys, NONCE_BYTES, open, seal, SEAL_OVERHEAD, topicTagOf, type TopicKeys } from './multicast-crypto.ts';
import { DATAGRAM_TARGET, FRAGMENT_HEADER, fragment, Reassembler } from './multicast-fragments.ts';

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
  /** The node's inbound path: checks the signature, stores, hands on; `done` gets the outcome. */
  ingest: (topic: Uint8Array, operation: Operation, done: (outcome: IngestOutcome) => void) => void;
  onEphemeral: (topic: Uint8Array, bytes: Uint8Array) => void;
  log: Log;
  /** Source of nonces (seeded in tests). */
  randomBytes?: (length: number) => Uint8Array;
  /** Milliseconds, for the receive budgets (a fake clock in tests). */
  now?: () => number;
  budget?: Partial<ReceiveBudgetConfig>;
}

/** What the receive path did with datagrams, by outcome. */
export interface MulticastStats {
  sent: number;
  received: number;
  /** Too short, too long or another wire version. */
  malformed: number;
  /** A tag of no topic joined here (another topic or network, or noise). */
  unknownTopic: number;
  /** Over the sender's or the overall budget. */
  overBudget: number;
  /** Tag known, but the seal does not open: forged, altered or another key. */
  unauthenticated: number;
  /** Opened, then refused by the broadcast machine or of an unknown kind. */
  rejected: number;
  accepted: number;
  /** Datagrams that were fragments of a larger payload (sent), and payloads put back together (received). */
  fragmentsSent: number;
  reassembled: number;
  /** Payloads not sent: over MAX_MESSAGE_BYTES, or the paced send queue was full (the carousel sends again later). */
  notSent: number;
}

/**
 * Operations held for a gap, per topic: each came in a datagram of at most
 * MAX_DATAGRAM bytes, so this bounds the held bytes too (about 15 MB).
 */
const MAX_PENDING = 256;
const KIND_SYNC = 0;
const KIND_EPHEMERAL = 1;
/** A piece of a larger payload (multicast-fragments.ts); older nodes drop it as an unknown kind. */
const KIND_FRAGMENT = 2;
/** Sending is paced below a receiver's per-sender budget (500 datagrams/s, multicast-budget.ts). */
const SEND_PER_SEC = 400;
const SEND_BURST = 64;
const MAX_QUEUED = 4096;
/** Largest datagram sent or accepted (a UDP datagram is at most 65,507 bytes). */
export const MAX_DATAGRAM = 60_000;

interface Joined {
  machine: BroadcastSync;
  keys: TopicKeys;
}

export class MulticastChannel {
  readonly #o: Required<Omit<MulticastOptions, 'interface' | 'budget'>> & { interface?: string };
  readonly #joined = new Map<string, Joined>();
  /** Topic tag (hex) to the joined topic's key (hex): the receive path's only lookup. */
  readonly #byTag = new Map<string, string>();
  readonly #budget: ReceiveBudget;
  readonly #stats: MulticastStats = {
    sent: 0,
    received: 0,
    malformed: 0,
    unknownTopic: 0,
    overBudget: 0,
    unauthenticated: 0,
    rejected: 0,
    accepted: 0,
    fragmentsSent: 0,
    reassembled: 0,
    notSent: 0,
  };
  readonly #reassembler = new Reassembler();
  readonly #queue: Uint8Array[] = [];
  #tokens = SEND_BURST;
  #refilledAt = 0;
  #drainTimer: NodeJS.Timeout | undefined;
  #socket: dgram.Socket | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: MulticastOptions) {
    this.#o = {
      group: '239.255.77.77',
      port: 47077,
      tickMs: 2000,
      randomBytes: systemRandomBytes,
      now: () => performance.now(),
      ...options,
    };
    this.#budget = new ReceiveBudget(options.budget ?? {}, this.#o.now());
  }

  async start(): Promise<void> {
    const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    socket.on('message', (datagram, from) => this.receive(new Uint8Array(datagram.buffer, datagram.byteOffset, datagram.byteLength), `${from.address}:${from.port}`));
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
    clearTimeout(this.#drainTimer);
    this.#queue.length = 0;
    this.#socket?.close();
    this.#socket = undefined;
  }

  stats(): MulticastStats {
    return { ...this.#stats };
  }

  join(topic: Uint8Array): void {
    const key = toHex(topic);
    if (this.#joined.has(key)) return;
    const keys = deriveTopicKeys(this.#o.networkId, topic);
    this.#joined.set(key, { machine: new BroadcastSync(topic, { maxPending: MAX_PENDING }), keys });
    this.#byTag.set(toHex(keys.tag), key);
  }

  leave(topic: Uint8Array): void {
    const key = toHex(topic);
    const joined = this.#joined.get(key);
    if (!joined) return;
    this.#joined.delete(key);
    this.#byTag.delete(toHex(joined.keys.tag));
  }

  /** Announces every topic's heights now (also run on a timer). */
  tick(): void {
    this.#budget.expire(this.#o.now());
    for (const joined of this.#joined.values()) {
      this.#apply(joined, joined.machine.handle({ type: 'tick', heights: this.#o.store.heights(joined.machine.topic) }));
    }
  }

  sendEphemeral(topic: Uint8Array, bytes: Uint8Array): void {
    const joined = this.#joined.get(toHex(topic));
    if (joined) this.#send(joined, KIND_EPHEMERAL, bytes);
  }

  /**
   * One datagram from the LAN (the socket calls this; tests may too). Cheap
   * checks first: size, then the tag, then the sender's budget; only then
   * the AEAD and the decoders. Never throws.
   */
  receive(datagram: Uint8Array, sender: string): void {
    this.#stats.received++;
    const tag = datagram.length <= MAX_DATAGRAM ? topicTagOf(datagram) : undefined;
    if (!tag) {
      this.#stats.malformed++;
      return;
    }
    const joined = this.#joined.get(this.#byTag.get(toHex(tag)) ?? '');
    if (!joined) {
      this.#stats.unknownTopic++;
      return;
    }
    if (!this.#budget.admit(sender, datagram.length, this.#o.now())) {
      this.#stats.overBudget++;
      return;
    }
    let opened = open(joined.keys, datagram);
    if (opened instanceof WalkawayError) {
      this.#stats.unauthenticated++;
      return;
    }
    if (opened.kind === KIND_FRAGMENT) {
      const whole = this.#reassembler.add(sender, opened.payload, this.#o.now());
      if (!whole) return;
      this.#stats.reassembled++;
      if (whole.kind === KIND_FRAGMENT) {
        this.#stats.rejected++;
        return;
      }
      opened = whole;
    }
    try {
      if (opened.kind === KIND_SYNC) {
        const before = joined.machine.stats.dropped;
        this.#apply(joined, joined.machine.handle({ type: 'recv', packet: opened.payload }));
        this.#stats[joined.machine.stats.dropped > before ? 'rejected' : 'accepted']++;
      } else if (opened.kind === KIND_EPHEMERAL) {
        this.#stats.accepted++;
        this.#o.onEphemeral(joined.machine.topic, opened.payload);
      } else {
        this.#stats.rejected++;
      }
    } catch (err) {
      this.#stats.rejected++;
      this.#o.log(`multicast: datagram dropped: ${(err as Error).message}`);
    }
  }

  #apply(joined: Joined, outputs: BroadcastOutput[]): void {
    const machine = joined.machine;
    for (const out of outputs) {
      switch (out.type) {
        case 'broadcast':
          this.#send(joined, KIND_SYNC, out.packet);
          break;
        case 'read-log': {
          const page = this.#o.store.readLog(out.author, out.logId, out.afterSeq, out.limit);
          this.#apply(joined, machine.handle({ type: 'log-page', operations: page }));
          break;
        }
        case 'ingest': {
          const request = out.request;
          this.#o.ingest(machine.topic, request.operation, (outcome) => this.#apply(joined, machine.handle({ type: 'ingested', results: [{ request, outcome }] })));
          break;
        }
        case 'emit':
          if (out.event.type === 'dropped') this.#o.log(`multicast: dropped ${out.event.error.message}`);
          break;
      }
    }
  }

  /** Seals a payload into one datagram, or into fragments when it is larger than a datagram on a real link; sends paced. */
  #send(joined: Joined, kind: number, payload: Uint8Array): void {
    if (!this.#socket) return;
    if (payload.length + 1 + SEAL_OVERHEAD <= DATAGRAM_TARGET) {
      this.#enqueue([seal(joined.keys, kind, payload, this.#o.randomBytes(NONCE_BYTES))]);
      return;
    }
    const parts = fragment(kind, payload, this.#o.randomBytes(8), DATAGRAM_TARGET - 1 - SEAL_OVERHEAD - FRAGMENT_HEADER);
    if (parts.length === 0 || this.#queue.length + parts.length > MAX_QUEUED) {
      this.#stats.notSent++;
      this.#o.log(`multicast: a payload of ${payload.length} bytes not sent (${parts.length === 0 ? 'too large' : 'send queue full'})`);
      return;
    }
    this.#stats.fragmentsSent += parts.length;
    this.#enqueue(parts.map((part) => seal(joined.keys, KIND_FRAGMENT, part, this.#o.randomBytes(NONCE_BYTES))));
  }

  #enqueue(datagrams: Uint8Array[]): void {
    if (this.#queue.length + datagrams.length > MAX_QUEUED) {
      this.#stats.notSent++;
      return;
    }
    this.#queue.push(...datagrams);
    this.#drain();
  }

  #drain(): void {
    const socket = this.#socket;
    if (!socket) return;
    const now = this.#o.now();
    this.#tokens = Math.min(SEND_BURST, this.#tokens + ((now - this.#refilledAt) * SEND_PER_SEC) / 1000);
    this.#refilledAt = now;
    while (this.#queue.length > 0 && this.#tokens >= 1) {
      this.#tokens--;
      this.#stats.sent++;
      socket.send(this.#queue.shift()!, this.#o.port, this.#o.group, (err) => err && this.#o.log(`multicast send: ${err.message}`));
    }
    if (this.#queue.length > 0 && !this.#drainTimer) {
      this.#drainTimer = setTimeout(() => {
        this.#drainTimer = undefined;
        this.#drain();
      }, 25);
      this.#drainTimer.unref();
    }
  }
}
