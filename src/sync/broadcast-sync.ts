/**
 * Broadcast-only sync, for links where nobody can answer (a radio, a UDP
 * multicast group, a USB stick passed around). A sans-IO machine, one per
 * peer and topic: on every `tick` it broadcasts a compact announcement of its
 * log heights, the operations that announcements heard recently show someone
 * lacks (where a back channel exists), and a carousel page of what it holds,
 * new first, then cycling through the rest (broadcast-sync-carousel.ts), so a
 * listener that can never answer converges too. No reply is ever expected;
 * loss, duplicates and reordering only slow convergence down. Operations that
 * arrive ahead of a gap wait in a bounded buffer. Bad packets are counted and
 * dropped, never fatal.
 *
 * Reads: a tick asks the driver for log ranges with `read-log` outputs; the
 * driver answers each with one `log-page` input, in the order asked (the
 * machine matches answers to reads by that order).
 *
 * Packets (CBOR): `[0, topic, complete, [[author, logId | null, seqNum]...]]`
 * (an announcement; logId null = the topic's default log; `complete` = every
 * log is listed, so an absent log means "none of it") and
 * `[1, topic, [[header, body?]...]]` (operations).
 */
import { encode as cborEncode } from 'cborg';
import {
  bytesEqual,
  decodeOperationUnverified,
  decodeStrictCbor,
  DEFAULT_LIMITS,
  logIdForTopic,
  logIdOf,
  pruneFlagOf,
  PublicKey,
  type Limits,
  type Operation,
  type WalkawayError,
} from '../core/index.ts';
import type { LogHeight } from '../store/index.ts';
import { BroadcastCarousel } from './broadcast-sync-carousel.ts';
import { logKey } from './session-state.ts';
import { asWalkawayError } from './session.ts';
import type { IngestRequest, IngestResult } from './types.ts';

/** A packet holds one operation at the core limits at most once it is over maxPacketBytes (multicast fragments it). */
const MAX_PACKET_READ_BYTES = DEFAULT_LIMITS.maxHeaderBytes + DEFAULT_LIMITS.maxBodyBytes + 4096;

export interface BroadcastConfig {
  /** Largest packet (an operation bigger than this goes alone). */
  maxPacketBytes: number;
  /** Most operations broadcast per tick for logs announced as behind. */
  opsPerTick: number;
  /**
   * Most operations the carousel broadcasts per tick, whether anyone
   * listens or not (0 turns it off: then only announced gaps are served).
   */
  carouselOpsPerTick: number;
  /**
   * While announcements are heard (a back channel exists and feedback
   * serves what peers lack), the carousel runs only every this many ticks:
   * it stays for listeners that cannot answer, at a lower rate.
   */
  carouselEveryWhenAnswered: number;
  /** Announcements and sent operations are remembered for this many ticks. */
  memoryTicks: number;
  /** Operations held while waiting for a gap before them to fill. */
  maxPending: number;
  /**
   * Ticks an operation waits there before it is forgotten: a carousel sends
   * in log order and comes round again, so a stale wait only costs room.
   */
  pendingTicks: number;
  limits: Limits;
}

export const DEFAULT_BROADCAST_CONFIG: BroadcastConfig = {
  maxPacketBytes: 1200,
  opsPerTick: 64,
  carouselOpsPerTick: 16,
  carouselEveryWhenAnswered: 4,
  memoryTicks: 3,
  maxPending: 1024,
  pendingTicks: 64,
  limits: DEFAULT_LIMITS,
};

export type BroadcastInput =
  /** Time to announce; `heights` are the local logs of the topic now. */
  | { type: 'tick'; heights: LogHeight[] }
  | { type: 'recv'; packet: Uint8Array }
  | { type: 'log-page'; operations: Operation[] }
  | { type: 'ingested'; results: IngestResult[] };

export type BroadcastOutput =
  | { type: 'broadcast'; packet: Uint8Array }
  | { type: 'read-log'; author: PublicKey; logId: Uint8Array; afterSeq: number; limit: number }
  | { type: 'ingest'; request: IngestRequest }
  | { type: 'emit'; event: BroadcastEvent };

export type BroadcastEvent = { type: 'operation'; operation: Operation } | { type: 'dropped'; error: WalkawayError };

export interface BroadcastStats {
  packetsSent: number;
  bytesSent: number;
  announcementsSent: number;
  operationsSent: number;
  packetsReceived: number;
  stored: number;
  dropped: number;
}

interface Heard {
  author: PublicKey;
  logId: Uint8Array;
  /** Lowest height heard within the memory window (-1: someone has none). */
  seqNum: number;
  tick: number;
}

export class BroadcastSync {
  readonly config: BroadcastConfig;
  readonly topic: Uint8Array;
  readonly stats: BroadcastStats = {
    packetsSent: 0,
    bytesSent: 0,
    announcementsSent: 0,
    operationsSent: 0,
    packetsReceived: 0,
    stored: 0,
    dropped: 0,
  };
  readonly #defaultLogId: Uint8Array;
  #tick = 0;
  #out: BroadcastOutput[] = [];
  #local = new Map<string, LogHeight>();
  #heard = new Map<string, Heard>();
  /** `logKey:seq` of operations sent or heard on the medium, with the tick. */
  #seen = new Map<string, number>();
  #pending = new Map<string, { op: Operation; tick: number }>();
  #budget = 0;
  #carouselBudget = 0;
  readonly #carousel = new BroadcastCarousel();
  /** Reads asked for this tick, oldest first: which budget each answer spends. */
  #reads: { source: 'feedback' | 'carousel' | 'cycle'; key?: string }[] = [];

  constructor(topic: Uint8Array, config: Partial<BroadcastConfig> = {}) {
    this.topic = topic;
    this.config = { ...DEFAULT_BROADCAST_CONFIG, ...config };
    this.#defaultLogId = logIdForTopic(topic);
  }

  handle(input: BroadcastInput): BroadcastOutput[] {
    this.#out = [];
    switch (input.type) {
      case 'tick':
        this.#onTick(input.heights);
        break;
      case 'recv':
        this.#onPacket(input.packet);
        break;
      case 'log-page':
        this.#onPage(input.operations);
        break;
      case 'ingested':
        this.#onIngested(input.results);
        break;
    }
    const out = this.#out;
    this.#out = [];
    return out;
  }

  #onTick(heights: LogHeight[]): void {
    this.#tick++;
    this.#local = new Map(heights.map((h) => [logKey(h.author.bytes, h.logId), h]));
    this.#forgetOld();
    this.#announce(heights);
    this.#budget = this.config.opsPerTick;
    this.#carouselBudget = this.config.carouselOpsPerTick;
    this.#reads = [];
    for (const [key, mine] of this.#local) {
      const heard = this.#heard.get(key);
      if (!heard || heard.seqNum >= mine.seqNum || this.#budget <= 0) continue;
      // Read past what was sent lately (it is skipped) to fill the budget with new entries.
      const limit = Math.min(this.#budget * (this.config.memoryTicks + 1), mine.seqNum - heard.seqNum);
      this.#out.push({ type: 'read-log', author: mine.author, logId: mine.logId, afterSeq: heard.seqNum, limit });
      this.#reads.push({ source: 'feedback' });
    }
    const answered = this.#heard.size > 0;
    if (answered && this.#tick % Math.max(1, this.config.carouselEveryWhenAnswered) !== 0) return;
    const plan = this.#carousel.plan(this.#local, this.config.carouselOpsPerTick);
    for (const { key, author, logId, afterSeq, limit, cycle } of plan) {
      this.#out.push({ type: 'read-log', author, logId, afterSeq, limit });
      this.#reads.push(cycle ? { source: 'cycle', key } : { source: 'carousel' });
    }
  }

  #announce(heights: LogHeight[]): void {
    const entries = heights.map((h) => [h.author.bytes, bytesEqual(h.logId, this.#defaultLogId) ? null : h.logId, h.seqNum]);
    const perPacket = Math.max(1, Math.floor((this.config.maxPacketBytes - 48) / 72));
    const complete = entries.length <= perPacket;
    // Large sets rotate through the ticks, one packet's worth at a time.
    const start = complete ? 0 : ((this.#tick - 1) * perPacket) % entries.length;
    const part = complete ? entries : entries.slice(start, start + perPacket);
    this.#broadcast(cborEncode([0, this.topic, complete, part]));
    this.stats.announcementsSent++;
  }

  #onPage(operations: Operation[]): void {
    // An answer nobody asked for (or past this tick's reads) spends the feedback budget.
    const read = this.#reads.shift() ?? { source: 'feedback' };
    if (read.source === 'cycle' && read.key !== undefined && operations.length > 0) {
      this.#carousel.answered(read.key, operations[operations.length - 1].header.seqNum);
    }
    const fromCarousel = read.source !== 'feedback';
    let packet: unknown[][] = [];
    let size = 48;
    const flush = () => {
      if (packet.length === 0) return;
      this.#broadcast(cborEncode([1, this.topic, packet]));
      packet = [];
      size = 48;
    };
    for (const op of operations) {
      const key = seenKey(op);
      if (this.#seen.has(key) || (fromCarousel ? this.#carouselBudget : this.#budget) <= 0) continue;
      this.#seen.set(key, this.#tick);
      if (fromCarousel) this.#carouselBudget--;
      else this.#budget--;
      const item = op.body ? [op.headerBytes, op.body] : [op.headerBytes];
      const itemSize = op.headerBytes.length + (op.body?.length ?? 0) + 8;
      if (size + itemSize > this.config.maxPacketBytes) flush();
      packet.push(item);
      size += itemSize;
      this.stats.operationsSent++;
    }
    flush();
  }

  #onPacket(packet: Uint8Array): void {
    this.stats.packetsReceived++;
    try {
      const value = decodeStrictCbor(packet, 'broadcast packet', { maxItems: 4096, maxDepth: 3, maxBytes: MAX_PACKET_READ_BYTES }, { useMaps: true });
      if (!Array.isArray(value) || value.length < 3 || !(value[1] instanceof Uint8Array)) throw new Error('not a broadcast packet');
      if (!bytesEqual(value[1], this.topic)) return;
      if (value[0] === 0 && value.length === 4) this.#onAnnouncement(value[2], value[3]);
      else if (value[0] === 1 && value.length === 3) this.#onOperations(value[2]);
      else throw new Error(`unknown broadcast packet ${String(value[0])}`);
    } catch (err) {
      this.#drop(err);
    }
  }

  #onAnnouncement(complete: unknown, entries: unknown): void {
    if (typeof complete !== 'boolean' || !Array.isArray(entries)) throw new Error('bad announcement');
    const listed = new Set<string>();
    for (const entry of entries) {
      if (!Array.isArray(entry) || entry.length !== 3) throw new Error('bad announcement entry');
      const [authorBytes, logIdOrNull, seqNum] = entry;
      if (typeof seqNum !== 'number' || !Number.isSafeInteger(seqNum) || seqNum < 0) throw new Error('bad seqNum');
      const logId = logIdOrNull === null ? this.#defaultLogId : logIdOrNull;
      if (!(logId instanceof Uint8Array) || logId.length !== 32) throw new Error('bad logId');
      const author = PublicKey.fromBytes(authorBytes);
      const key = logKey(author.bytes, logId);
      listed.add(key);
      this.#hear(key, author, logId, seqNum);
    }
    if (!complete) return;
    for (const [key, mine] of this.#local) if (!listed.has(key)) this.#hear(key, mine.author, mine.logId, -1);
  }

  #hear(key: string, author: PublicKey, logId: Uint8Array, seqNum: number): void {
    const prev = this.#heard.get(key);
    if (prev && this.#tick - prev.tick < this.config.memoryTicks && prev.seqNum <= seqNum) return;
    this.#heard.set(key, { author, logId, seqNum, tick: this.#tick });
  }

  #onOperations(items: unknown): void {
    if (!Array.isArray(items)) throw new Error('bad operations packet');
    for (const item of items) {
      try {
        if (!Array.isArray(item) || item.length < 1 || item.length > 2) throw new Error('an operation is [header, body?]');
        const op = decodeOperationUnverified(item[0], item[1], this.config.limits);
        this.#seen.set(seenKey(op), this.#tick);
        this.#offer(op);
      } catch (err) {
        this.#drop(err);
      }
    }
  }

  /** Ingest now if it extends the log, hold it if a gap comes first. */
  #offer(op: Operation): void {
    const key = logKey(op.header.publicKey.bytes, logIdOf(op.header));
    const height = this.#local.get(key)?.seqNum ?? -1;
    const seq = op.header.seqNum;
    if (seq <= height) return;
    if (seq === height + 1 || pruneFlagOf(op.header)) {
      this.#out.push({ type: 'ingest', request: { operation: op, topic: this.topic, kind: 'live' } });
    } else if (this.#pending.size < this.config.maxPending) {
      this.#pending.set(`${key}:${seq}`, { op, tick: this.#tick });
    }
  }

  #onIngested(results: IngestResult[]): void {
    for (const { outcome } of results) {
      if (outcome.status !== 'inserted') {
        if (outcome.status === 'rejected') this.#drop(outcome.error);
        continue;
      }
      const op = outcome.operation;
      const author = op.header.publicKey;
      const logId = logIdOf(op.header);
      const key = logKey(author.bytes, logId);
      const mine = this.#local.get(key);
      if (!mine || mine.seqNum < op.header.seqNum) this.#local.set(key, { author, logId, seqNum: op.header.seqNum });
      this.stats.stored++;
      this.#out.push({ type: 'emit', event: { type: 'operation', operation: op } });
      const next = this.#pending.get(`${key}:${op.header.seqNum + 1}`)?.op;
      if (next) {
        this.#pending.delete(`${key}:${op.header.seqNum + 1}`);
        this.#offer(next);
      }
    }
  }

  #forgetOld(): void {
    const horizon = this.#tick - this.config.memoryTicks;
    for (const [key, tick] of this.#seen) if (tick < horizon) this.#seen.delete(key);
    for (const [key, heard] of this.#heard) if (heard.tick < horizon) this.#heard.delete(key);
    const stale = this.#tick - this.config.pendingTicks;
    for (const [key, { op, tick }] of this.#pending) {
      const height = this.#local.get(key.slice(0, key.lastIndexOf(':')))?.seqNum ?? -1;
      if (op.header.seqNum <= height || tick < stale) this.#pending.delete(key);
    }
  }

  #broadcast(packet: Uint8Array): void {
    this.stats.packetsSent++;
    this.stats.bytesSent += packet.length;
    this.#out.push({ type: 'broadcast', packet });
  }

  #drop(err: unknown): void {
    this.stats.dropped++;
    this.#out.push({ type: 'emit', event: { type: 'dropped', error: asWalkawayError(err) } });
  }
}

function seenKey(op: Operation): string {
  return `${logKey(op.header.publicKey.bytes, logIdOf(op.header))}:${op.header.seqNum}`;
}
