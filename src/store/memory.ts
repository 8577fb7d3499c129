/** In-memory store: the same rules as SQLite (shared contract suite), nothing persists. */
import { type Hash, type PublicKey, toHex, type Operation } from '../core/index.ts';
import { logAddress, logAddressOf, type ForkRecord, type IngestBackend, type LogAddress, type LogTip } from './backend.ts';
import { ingestOperation } from './ingest.ts';
import type { ForkEvidence, IngestItem, IngestOutcome, LogHeight, LogRef, Store, StoredOperation } from './types.ts';

interface MemoryLog {
  author: PublicKey;
  logId: Uint8Array;
  entries: Map<number, StoredOperation>;
  /** The stored seqNums, ascending (inserts only ever append). */
  seqs: number[];
  tip?: StoredOperation;
}

export class MemoryStore implements Store, IngestBackend {
  readonly kind = 'memory' as const;
  #byHash = new Map<string, StoredOperation>();
  #logs = new Map<string, MemoryLog>();
  #topics = new Map<string, Map<string, LogRef>>();
  #forks = new Map<string, ForkRecord & { author: PublicKey; logId: Uint8Array }>();
  #cursors = new Map<string, Uint8Array>();
  /** Every insert in localSeq order; deleted ones are skipped and compacted away. */
  #order: StoredOperation[] = [];
  #nextLocalSeq = 1;

  static create(): MemoryStore {
    return new MemoryStore();
  }

  // --- Store ---------------------------------------------------------------

  ingest(operation: Operation, topic?: Uint8Array): IngestOutcome {
    return ingestOperation(this, operation, topic);
  }

  ingestBatch(items: IngestItem[]): IngestOutcome[] {
    return items.map((item) => ingestOperation(this, item.operation, item.topic));
  }

  close(): void {}

  getOperation(hash: Hash): StoredOperation | undefined {
    return this.#byHash.get(hash.toHex());
  }

  hasOperation(hash: Hash): boolean {
    return this.#byHash.has(hash.toHex());
  }

  deleteBody(hash: Hash): boolean {
    const op = this.#byHash.get(hash.toHex());
    if (!op?.body) return false;
    op.body = undefined;
    return true;
  }

  operationsAfter(localSeq: number, limit: number, topic?: Uint8Array): StoredOperation[] {
    const logs = topic ? this.#topics.get(toHex(topic)) : undefined;
    if (topic && !logs) return [];
    const out: StoredOperation[] = [];
    const start = firstAbove(this.#order, localSeq, (op) => op.localSeq);
    for (let i = start; i < this.#order.length; i++) {
      const op = this.#order[i];
      if (!this.#byHash.has(op.hash.toHex())) continue;
      if (logs && !logs.has(logAddressOf(op.header).key)) continue;
      out.push(op);
      if (out.length >= limit) break;
    }
    return out;
  }

  latest(author: PublicKey, logId: Uint8Array): StoredOperation | undefined {
    return this.#logs.get(logAddress(author, logId).key)?.tip;
  }

  readLog(author: PublicKey, logId: Uint8Array, afterSeq: number, limit: number): StoredOperation[] {
    const log = this.#logs.get(logAddress(author, logId).key);
    if (!log) return [];
    const start = firstAbove(log.seqs, afterSeq, (seq) => seq);
    return log.seqs.slice(start, start + limit).map((seq) => log.entries.get(seq)!);
  }

  deleteBefore(author: PublicKey, logId: Uint8Array, seqNum: number): number {
    return this.#deleteWhere(logAddress(author, logId).key, (seq) => seq < seqNum);
  }

  forks(): ForkEvidence[] {
    const out: ForkEvidence[] = [];
    for (const fork of this.#forks.values()) {
      out.push({
        author: fork.author,
        logId: new Uint8Array(fork.logId),
        seqNum: fork.seqNum,
        headers: [fork.headers[0], fork.headers[1]],
      });
    }
    return out;
  }

  associate(topic: Uint8Array, author: PublicKey, logId: Uint8Array): void {
    this.link(topic, logAddress(author, logId));
  }

  logs(topic: Uint8Array): LogRef[] {
    return [...(this.#topics.get(toHex(topic))?.values() ?? [])];
  }

  heights(topic: Uint8Array): LogHeight[] {
    const out: LogHeight[] = [];
    for (const ref of this.logs(topic)) {
      const tip = this.latest(ref.author, ref.logId);
      if (tip) out.push({ ...ref, seqNum: tip.header.seqNum });
    }
    return out;
  }

  getCursor(name: string): Uint8Array | undefined {
    return this.#cursors.get(name);
  }

  setCursor(name: string, value: Uint8Array): void {
    this.#cursors.set(name, new Uint8Array(value));
  }

  // --- IngestBackend -------------------------------------------------------

  hasHash(hash: Uint8Array): boolean {
    return this.#byHash.has(toHex(hash));
  }

  headerAt(log: LogAddress, seqNum: number): Uint8Array | undefined {
    return this.#logs.get(log.key)?.entries.get(seqNum)?.headerBytes;
  }

  tip(log: LogAddress): LogTip | undefined {
    const tip = this.#logs.get(log.key)?.tip;
    return tip && { seqNum: tip.header.seqNum, hash: tip.hash.bytes };
  }

  insert(address: LogAddress, operation: Operation): StoredOperation {
    const stored: StoredOperation = { ...operation, localSeq: this.#nextLocalSeq++ };
    let log = this.#logs.get(address.key);
    if (!log) {
      log = { author: address.author, logId: new Uint8Array(address.logId), entries: new Map(), seqs: [] };
      this.#logs.set(address.key, log);
    }
    log.entries.set(operation.header.seqNum, stored);
    log.seqs.push(operation.header.seqNum);
    log.tip = stored;
    this.#order.push(stored);
    this.#byHash.set(operation.hash.toHex(), stored);
    return stored;
  }

  deleteFrom(log: LogAddress, seqNum: number): number {
    return this.#deleteWhere(log.key, (seq) => seq >= seqNum);
  }

  getFork(log: LogAddress): ForkRecord | undefined {
    const fork = this.#forks.get(log.key);
    return fork && { seqNum: fork.seqNum, headers: fork.headers };
  }

  setFork(log: LogAddress, fork: ForkRecord): void {
    this.#forks.set(log.key, {
      author: log.author,
      logId: new Uint8Array(log.logId),
      seqNum: fork.seqNum,
      headers: fork.headers.map((h) => new Uint8Array(h)),
    });
  }

  link(topic: Uint8Array, log: LogAddress): void {
    const key = toHex(topic);
    let logs = this.#topics.get(key);
    if (!logs) this.#topics.set(key, (logs = new Map()));
    if (!logs.has(log.key)) logs.set(log.key, { author: log.author, logId: new Uint8Array(log.logId) });
  }

  #deleteWhere(key: string, match: (seq: number) => boolean): number {
    const log = this.#logs.get(key);
    if (!log) return 0;
    let deleted = 0;
    for (const [seq, op] of log.entries) {
      if (!match(seq)) continue;
      log.entries.delete(seq);
      this.#byHash.delete(op.hash.toHex());
      deleted++;
    }
    log.seqs = log.seqs.filter((seq) => !match(seq));
    log.tip = log.entries.get(log.seqs[log.seqs.length - 1]);
    if (this.#order.length > 2 * this.#byHash.size + 1024) {
      this.#order = this.#order.filter((op) => this.#byHash.has(op.hash.toHex()));
    }
    return deleted;
  }
}

/** Index of the first element whose key is above `value` (keys ascending). */
function firstAbove<T>(items: T[], value: number, key: (item: T) => number): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (key(items[mid]) <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
