/**
 * One running webxdc app instance: an app (its files) on one topic of a
 * Node. Status updates are operations on the topic's stream, numbered by
 * the UpdateLog; the realtime channel is the topic's ephemeral stream.
 * Uses only the Node's public API (stream, ephemeralStream, store cursors).
 */
import { EventEmitter } from 'node:events';
import { crypto, toHex, WalkawayError } from '../core/index.ts';
import type { EphemeralStream, Node, TopicStream } from '../node/index.ts';
import type { WebxdcArchive } from './archive.ts';
import { Reassembler, splitRealtime } from './realtime.ts';
import { UpdateLog, type StoredUpdate } from './update-log.ts';
import { ARCHIVE_CHUNK, decodeRealtimeChunk, decodeTopicBody, encodeArchiveChunk, encodeUpdateBody, MAX_ARCHIVE_CHUNKS, normalizeUpdate } from './wire.ts';

export interface WebxdcAppOptions {
  /** A topic name, a ticket, or the topic's 32 bytes. */
  topic: string | Uint8Array;
  archive?: WebxdcArchive;
  selfName: string;
  /** Milliseconds, monotonic (default performance.now): expiry of partial realtime items. */
  now?: () => number;
}

export interface WebxdcAppEvents {
  update: [StoredUpdate];
  realtime: [Uint8Array];
}

const SELF_ADDR_DOMAIN = new TextEncoder().encode('walkaway webxdc selfAddr v1');

/**
 * `selfAddr`: stable for one identity and one app instance (topic), and
 * unlinkable across instances (the spec, 1.2): BLAKE3 of a domain, the
 * public key and the topic.
 */
export function selfAddrOf(publicKeyHex: string, topic: Uint8Array): string {
  const key = new TextEncoder().encode(publicKeyHex);
  const input = new Uint8Array(SELF_ADDR_DOMAIN.length + key.length + topic.length);
  input.set(SELF_ADDR_DOMAIN);
  input.set(key, SELF_ADDR_DOMAIN.length);
  input.set(topic, SELF_ADDR_DOMAIN.length + key.length);
  return toHex(crypto().blake3(input));
}

export class WebxdcApp extends EventEmitter<WebxdcAppEvents> {
  readonly node: Node;
  readonly topic: Uint8Array;
  readonly topicHex: string;
  readonly selfAddr: string;
  selfName: string;
  archive: WebxdcArchive | undefined;
  readonly log: UpdateLog;
  readonly #stream: TopicStream;
  readonly #ephemeral: EphemeralStream;
  readonly #reassembler = new Reassembler();
  readonly #now: () => number;
  #realtimeId = 0;
  #closed = false;

  constructor(node: Node, options: WebxdcAppOptions) {
    super();
    this.node = node;
    this.archive = options.archive;
    this.selfName = options.selfName;
    this.#now = options.now ?? (() => performance.now());
    this.#stream = node.stream(options.topic);
    this.#ephemeral = node.ephemeralStream(this.#stream.topic);
    this.topic = this.#stream.topic;
    this.topicHex = toHex(this.topic);
    this.selfAddr = selfAddrOf(node.id, this.topic);
    this.log = new UpdateLog(node.store, this.topicHex);
    void this.#readUpdates();
    void this.#readRealtime();
  }

  /** The ticket others join this instance with. */
  ticket(): string {
    return this.node.ticket(this.topic);
  }

  /** `webxdc.sendUpdate`: checks the update (size, fields) and publishes it; it comes back through `update`. */
  async sendUpdate(updateJson: string): Promise<void> {
    if (this.#closed) throw new WalkawayError('CLOSED', 'the app is closed');
    const { json } = normalizeUpdate(updateJson);
    await this.#stream.tx.publish(encodeUpdateBody(json));
  }

  /** `setUpdateListener`'s replay: every update after `serial`, with the highest serial known now. */
  updatesAfter(serial: number, limit?: number): { updates: StoredUpdate[]; maxSerial: number } {
    return { updates: this.log.after(serial, limit), maxSerial: this.log.maxSerial };
  }

  /** `realtimeChannel.send`: to the peers on the topic now; never stored, never back to us. */
  async sendRealtime(data: Uint8Array): Promise<void> {
    if (this.#closed) throw new WalkawayError('CLOSED', 'the app is closed');
    this.#realtimeId = (this.#realtimeId + 1) >>> 0;
    for (const piece of splitRealtime(data, this.#realtimeId)) await this.#ephemeral.tx.publish(piece);
  }

  /** Publishes the app's `.xdc` on the topic, so people invited from a chat can open it. */
  async publishArchive(bytes: Uint8Array): Promise<Uint8Array> {
    const count = Math.max(1, Math.ceil(bytes.length / ARCHIVE_CHUNK));
    if (count > MAX_ARCHIVE_CHUNKS)
      throw new WalkawayError('TOO_LARGE', `the app is ${bytes.length} bytes, more than ${MAX_ARCHIVE_CHUNKS * ARCHIVE_CHUNK} can be shared`);
    const sha = crypto().blake3(bytes);
    for (let i = 0; i < count; i++) await this.#stream.tx.publish(encodeArchiveChunk(i, count, sha, bytes.subarray(i * ARCHIVE_CHUNK, (i + 1) * ARCHIVE_CHUNK)));
    return sha;
  }

  /**
   * Resolves with the `.xdc` whose BLAKE3 is `sha` once all its pieces are
   * on the topic: a stream of its own replays what is stored and follows
   * what arrives, so this works after a restart too.
   */
  async fetchArchive(sha: Uint8Array, signal?: AbortSignal): Promise<Uint8Array> {
    const want = toHex(sha);
    const stop = new AbortController();
    signal?.addEventListener('abort', () => stop.abort());
    const stream = this.node.stream(this.topic, { from: 0, signal: stop.signal });
    let pieces: Map<number, Uint8Array> | undefined;
    try {
      for await (const event of stream.rx) {
        const body = decodeTopicBody(event.body);
        event.ack();
        if (body?.kind !== 'archive' || toHex(body.sha) !== want) continue;
        pieces ??= new Map();
        pieces.set(body.index, body.bytes);
        if (pieces.size < body.count) continue;
        const whole = concat([...pieces.entries()].sort((a, b) => a[0] - b[0]).map(([, p]) => p));
        if (toHex(crypto().blake3(whole)) === want) return whole;
        pieces = undefined;
      }
    } finally {
      stop.abort();
    }
    throw new WalkawayError('CLOSED', 'stopped waiting for the app');
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stream.rx.close();
    this.#ephemeral.rx.close();
  }

  async #readUpdates(): Promise<void> {
    try {
      for await (const event of this.#stream.rx) {
        const body = decodeTopicBody(event.body);
        if (body?.kind === 'update') {
          const stored = this.log.add(event.hash.toHex(), body.json, body.meta);
          if (stored) this.emit('update', stored);
        }
        event.ack();
      }
    } catch {
      // the node closed under us: nothing more to read
    }
  }

  async #readRealtime(): Promise<void> {
    try {
      for await (const event of this.#ephemeral.rx) {
        if (event.own) continue;
        const chunk = decodeRealtimeChunk(event.body);
        if (!chunk) continue;
        const whole = this.#reassembler.add(event.author, chunk, this.#now());
        if (whole) this.emit('realtime', whole);
      }
    } catch {
      // closed
    }
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const whole = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    whole.set(p, at);
    at += p.length;
  }
  return whole;
}
