/**
 * Everything a node keeps per topic: causal ordering of what was stored
 * (processors' CausalOrderer, released set persisted in the store), the
 * topic's current heads (the `previous` of the next publish), the
 * subscribers of `rx`, operations that arrived by gossip ahead of their
 * backlink, and what each peer is known to hold.
 */
import { crypto, Hash, logIdForTopic, logIdOf, previousOf, timestampOf, toHex, type Operation } from '../core/index.ts';
import { CausalOrderer, type OrderedOperation } from '../processors/index.ts';
import type { LogHeight, Store, StoredOperation } from '../store/index.ts';
import type { EphemeralMessage } from './ephemeral.ts';
import { Receiver } from './receiver.ts';

export interface TopicEvent {
  hash: Hash;
  /** Hex Ed25519 public key of the author. */
  author: string;
  seqNum: number;
  body?: Uint8Array;
  /** Microseconds since the epoch, as the author wrote it. */
  timestamp?: number;
  lamport: number;
  /** This node's insertion order of the operation: pass it as `from` to replay after it. */
  cursor: number;
  own: boolean;
  /** Acknowledges the event: unacknowledged events come again after a restart. */
  ack(): void;
}

export interface EphemeralEvent extends Omit<EphemeralMessage, 'author'> {
  author: string;
  own: boolean;
}

const MAX_AHEAD = 1024;

function aheadKey(op: Operation): string {
  return `${op.header.publicKey.toHex()}:${toHex(logIdOf(op.header))}`;
}
const MAX_EPHEMERAL_SEEN = 4096;
const SCAN_PAGE = 1000;

export class TopicState {
  readonly topic: Uint8Array;
  readonly hex: string;
  readonly logId: Uint8Array;
  readonly neighbors = new Set<string>();
  readonly receivers = new Set<Receiver<TopicEvent>>();
  readonly ephemeral = new Set<Receiver<EphemeralEvent>>();
  /** Operations that came by gossip before their backlink: log key -> seqNum -> operation. */
  readonly #ahead = new Map<string, Map<number, Operation>>();
  #aheadCount = 0;
  /** peer -> (log key -> highest seqNum it is known to hold). */
  readonly peerHeights = new Map<string, Map<string, number>>();
  readonly #store: Store;
  readonly #self: string;
  readonly #orderer: CausalOrderer;
  #heads = new Map<string, Hash>();
  /** Stored by sync, not ordered yet (`storedBySync`). */
  #synced: StoredOperation[] = [];
  readonly #onProblem: (message: string) => void;
  #ephemeralSeen = new Set<string>();
  #unacked = 0;

  constructor(store: Store, topic: Uint8Array, self: string, onOverflow: (message: string) => void) {
    this.#store = store;
    this.#onProblem = onOverflow;
    this.topic = topic;
    this.hex = toHex(topic);
    this.logId = logIdForTopic(topic);
    this.#self = self;
    this.#orderer = new CausalOrderer({
      store,
      topic,
      autoAck: false,
      onReport: (report) => {
        if (report.type === 'overflow' || report.type === 'rejected') onOverflow(`${report.type}: ${report.error.message}`);
      },
    });
    this.#loadHeads();
  }

  /** Releases what was stored but never acknowledged before a restart. */
  start(): void {
    this.#emit(this.#orderer.start());
  }

  /** An operation now in the store: order it and hand it to the subscribers. */
  stored(op: StoredOperation): void {
    this.flushSynced();
    this.#emit(this.#orderer.process(op));
  }

  /**
   * An operation that sync stored, one of a batch: ordered with the rest of
   * its batch (`flushSynced`, at the latest in a microtask), so the orderer
   * looks their hashes up together.
   */
  storedBySync(op: StoredOperation): void {
    if (this.#synced.push(op) === 1) queueMicrotask(() => this.#flushLater());
  }

  /** Orders what sync stored and is not ordered yet. */
  flushSynced(): void {
    if (this.#synced.length === 0) return;
    const ops = this.#synced;
    this.#synced = [];
    this.#emit(this.#orderer.processAll(ops));
  }

  /** `flushSynced` from a microtask, where an exception would have no caller to reach. */
  #flushLater(): void {
    try {
      this.flushSynced();
    } catch (err) {
      this.#onProblem(`ordering synced operations failed: ${(err as Error).message}`);
    }
  }

  heads(): Hash[] {
    this.flushSynced();
    return [...this.#heads.values()];
  }

  subscribe(signal?: AbortSignal): Receiver<TopicEvent> {
    const rx: Receiver<TopicEvent> = new Receiver(() => this.receivers.delete(rx), signal);
    this.receivers.add(rx);
    return rx;
  }

  /** Replays, in causal order, every operation stored after `cursor`, to one new subscriber. */
  replay(rx: Receiver<TopicEvent>, cursor: number): void {
    this.flushSynced();
    const released = new Set<string>();
    let waiting: StoredOperation[] = [];
    for (let after = cursor; ; ) {
      const page = this.#store.operationsAfter(after, SCAN_PAGE, this.topic);
      if (page.length === 0) break;
      after = page[page.length - 1].localSeq;
      waiting.push(...page);
      // Release every operation whose dependencies are released or older than the cursor.
      let progress = true;
      while (progress) {
        progress = false;
        const still: StoredOperation[] = [];
        for (const op of waiting) {
          const deps = [op.header.backlink, ...previousOf(op.header)].filter((h): h is Hash => !!h);
          const ready = deps.every((h) => released.has(h.toHex()) || (this.#store.getOperation(h)?.localSeq ?? 0) <= cursor);
          if (ready) {
            released.add(op.hash.toHex());
            rx.push(this.#event({ operation: op, lamport: this.#orderer.lamportOf(op.hash) ?? 0 }, () => {}));
            progress = true;
          } else still.push(op);
        }
        waiting = still;
      }
    }
  }

  subscribeEphemeral(signal?: AbortSignal): Receiver<EphemeralEvent> {
    const rx: Receiver<EphemeralEvent> = new Receiver(() => this.ephemeral.delete(rx), signal);
    this.ephemeral.add(rx);
    return rx;
  }

  /** Delivers an ephemeral message once, however many paths it came by. */
  deliverEphemeral(message: EphemeralMessage, bytes: Uint8Array): void {
    const id = toHex(crypto().blake3(bytes));
    if (this.#ephemeralSeen.has(id)) return;
    this.#ephemeralSeen.add(id);
    if (this.#ephemeralSeen.size > MAX_EPHEMERAL_SEEN) this.#ephemeralSeen.delete(this.#ephemeralSeen.values().next().value!);
    const event: EphemeralEvent = { ...message, author: message.author.toHex(), own: message.author.toHex() === this.#self };
    for (const rx of this.ephemeral) rx.push(event);
  }

  /** Keeps an operation that came ahead of its backlink (bounded: the oldest log's go first). */
  keepAhead(op: Operation): void {
    const key = aheadKey(op);
    let log = this.#ahead.get(key);
    if (!log) this.#ahead.set(key, (log = new Map()));
    if (!log.has(op.header.seqNum)) this.#aheadCount++;
    log.set(op.header.seqNum, op);
    while (this.#aheadCount > MAX_AHEAD) {
      const [oldestKey, oldest] = this.#ahead.entries().next().value!;
      const [seq] = oldest.keys();
      oldest.delete(seq);
      this.#aheadCount--;
      if (oldest.size === 0) this.#ahead.delete(oldestKey);
    }
  }

  /** Takes the waiting operation that follows `op` in its log, if one came early. */
  takeNextAhead(op: Operation): Operation | undefined {
    const key = aheadKey(op);
    const log = this.#ahead.get(key);
    const next = log?.get(op.header.seqNum + 1);
    if (!log || !next) return undefined;
    log.delete(op.header.seqNum + 1);
    this.#aheadCount--;
    if (log.size === 0) this.#ahead.delete(key);
    return next;
  }

  /** The lowest waiting operation of every log (after a sync, they may fit now). */
  firstAhead(): Operation[] {
    const out: Operation[] = [];
    for (const log of this.#ahead.values()) {
      let first: Operation | undefined;
      for (const op of log.values()) if (!first || op.header.seqNum < first.header.seqNum) first = op;
      if (first) out.push(first);
    }
    return out;
  }

  /** Drops waiting operations at or below `seqNum` of this operation's log (stored by now). */
  dropAheadUpTo(op: Operation): void {
    const key = aheadKey(op);
    const log = this.#ahead.get(key);
    if (!log) return;
    for (const seq of [...log.keys()]) {
      if (seq > op.header.seqNum) continue;
      log.delete(seq);
      this.#aheadCount--;
    }
    if (log.size === 0) this.#ahead.delete(key);
  }

  get aheadCount(): number {
    return this.#aheadCount;
  }

  /** Records that `peer` holds at least these heights (after a sync with it). */
  noteHeights(peer: string, heights: LogHeight[]): void {
    let known = this.peerHeights.get(peer);
    if (!known) this.peerHeights.set(peer, (known = new Map()));
    for (const h of heights) {
      const key = `${h.author.toHex()}:${toHex(h.logId)}`;
      known.set(key, Math.max(known.get(key) ?? -1, h.seqNum));
    }
  }

  /** Peers known to hold `op` (from sync, or because they sent it). */
  seenBy(op: { author: string; seqNum: number }): string[] {
    const key = `${op.author}:${toHex(this.logId)}`;
    return [...this.peerHeights].filter(([, heights]) => (heights.get(key) ?? -1) >= op.seqNum).map(([peer]) => peer);
  }

  close(): void {
    this.flushSynced();
    for (const rx of [...this.receivers]) rx.close();
    for (const rx of [...this.ephemeral]) rx.close();
    this.#orderer.flush();
  }

  #emit(released: OrderedOperation[]): void {
    for (const ordered of released) {
      this.#advanceHeads(ordered.operation);
      this.#noteReferences(ordered.operation);
      if (this.receivers.size === 0) continue;
      for (const rx of this.receivers) {
        this.#unacked++;
        let acked = false;
        const localSeq = ordered.operation.localSeq;
        rx.push(
          this.#event(ordered, () => {
            if (acked) return;
            acked = true;
            // With several subscribers an operation is acknowledged once all have.
            if (this.receivers.size <= 1) this.#orderer.ack(localSeq);
            if (--this.#unacked === 0) this.#orderer.commit();
          }),
        );
      }
    }
  }

  #event(ordered: OrderedOperation, ack: () => void): TopicEvent {
    const op = ordered.operation;
    const author = op.header.publicKey.toHex();
    return {
      hash: op.hash,
      author,
      seqNum: op.header.seqNum,
      body: op.body,
      timestamp: timestampOf(op.header),
      lamport: ordered.lamport,
      cursor: op.localSeq,
      own: author === this.#self,
      ack,
    };
  }

  /** An author that depends on an operation holds it (and its log before it). */
  #noteReferences(op: Operation): void {
    const author = op.header.publicKey.toHex();
    const previous = previousOf(op.header);
    if (author === this.#self || previous.length === 0) return;
    const held: LogHeight[] = [];
    for (const hash of previous) {
      const dep = this.#store.getOperation(hash);
      if (dep) held.push({ author: dep.header.publicKey, logId: logIdOf(dep.header), seqNum: dep.header.seqNum });
    }
    this.noteHeights(author, held);
  }

  #advanceHeads(op: Operation): void {
    if (op.header.backlink) this.#heads.delete(op.header.backlink.toHex());
    for (const h of previousOf(op.header)) this.#heads.delete(h.toHex());
    this.#heads.set(op.hash.toHex(), op.hash);
  }

  /** Heads = operations of the topic that no other operation of it depends on. */
  #loadHeads(): void {
    const referenced = new Set<string>();
    const all = new Map<string, Hash>();
    for (let after = 0; ; ) {
      const page = this.#store.operationsAfter(after, SCAN_PAGE, this.topic);
      if (page.length === 0) break;
      after = page[page.length - 1].localSeq;
      for (const op of page) {
        all.set(op.hash.toHex(), op.hash);
        if (op.header.backlink) referenced.add(op.header.backlink.toHex());
        for (const h of previousOf(op.header)) referenced.add(h.toHex());
      }
    }
    for (const [hex, hash] of all) if (!referenced.has(hex)) this.#heads.set(hex, hash);
  }
}
