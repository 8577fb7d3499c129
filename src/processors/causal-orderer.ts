/**
 * Causal ordering across every author of a topic: an operation is released
 * only after its backlink (unless it is a prune point) and every hash in its
 * `previous` list have been released. Operations with missing dependencies
 * wait in a pending set, indexed by the dependency they miss; releasing one
 * operation releases everything that waited only for it, in a cascade, wave
 * by wave (explicit arrays: no recursion, so no depth limit).
 *
 * Persistence: operations are in the store already (ingest comes first), so
 * the orderer persists only *which* ones have been released and acknowledged
 * (`released-set.ts`, one cursor, written every `batchSize` acknowledgements).
 * On start it rebuilds the pending index by scanning the store above the
 * watermark; what was released but not acknowledged is released again
 * (at-least-once; every built-in type applies idempotently).
 *
 * Preparing: after a shuffled delivery an operation is released long after
 * it arrived, when its bytes have left the CPU caches. A consumer's work that
 * needs no order (decoding the body, say) can go in `prepare`, which runs on
 * arrival; its result travels with the operation as `prepared`, so releasing
 * touches one small object instead of the whole operation.
 *
 * Bounded: at most `maxPending` operations wait in memory, and at most
 * `maxHashes` hashes (operations and what they wait for) are known in
 * memory; released ones are forgotten first (the store remembers them). An
 * operation that does not fit is reported (PENDING_OVERFLOW) and left in the
 * store; the orderer scans for it again once the pending set has drained to
 * half.
 */
import { isWalkawayError, logIdOf, pruneFlagOf, toHex, WalkawayError, type Hash } from '../core/index.ts';
import type { Store, StoredOperation } from '../store/index.ts';
import { checkedDependencies, dependencyKeys, hashKey, keyToHash } from './keys.ts';
import { DROPPED, MAX_IDS, NodeTable, PENDING, RELEASED, slotOf, UNKNOWN } from './node-table.ts';
import { lamportFloor, releasedInStore } from './orderer-store.ts';
import { NumberStack } from './slabs.ts';
import { decodeReleasedSet, emptyReleasedSet, encodeReleasedSet, isSettled, settle, type ReleasedSet } from './released-set.ts';
import type { OrderedOperation, Processor, ReportSink } from './types.ts';

export interface CausalOrdererConfig<P = undefined> {
  store: Store;
  /** Work on each operation that needs no order, done when it arrives; released as `prepared`. */
  prepare?: (op: StoredOperation) => P;
  /** Told of a prepared operation that is dropped without release (below a prune point). */
  discard?: (op: StoredOperation, prepared: P) => void;
  /** Scan only this topic's logs on start (default: the whole store). */
  topic?: Uint8Array;
  /** Cursor name of the released set (default derived from the topic). */
  cursorName?: string;
  /** Most operations waiting in memory. */
  maxPending?: number;
  /** Acknowledgements per cursor write. */
  batchSize?: number;
  /** Released operations remembered in memory; past it the store answers. */
  maxReleasedCache?: number;
  /** Most hashes known in memory (operations and the dependencies they wait for); at most MAX_IDS. */
  maxHashes?: number;
  /** Acknowledge at release instead of on `commit()` (for consumers that never fail). */
  autoAck?: boolean;
  onReport?: ReportSink;
}

export const DEFAULT_CAUSAL_ORDERER_CONFIG = {
  maxPending: 200_000,
  batchSize: 1024,
  maxReleasedCache: 1_000_000,
  maxHashes: 1 << 22,
  autoAck: false,
};

export interface CausalOrdererStats {
  pending: number;
  peakPending: number;
  released: number;
  duplicates: number;
  overflowed: number;
  cursorWrites: number;
  watermark: number;
}

/** A pending operation and what it still waits for. */
export interface PendingOperation {
  hash: Hash;
  localSeq: number;
  /** Dependencies not released yet (some may never arrive). */
  missing: Hash[];
}

const SCAN_PAGE = 1024;
/** Operations of a `processAll` batch whose hashes are looked up together. */
const LOOK_AHEAD = 32;

export class CausalOrderer<P = undefined> implements Processor<StoredOperation, OrderedOperation<P>> {
  readonly name = 'causal-order';
  readonly #store: Store;
  readonly #topic: Uint8Array | undefined;
  readonly #cursorName: string;
  readonly #maxPending: number;
  readonly #batchSize: number;
  readonly #maxCache: number;
  readonly #autoAck: boolean;
  readonly #onReport: ReportSink | undefined;
  readonly #prepare: ((op: StoredOperation) => P) | undefined;
  readonly #discard: ((op: StoredOperation, prepared: P) => void) | undefined;
  /** Every hash met, interned: released (with Lamport), pending, or waited for. */
  #t: NodeTable<P>;
  readonly #maxHashes: number;
  /** Ids kept free in the node table: with fewer, released ids are forgotten. */
  readonly #room: number;
  #pendingCount = 0;
  /** Sink of `NodeTable.touch`, so the loads are not optimised away. */
  #touched = 0;
  /** Scratch: `slotOf` of each dependency of the operation being added, then of the operation itself. */
  #tags: number[] = [];
  /** Scratch of `processAll`: the checked dependencies of each operation looked up ahead, their tags, where each one's tags start. */
  #aheadDeps: (Uint8Array[] | string | undefined)[] = [];
  #aheadTags: number[] = [];
  #aheadTagsAt: number[] = [];
  /** Scratch: id of each dependency of the operation being added, or -1 if not interned yet. */
  #depIds: number[] = [];
  /** Ready to release: the next wave of a cascade, and the one being released. */
  #ready: number[] = [];
  #wave: number[] = [];
  /** Scratch: indexes (in its dependencies) of what the operation being added waits for. */
  #waitFor: number[] = [];
  /** Released by a call that a callback's exception cut short: the next call returns them first. */
  #carried: OrderedOperation<P>[] | undefined;
  #set: ReleasedSet;
  /** localSeq of what was released (or settled otherwise) and not acknowledged yet. */
  readonly #unacked = new NumberStack();
  #sinceFlush = 0;
  /** Whether a dependency unknown in memory may have been released before (restart, evicted cache). */
  #askStore: boolean;
  #overflowed = false;
  #prunedBelow = new Map<string, number>();
  #stats = { peakPending: 0, released: 0, duplicates: 0, overflowed: 0, cursorWrites: 0 };

  constructor(config: CausalOrdererConfig<P>) {
    const c = { ...DEFAULT_CAUSAL_ORDERER_CONFIG, ...config };
    for (const field of ['maxPending', 'batchSize', 'maxReleasedCache', 'maxHashes'] as const) {
      if (!Number.isSafeInteger(c[field]) || c[field] < 1) {
        throw new WalkawayError('INVALID_ARGUMENT', `${field} must be a positive integer, got ${c[field]}`);
      }
    }
    this.#store = c.store;
    this.#topic = c.topic;
    this.#cursorName = c.cursorName ?? `processors/causal/${c.topic ? toHex(c.topic) : 'all'}`;
    this.#maxPending = c.maxPending;
    this.#batchSize = c.batchSize;
    this.#maxCache = c.maxReleasedCache;
    this.#maxHashes = Math.min(c.maxHashes, MAX_IDS);
    this.#room = Math.min(1 << 16, this.#maxHashes >>> 4);
    this.#t = new NodeTable<P>(this.#maxHashes);
    this.#autoAck = c.autoAck;
    this.#onReport = c.onReport;
    this.#prepare = c.prepare;
    this.#discard = c.discard;
    this.#set = this.#loadCursor();
    this.#askStore = this.#set.watermark > 0 || this.#set.bits.some((b) => b !== 0);
  }

  /** Rebuilds the pending index from the store and releases what is ready. */
  start(): OrderedOperation<P>[] {
    const out = this.#takeCarried();
    try {
      this.#scan(out);
    } catch (err) {
      throw this.#carry(out, err);
    }
    if (this.#autoAck) this.commit();
    return out;
  }

  /**
   * Handles one operation (already in the store) and returns what it
   * releases. If a callback (`prepare`, `onReport`, `discard`) throws, what
   * was released before it is returned by the next call.
   */
  process(op: StoredOperation): OrderedOperation<P>[] {
    const out = this.#takeCarried();
    try {
      this.#makeRoom(out);
      this.#add(op, out);
      this.#rescanIfDrained(out);
    } catch (err) {
      throw this.#carry(out, err);
    }
    if (this.#autoAck) this.commit();
    return out;
  }

  /**
   * `process` on each operation in turn, returning everything released.
   * Faster for a batch that arrives at once (one sync message, one ingest
   * transaction): the hashes of LOOK_AHEAD operations are looked up together
   * before any of them is handled, so that after a shuffled delivery their
   * cache misses overlap instead of coming one operation at a time. If
   * callbacks throw, the first exception is thrown once the whole batch is
   * handled, and what the batch released comes with the next call.
   */
  processAll(ops: readonly StoredOperation[]): OrderedOperation<P>[] {
    const out = this.#takeCarried();
    const deps = this.#aheadDeps;
    const tagsAt = this.#aheadTagsAt;
    let failed: { error: unknown } | undefined;
    for (let first = 0; first < ops.length; first += LOOK_AHEAD) {
      const end = Math.min(ops.length, first + LOOK_AHEAD);
      let looked = true;
      try {
        let n = 0;
        for (let i = first; i < end; i++) {
          const d = (deps[i - first] = checkedDependencies(ops[i]));
          tagsAt[i - first] = n;
          n = this.#tagsOf(ops[i], d, this.#aheadTags, n);
        }
        this.#touched |= this.#t.touch(this.#aheadTags, n);
      } catch {
        looked = false; // something in the group is not an operation: `#add` each, which throws for that one
      }
      for (let i = first; i < end; i++) {
        // As `process` on each: an exception stops only its own operation, and the first is thrown at the end.
        try {
          this.#makeRoom(out);
          if (looked) this.#addChecked(ops[i], out, undefined, deps[i - first]!, this.#aheadTags, tagsAt[i - first]);
          else this.#add(ops[i], out);
          this.#rescanIfDrained(out);
        } catch (error) {
          failed ??= { error };
        }
        if (this.#autoAck) this.commit();
      }
    }
    deps.fill(undefined);
    if (failed) throw this.#carry(out, failed.error);
    return out;
  }

  /** Keeps `out` (released, not yet returned) for the next call, and gives back `err` to throw. */
  #carry(out: OrderedOperation<P>[], err: unknown): unknown {
    this.#carried = out;
    return err;
  }

  /** What a call cut short by a callback's exception released, or a new array. */
  #takeCarried(): OrderedOperation<P>[] {
    const out = this.#carried;
    if (out === undefined) return [];
    this.#carried = undefined;
    return out;
  }

  /** Acknowledges every operation released and returned so far; writes the cursor every `batchSize`. */
  commit(): void {
    const unacked = this.#unacked;
    if (unacked.length === 0) return;
    if (this.#carried !== undefined) return this.#commitReturned(this.#carried);
    for (let i = 0; i < unacked.length; i++) settle(this.#set, unacked.at(i));
    this.#sinceFlush += unacked.length;
    unacked.clear();
    if (this.#sinceFlush >= this.#batchSize) this.flush();
  }

  /** `commit` while `carried` waits to be returned: those stay unacknowledged (a crash now must not lose them). */
  #commitReturned(carried: OrderedOperation<P>[]): void {
    const keep = new Set(carried.map((o) => o.operation.localSeq));
    const unacked = this.#unacked.toArray();
    this.#unacked.clear();
    for (const seq of unacked) {
      if (keep.has(seq)) this.#unacked.push(seq);
      else settle(this.#set, seq);
    }
    this.#sinceFlush += unacked.length - this.#unacked.length;
    if (this.#sinceFlush >= this.#batchSize) this.flush();
  }

  /**
   * Acknowledges one released operation (by its localSeq) out of order: the
   * others released before it stay unacknowledged and come again after a
   * restart. `commit()` acknowledges everything at once.
   */
  ack(localSeq: number): void {
    if (!this.#unacked.remove(localSeq)) return;
    settle(this.#set, localSeq);
    if (++this.#sinceFlush >= this.#batchSize) this.flush();
  }

  /** Writes the released set now. */
  flush(): void {
    this.#sinceFlush = 0;
    this.#store.setCursor(this.#cursorName, encodeReleasedSet(this.#set));
    this.#stats.cursorWrites++;
  }

  /** Whether `hash` has been released (in this run or, if acknowledged, before). */
  isReleased(hash: Hash): boolean {
    return this.#lamportOf(hashKey(hash.bytes)) !== undefined;
  }

  /** Lamport timestamp of a released operation. */
  lamportOf(hash: Hash): number | undefined {
    return this.#lamportOf(hashKey(hash.bytes));
  }

  /** Every waiting operation and the dependencies it still misses. */
  pending(): PendingOperation[] {
    const t = this.#t;
    const out: PendingOperation[] = [];
    for (let id = 0; id < t.size; id++) {
      const op = t.op(id);
      if (t.state(id) !== PENDING || !op) continue;
      const missing = dependencyKeys(op)
        .filter((d) => this.#lamportOf(d) === undefined)
        .map(keyToHash);
      out.push({ hash: op.hash, localSeq: op.localSeq, missing });
    }
    return out;
  }

  /** Dependencies that some operation waits for and that have not arrived at all. */
  missingDependencies(): Hash[] {
    const t = this.#t;
    const out: Hash[] = [];
    for (let id = 0; id < t.size; id++) if (t.state(id) === UNKNOWN && t.hasWaiters(id)) out.push(keyToHash(t.keyOf(id)));
    return out;
  }

  stats(): CausalOrdererStats {
    return { ...this.#stats, pending: this.#pendingCount, watermark: this.#set.watermark };
  }

  // --- the hot path --------------------------------------------------------

  /** `prepared`: kept from an earlier `#add` of the same operation (`#forgetReleased`). */
  #add(op: StoredOperation, out: OrderedOperation<P>[], prepared?: P): void {
    const deps = checkedDependencies(op);
    const n = this.#tagsOf(op, deps, this.#tags, 0);
    this.#touched |= this.#t.touch(this.#tags, n);
    this.#addChecked(op, out, prepared, deps, this.#tags, 0);
  }

  /**
   * Writes `slotOf` of each dependency and then of `op` itself into `tags`
   * from `at` (only its own for malformed dependencies); returns where they end.
   */
  #tagsOf(op: StoredOperation, deps: Uint8Array[] | string, tags: number[], at: number): number {
    if (typeof deps !== 'string') for (let i = 0; i < deps.length; i++) tags[at++] = slotOf(deps[i]);
    tags[at++] = slotOf(op.hash.bytes);
    return at;
  }

  /** `#add` with the dependencies checked and their tags (then the operation's own) in `tags` from `at`. */
  #addChecked(op: StoredOperation, out: OrderedOperation<P>[], prepared: P | undefined, deps: Uint8Array[] | string, tags: number[], at: number): void {
    const t = this.#t;
    const ownTag = tags[at + (typeof deps === 'string' ? 0 : deps.length)];
    if (!t.fits(1)) {
      this.#overflow(op); // the table is full: leave it in the store for a later scan
      return;
    }
    // Interned only once it is sure to be kept: an operation that overflows must not leave an id behind.
    const own = t.lookup(op.hash.bytes, ownTag);
    let id = own >= 0 ? own : -1;
    if ((id >= 0 && t.state(id) !== UNKNOWN) || isSettled(this.#set, op.localSeq)) {
      this.#stats.duplicates++;
      this.#report({ type: 'duplicate', processor: this.name, hash: op.hash });
      return;
    }
    if (typeof deps === 'string') return this.#malformed(op, deps);
    if (this.#prunedBelow.size > 0 && this.#isPrunedAway(op)) return;
    let lamport = lamportFloor(op);
    let missing = 0;
    const waitFor = this.#waitFor;
    const depIds = this.#depIds;
    for (let i = 0; i < deps.length; i++) {
      const d = (depIds[i] = t.find(deps[i], tags[at + i]));
      const state = d < 0 ? UNKNOWN : t.state(d);
      let released = state === RELEASED ? t.lamport(d) : -1;
      if (state === UNKNOWN && this.#askStore) released = this.#lamportOf(hashKey(deps[i])) ?? -1;
      if (released >= 0) {
        if (released + 1 > lamport) lamport = released + 1;
      } else {
        waitFor[missing++] = i;
      }
    }
    // A waiting operation needs ids for what it waits for; one that is released needs none.
    if (missing > 0 && (this.#pendingCount >= this.#maxPending || !t.fits(this.#room + missing))) {
      this.#overflow(op); // not prepared either: it is prepared when a scan picks it up
      return;
    }
    if (id < 0) id = t.intern(op.hash.bytes, ownTag, own);
    t.setLamport(id, lamport);
    t.setSeq(id, op.localSeq);
    const p = prepared ?? this.#prepare?.(op);
    // Released at once (in-order delivery): nothing to hold.
    if (missing === 0) return this.#cascade(id, op, p, out);
    t.hold(id, op, p);
    if (pruneFlagOf(op.header)) this.#dropBelowPrunePoint(op);
    for (let i = 0; i < missing; i++) {
      const j = waitFor[i];
      t.addEdge(depIds[j] >= 0 ? depIds[j] : t.intern(deps[j], tags[at + j]), id);
    }
    t.setMissing(id, missing);
    t.setState(id, PENDING);
    if (++this.#pendingCount > this.#stats.peakPending) this.#stats.peakPending = this.#pendingCount;
  }

  /** Releases `first` (`op`, not held) and everything that waited only for it, wave by wave. */
  #cascade(first: number, op: StoredOperation, prepared: P | undefined, out: OrderedOperation<P>[]): void {
    const t = this.#t;
    if (pruneFlagOf(op.header)) this.#dropBelowPrunePoint(op);
    this.#release(first, op, prepared, out);
    // In waves: everything ready now is released before what that makes ready, so that
    // the held operations and waiters a wave reads can be loaded together first.
    while (this.#ready.length > 0) {
      const wave = this.#ready;
      this.#ready = this.#wave;
      this.#wave = wave;
      if (wave.length > 1) this.#touched |= t.touchWave(wave);
      for (let i = wave.length - 1; i >= 0; i--) {
        const id = wave[i];
        const held = t.op(id)!;
        const heldPrepared = t.preparedOf(id);
        t.drop(id);
        this.#release(id, held, heldPrepared, out);
      }
      wave.length = 0;
    }
  }

  /** Releases `id` and wakes what waits for it (what becomes ready joins the next wave). */
  #release(id: number, operation: StoredOperation, prepared: P | undefined, out: OrderedOperation<P>[]): void {
    const t = this.#t;
    t.setState(id, RELEASED);
    t.released++;
    const lamport = t.lamport(id);
    out.push({ operation, lamport, prepared });
    this.#unacked.push(t.seq(id));
    this.#stats.released++;
    const w = t.takeFirstWaiter(id);
    if (w >= 0) this.#wake(w, lamport);
    for (let e = t.takeWaiters(id); e >= 0; ) {
      const next = t.edgeTarget(e);
      e = t.freeEdge(e);
      this.#wake(next, lamport);
    }
  }

  /** One dependency of `w`, with Lamport timestamp `lamport`, was released. */
  #wake(w: number, lamport: number): void {
    const t = this.#t;
    if (t.state(w) !== PENDING) return;
    if (lamport + 1 > t.lamport(w)) t.setLamport(w, lamport + 1);
    const missing = t.missing(w) - 1;
    t.setMissing(w, missing);
    if (missing === 0) {
      this.#pendingCount--;
      this.#ready.push(w);
    }
  }

  #lamportOf(key: string): number | undefined {
    const l = this.#t.get(key);
    if (l !== undefined || !this.#askStore) return l;
    // Released in an earlier run? Unacknowledged ones count as not released.
    return releasedInStore(this.#store, keyToHash(key), this.#set, this.#t);
  }

  /** After an overflow, scans the store again once the pending set has drained to half. */
  #rescanIfDrained(out: OrderedOperation<P>[]): void {
    if (this.#overflowed && this.#pendingCount <= this.#maxPending >>> 1 && this.#t.fits(this.#room)) this.#scan(out);
  }

  /** Forgets released ids past `maxReleasedCache`, or when the table nears `maxHashes` and that frees enough. */
  #makeRoom(out: OrderedOperation<P>[]): void {
    const t = this.#t;
    if (t.released > this.#maxCache || (!t.fits(this.#room) && t.released >= this.#room >>> 1)) this.#forgetReleased(out);
  }

  /**
   * Forget what was released and acknowledged (the store remembers it) and
   * keep what waits. Released but unacknowledged operations are kept: the
   * store's released set does not count them yet, and what depends on them
   * must not wait for them.
   */
  #forgetReleased(out: OrderedOperation<P>[]): void {
    const t = this.#t;
    const unacked = new Set(this.#unacked.toArray());
    const waiting: number[] = [];
    const keep: number[] = [];
    for (let id = 0; id < t.size; id++) {
      const state = t.state(id);
      if (state === PENDING) waiting.push(id);
      else if (state === RELEASED && unacked.has(t.seq(id))) keep.push(id);
    }
    this.#t = new NodeTable<P>(this.#maxHashes);
    for (const id of keep) this.#t.set(t.keyOf(id), t.lamport(id), t.seq(id));
    this.#pendingCount = 0;
    this.#askStore = true;
    for (const id of waiting) this.#add(t.op(id)!, out, t.preparedOf(id));
  }

  // --- bad input, overflow, pruning ---------------------------------------

  #malformed(op: StoredOperation, problem: string): void {
    const error = new WalkawayError('MALFORMED', `causal dependencies of ${op.hash.toHex()}: ${problem}`, {
      hash: op.hash.toHex(),
    });
    this.#report({ type: 'rejected', processor: this.name, hash: op.hash, error });
    this.#unacked.push(op.localSeq); // settled: it will never be released
  }

  #overflow(op: StoredOperation): void {
    this.#overflowed = true;
    this.#stats.overflowed++;
    const pendingFull = this.#pendingCount >= this.#maxPending;
    const full = pendingFull ? `${this.#maxPending} pending operations` : `${this.#t.size} of at most ${this.#maxHashes} hashes`;
    const error = new WalkawayError('PENDING_OVERFLOW', `causal orderer holds ${full}; ${op.hash.toHex()} stays in the store for a later scan`, {
      hash: op.hash.toHex(),
      limit: pendingFull ? this.#maxPending : this.#maxHashes,
    });
    this.#report({ type: 'overflow', processor: this.name, hash: op.hash, error });
  }

  /** Entries of a log below its prune point wait for deleted history: drop them. */
  #dropBelowPrunePoint(op: StoredOperation): void {
    const log = logKey(op);
    const seq = op.header.seqNum;
    if ((this.#prunedBelow.get(log) ?? 0) >= seq) return;
    this.#prunedBelow.set(log, seq);
    const t = this.#t;
    for (let id = 0; id < t.size; id++) {
      const entry = t.op(id);
      if (t.state(id) !== PENDING || !entry || entry.header.seqNum >= seq || logKey(entry) !== log) continue;
      t.setState(id, DROPPED);
      if (this.#discard && this.#prepare) this.#discard(entry, t.preparedOf(id) as P);
      t.drop(id);
      this.#pendingCount--;
      for (const dep of dependencyKeys(entry)) t.removeEdge(t.intern(keyToHash(dep).bytes), id);
      this.#unacked.push(entry.localSeq);
      this.#report({ type: 'outdated', processor: this.name, hash: entry.hash });
    }
  }

  #isPrunedAway(op: StoredOperation): boolean {
    const below = this.#prunedBelow.get(logKey(op));
    if (below === undefined || op.header.seqNum >= below) return false;
    this.#unacked.push(op.localSeq);
    this.#report({ type: 'outdated', processor: this.name, hash: op.hash });
    return true;
  }

  // --- restart -------------------------------------------------------------

  #loadCursor(): ReleasedSet {
    try {
      return decodeReleasedSet(this.#store.getCursor(this.#cursorName));
    } catch (err) {
      if (!isWalkawayError(err)) throw err;
      // A damaged cursor costs a replay, never the operations: start over.
      this.#report({ type: 'rejected', processor: this.name, error: err });
      return emptyReleasedSet();
    }
  }

  /** Feeds every stored, unsettled operation above the watermark not yet in memory. */
  #scan(out: OrderedOperation<P>[]): void {
    this.#overflowed = false;
    let after = this.#set.watermark;
    for (;;) {
      const page = this.#store.operationsAfter(after, SCAN_PAGE, this.#topic);
      for (const op of page) {
        if (!this.#topic) for (let gap = after + 1; gap < op.localSeq; gap++) this.#unacked.push(gap);
        after = op.localSeq;
        const id = this.#t.find(op.hash.bytes);
        if (isSettled(this.#set, op.localSeq) || (id >= 0 && this.#t.state(id) !== UNKNOWN)) continue;
        this.#makeRoom(out);
        this.#add(op, out);
        if (this.#overflowed) return;
      }
      if (page.length < SCAN_PAGE) return;
    }
  }

  #report(report: Parameters<ReportSink>[0]): void {
    this.#onReport?.(report);
  }
}

function logKey(op: StoredOperation): string {
  return op.header.publicKey.toHex() + toHex(logIdOf(op.header));
}
