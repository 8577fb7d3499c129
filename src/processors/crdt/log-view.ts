/**
 * Append-only log view per author: for each log `(author, logId)` the
 * operations seen, by seqNum. A prune point at seqNum `s` hides everything
 * below `s` in its log, whether it arrived before or after (the view keeps the
 * highest prune point per log), so any order converges.
 */
import { logIdOf, pruneFlagOf, toHex, type Hash, type PublicKey } from '../../core/index.ts';
import type { StoredOperation } from '../../store/index.ts';
import type { OrderedOperation, Processor } from '../types.ts';

export interface LogViewEntry {
  seqNum: number;
  hash: Hash;
  operation?: StoredOperation;
}

export interface LogViewChange {
  author: PublicKey;
  logId: Uint8Array;
  seqNum: number;
  hash: Hash;
}

interface ViewLog {
  author: PublicKey;
  logId: Uint8Array;
  entries: Map<number, LogViewEntry>;
  prunedBelow: number;
}

export class LogView implements Processor<OrderedOperation, LogViewChange> {
  readonly name = 'log-view';
  readonly #logs = new Map<string, ViewLog>();
  readonly #keepOperations: boolean;

  /** `keepOperations` keeps the whole operation per entry (default: hash and seqNum only). */
  constructor(config: { keepOperations?: boolean } = {}) {
    this.#keepOperations = config.keepOperations === true;
  }

  /** Adds one entry; returns whether the view changed. */
  add(author: PublicKey, logId: Uint8Array, seqNum: number, hash: Hash, pruneFlag = false, operation?: StoredOperation): boolean {
    const key = author.toHex() + toHex(logId);
    let log = this.#logs.get(key);
    if (!log) this.#logs.set(key, (log = { author, logId, entries: new Map(), prunedBelow: 0 }));
    if (seqNum < log.prunedBelow || log.entries.has(seqNum)) return false;
    if (pruneFlag && seqNum > log.prunedBelow) {
      log.prunedBelow = seqNum;
      for (const s of log.entries.keys()) if (s < seqNum) log.entries.delete(s);
    }
    log.entries.set(seqNum, { seqNum, hash, operation });
    return true;
  }

  process(input: OrderedOperation): LogViewChange[] {
    const op = input.operation;
    const { publicKey: author, seqNum } = op.header;
    const logId = logIdOf(op.header);
    const kept = this.#keepOperations ? op : undefined;
    if (!this.add(author, logId, seqNum, op.hash, pruneFlagOf(op.header), kept)) return [];
    return [{ author, logId, seqNum, hash: op.hash }];
  }

  /** Entries of one log in seqNum order. */
  log(author: PublicKey, logId: Uint8Array): LogViewEntry[] {
    const log = this.#logs.get(author.toHex() + toHex(logId));
    if (!log) return [];
    return [...log.entries.values()].sort((a, b) => a.seqNum - b.seqNum);
  }

  /** Every log with its entries, in a canonical order. */
  snapshot(): { author: string; logId: string; prunedBelow: number; entries: [number, string][] }[] {
    return [...this.#logs.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, log]) => ({
        author: log.author.toHex(),
        logId: toHex(log.logId),
        prunedBelow: log.prunedBelow,
        entries: this.log(log.author, log.logId).map((e): [number, string] => [e.seqNum, e.hash.toHex()]),
      }));
  }
}
