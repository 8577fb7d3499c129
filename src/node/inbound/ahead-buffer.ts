/**
 * Operations that came by gossip ahead of their backlink (verified, not
 * stored yet), per log, until the gap fills. Bounded in count and bytes,
 * per log and overall, with expiry: sync fills any gap these would have
 * filled, so dropping one costs a round trip at most.
 */
import { logIdOf, toHex, type Operation } from '../../core/index.ts';

/** Operations waiting overall: a gap rarely spans more than a burst of one author. */
export const MAX_AHEAD = 1024;
/** Bytes waiting overall (bodies included): 1024 full-size gossip operations would be 16 MiB. */
export const MAX_AHEAD_BYTES = 4 * 1024 * 1024;
/** Operations waiting per log: a throwaway author cannot take the whole buffer. */
export const MAX_AHEAD_PER_LOG = 64;
/** A waiting operation is dropped after this long: by then a sync has come and gone. */
export const AHEAD_TTL_MS = 60_000;

interface Waiting {
  op: Operation;
  at: number;
  bytes: number;
}

function logKey(op: Operation): string {
  return `${op.header.publicKey.toHex()}:${toHex(logIdOf(op.header))}`;
}

function sizeOf(op: Operation): number {
  return op.headerBytes.length + (op.body?.length ?? 0);
}

export class AheadBuffer {
  /** log key -> seqNum -> waiting operation; logs in order of their first arrival. */
  readonly #logs = new Map<string, Map<number, Waiting>>();
  #count = 0;
  #bytes = 0;
  #nextSweep = 0;

  get count(): number {
    return this.#count;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Keeps an operation; over a cap, the oldest log's lowest entry goes first. */
  keep(op: Operation, now: number): void {
    this.#sweep(now);
    const key = logKey(op);
    let log = this.#logs.get(key);
    if (!log) this.#logs.set(key, (log = new Map()));
    const old = log.get(op.header.seqNum);
    if (old) this.#remove(key, log, op.header.seqNum, old);
    const waiting = { op, at: now, bytes: sizeOf(op) };
    log.set(op.header.seqNum, waiting);
    this.#count++;
    this.#bytes += waiting.bytes;
    if (log.size > MAX_AHEAD_PER_LOG) {
      // The highest entry is the furthest from fitting.
      const highest = Math.max(...log.keys());
      this.#remove(key, log, highest, log.get(highest)!);
    }
    while (this.#count > MAX_AHEAD || this.#bytes > MAX_AHEAD_BYTES) {
      const [oldestKey, oldest] = this.#logs.entries().next().value!;
      const [seq, entry] = oldest.entries().next().value!;
      this.#remove(oldestKey, oldest, seq, entry);
    }
  }

  /** Takes the waiting operation that follows `op` in its log, if one came early. */
  takeNext(op: Operation): Operation | undefined {
    const key = logKey(op);
    const log = this.#logs.get(key);
    const next = log?.get(op.header.seqNum + 1);
    if (!log || !next) return undefined;
    this.#remove(key, log, op.header.seqNum + 1, next);
    return next.op;
  }

  /** The lowest waiting operation of every log (after a sync, they may fit now). */
  firstOfEachLog(): Operation[] {
    const out: Operation[] = [];
    for (const log of this.#logs.values()) {
      let first: Operation | undefined;
      for (const { op } of log.values()) if (!first || op.header.seqNum < first.header.seqNum) first = op;
      if (first) out.push(first);
    }
    return out;
  }

  /** Drops waiting operations at or below this operation's seqNum in its log (stored by now). */
  dropUpTo(op: Operation): void {
    const key = logKey(op);
    const log = this.#logs.get(key);
    if (!log) return;
    for (const [seq, entry] of [...log]) if (seq <= op.header.seqNum) this.#remove(key, log, seq, entry);
  }

  #remove(key: string, log: Map<number, Waiting>, seq: number, entry: Waiting): void {
    log.delete(seq);
    this.#count--;
    this.#bytes -= entry.bytes;
    if (log.size === 0) this.#logs.delete(key);
  }

  /** Drops what waited longer than the TTL (at most once a second: a full pass). */
  #sweep(now: number): void {
    if (now < this.#nextSweep) return;
    this.#nextSweep = now + 1000;
    for (const [key, log] of [...this.#logs]) {
      for (const [seq, entry] of [...log]) if (now - entry.at > AHEAD_TTL_MS) this.#remove(key, log, seq, entry);
    }
  }
}
