/**
 * Everything a node keeps per topic: the processors chain every stored
 * operation passes (prune, causal order, the access and decryption slots,
 * the app's processors: processors/chain.ts), the topic's current heads (the `previous` of the next publish), the
 * subscribers of `rx`, and what each peer is known to hold.
 */
import {
  bytesEqual,
  crypto,
  decodeHeader,
  type Hash,
  logIdForTopic,
  logIdOf,
  MAX_PREVIOUS,
  previousOf,
  type PublicKey,
  timestampOf,
  toHex,
  type Operation,
} from '../core/index.ts';
import { ProcessorChain, type AppProcessor, type ChainSlot, type OrderedOperation, type SlotProcessor } from '../processors/index.ts';
import type { LogHeight, Store, StoredOperation } from '../store/index.ts';
import type { EphemeralMessage } from './ephemeral.ts';
import { decodePayload } from './payload.ts';
import { PeerHeights } from './peer-heights.ts';
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

/**
 * Heads named in one header's `previous`: 300 heads once made a header over
 * the 8 KiB receivers accept. Half of what receivers allow (core's
 * MAX_PREVIOUS), so a later, lower limit still leaves room.
 */
const HEADS_PER_HEADER = Math.min(16, MAX_PREVIOUS);
/** Heads tracked per topic: a flood of throwaway authors' seq-0 operations stops here. */
const MAX_HEADS = 1024;
/** Ephemeral message ids remembered for de-duplication. */
const MAX_EPHEMERAL_SEEN = 4096;
/** Undelivered events per subscriber (and their bytes): an app that stops reading is cut off, not the node. */
const MAX_RX_EVENTS = 16_384;
const MAX_RX_BYTES = 64 * 1024 * 1024;
/** Ephemeral events per subscriber: lossy by nature, the oldest go. */
const MAX_RX_EPHEMERAL = 1024;
const SCAN_PAGE = 1000;
/** Recently ordered operations' log heights, so that a dependency on one is noted without a store read. */
const RECENT_ORDERED = 512;

interface Head {
  hash: Hash;
  author: string;
  lamport: number;
}

const eventBytes = (e: { body?: Uint8Array }) => 256 + (e.body?.length ?? 0);

export class TopicState {
  readonly topic: Uint8Array;
  readonly hex: string;
  readonly logId: Uint8Array;
  readonly neighbors = new Set<string>();
  readonly receivers = new Set<Receiver<TopicEvent>>();
  readonly ephemeral = new Set<Receiver<EphemeralEvent>>();
  readonly #peerHeights = new PeerHeights();
  readonly #store: Store;
  readonly #self: string;
  readonly #chain: ProcessorChain;
  /** Operations nothing stored depends on yet, in order of release. */
  #heads = new Map<string, Head>();
  readonly #recentOrdered = new Map<string, LogHeight>();
  /** Stored by sync, not ordered yet (`storedBySync`). */
  #synced: StoredOperation[] = [];
  readonly #onProblem: (message: string) => void;
  #ephemeralSeen = new Set<string>();
  #unacked = 0;

  readonly #forgetCached: (match: (payload: Uint8Array) => boolean) => void;

  /** `forgetCached`: drops gossip payloads held for grafts (what was deleted here must not travel on from a cache). */
  constructor(
    store: Store,
    topic: Uint8Array,
    self: string,
    onOverflow: (message: string) => void,
    forgetCached: (match: (payload: Uint8Array) => boolean) => void = () => {},
  ) {
    this.#store = store;
    this.#forgetCached = forgetCached;
    this.#onProblem = onOverflow;
    this.topic = topic;
    this.hex = toHex(topic);
    this.logId = logIdForTopic(topic);
    this.#self = self;
    this.#chain = new ProcessorChain({
      store,
      topic,
      onOrdered: (ordered) => {
        this.#advanceHeads(ordered.operation, ordered.lamport);
        this.#noteReferences(ordered.operation);
        this.#rememberOrdered(ordered.operation);
      },
      onDelivered: (ops) => this.#emit(ops),
      onReport: (report) => {
        if (report.type === 'overflow' || report.type === 'rejected') onOverflow(`${report.type}: ${report.error.message}`);
        else if (report.type === 'pruned') {
          onOverflow(`pruned ${report.deleted} entries below seqNum ${report.seqNum} of ${report.author.toHex().slice(0, 8)}`);
          this.#forgetEntries(report.author, report.logId, (seqNum) => seqNum < report.seqNum);
        }
      },
      onProblem: onOverflow,
    });
    this.#loadHeads();
  }

  /** Releases what was stored but never acknowledged before a restart. */
  start(): void {
    this.#chain.start();
  }

  /** An operation now in the store: through the processors chain to the subscribers. */
  stored(op: StoredOperation): void {
    this.flushSynced();
    this.#chain.process(op);
  }

  /** Operations now in the store, at once (one ingest transaction): as `stored` on each, in one batch. */
  storedAll(ops: readonly StoredOperation[]): void {
    this.flushSynced();
    this.#chain.processAll(ops);
  }

  /** Puts an access-control or decryption processor in its slot of this topic's chain. */
  useSlot(slot: ChainSlot, processor: SlotProcessor): void {
    this.#chain.useSlot(slot, processor);
  }

  /** Adds app processors after the slots; each first gets the topic's history (processors/chain.ts). */
  addProcessors(processors: readonly AppProcessor[], onOutput?: (output: unknown, processor: string) => void, signal?: AbortSignal): () => void {
    const removals = processors.map((p) => this.#chain.addProcessor(p, onOutput && ((output) => onOutput(output, p.name))));
    const remove = () => removals.forEach((r) => r());
    signal?.addEventListener('abort', remove, { once: true });
    return remove;
  }

  /** Resolves once deliveries queued behind an asynchronous processor are done. */
  idle(): Promise<void> {
    this.flushSynced();
    return this.#chain.idle();
  }

  /** Deletes an operation's body here (its header stays, so the log stays whole). */
  deleteBody(hash: Hash): boolean {
    const op = this.#store.getOperation(hash);
    const deleted = this.#store.deleteBody(hash);
    if (op) this.#forgetEntries(op.header.publicKey, logIdOf(op.header), (seqNum) => seqNum === op.header.seqNum);
    return deleted;
  }

  /** Drops cached gossip payloads of these entries of one log (deleted here: a body, or entries below a prune point). */
  #forgetEntries(author: PublicKey, logId: Uint8Array, which: (seqNum: number) => boolean): void {
    this.#forgetCached((payload) => {
      try {
        const decoded = decodePayload(payload);
        if (decoded.kind !== 'operation') return false;
        const header = decodeHeader(decoded.headerBytes, { trusted: true });
        return header.publicKey.equals(author) && bytesEqual(logIdOf(header), logId) && which(header.seqNum);
      } catch {
        return false;
      }
    });
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
    this.#onProblem(`ingested ${ops.length} operation(s) from sync, authors ${[...new Set(ops.map((o) => o.header.publicKey.toHex().slice(0, 8)))].join(' ')}`);
    this.#chain.processAll(ops);
  }

  /** `flushSynced` from a microtask, where an exception would have no caller to reach. */
  #flushLater(): void {
    try {
      this.flushSynced();
    } catch (err) {
      this.#onProblem(`ordering synced operations failed: ${(err as Error).message}`);
    }
  }

  /**
   * The `previous` of the next publish: at most HEADS_PER_HEADER heads, this
   * node's own head first, then the highest Lamport timestamps (ties: lower
   * hash). Heads left out stay heads, concurrent with the new operation
   * (docs/design-notes.md, "Heads").
   */
  heads(): Hash[] {
    this.flushSynced();
    const byPreference = (a: Head, b: Head) =>
      Number(b.author === this.#self) - Number(a.author === this.#self) || b.lamport - a.lamport || (a.hash.toHex() < b.hash.toHex() ? -1 : 1);
    return [...this.#heads.values()]
      .sort(byPreference)
      .slice(0, HEADS_PER_HEADER)
      .map((h) => h.hash);
  }

  /** Sizes of what this topic holds for the network, for memory checks. */
  sizes(): { heads: number; peerHeightPeers: number; peerHeightEntries: number; ephemeralSeen: number; rxQueued: number; rxBytes: number } {
    let rxQueued = 0;
    let rxBytes = 0;
    for (const rx of [...this.receivers, ...this.ephemeral]) {
      rxQueued += rx.queued;
      rxBytes += rx.bytes;
    }
    const heights = this.#peerHeights.sizes();
    return {
      heads: this.#heads.size,
      peerHeightPeers: heights.peers,
      peerHeightEntries: heights.entries,
      ephemeralSeen: this.#ephemeralSeen.size,
      rxQueued,
      rxBytes,
    };
  }

  subscribe(signal?: AbortSignal): Receiver<TopicEvent> {
    const rx: Receiver<TopicEvent> = new Receiver<TopicEvent>(() => this.receivers.delete(rx), signal, {
      maxItems: MAX_RX_EVENTS,
      maxBytes: MAX_RX_BYTES,
      sizeOf: eventBytes,
      onFull: 'fail',
    });
    this.receivers.add(rx);
    return rx;
  }

  /** Replays, in causal order, every operation stored after `cursor`, to one new subscriber. */
  replay(rx: Receiver<TopicEvent>, cursor: number): void {
    this.flushSynced();
    this.#chain.replay(cursor, (ops) => {
      for (const ordered of ops) rx.preload(this.#event(ordered, () => {}));
    });
  }

  subscribeEphemeral(signal?: AbortSignal): Receiver<EphemeralEvent> {
    const rx: Receiver<EphemeralEvent> = new Receiver<EphemeralEvent>(() => this.ephemeral.delete(rx), signal, {
      maxItems: MAX_RX_EPHEMERAL,
      maxBytes: MAX_RX_EPHEMERAL * 17 * 1024,
      sizeOf: eventBytes,
      onFull: 'drop-oldest',
    });
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

  /** Records that `peer` holds at least these heights (after a sync with it). */
  noteHeights(peer: string, heights: LogHeight[], now = performance.now()): void {
    this.#peerHeights.note(peer, heights, now);
  }

  /** Peers known to hold `op` (from sync, or because they sent it). */
  seenBy(op: { author: string; seqNum: number }): string[] {
    const key = `${op.author}:${toHex(this.logId)}`;
    return this.#peerHeights.holders(key, op.seqNum);
  }

  close(): void {
    this.flushSynced();
    for (const rx of [...this.receivers]) rx.close();
    for (const rx of [...this.ephemeral]) rx.close();
    this.#chain.flush();
  }

  #emit(released: OrderedOperation[]): void {
    if (released.length > 0) this.#onProblem(`processor released ${released.length} operation(s) in causal order (${this.receivers.size} subscriber(s))`);
    for (const ordered of released) {
      if (this.receivers.size === 0) continue;
      for (const rx of this.receivers) {
        this.#unacked++;
        let acked = false;
        const localSeq = ordered.operation.localSeq;
        const pushed = rx.push(
          this.#event(ordered, () => {
            if (acked) return;
            acked = true;
            // With several subscribers an operation is acknowledged once all have.
            if (this.receivers.size <= 1) this.#chain.ack(localSeq);
            if (--this.#unacked === 0) this.#chain.commit();
          }),
        );
        // A receiver that overflowed took nothing: it will never acknowledge this.
        if (!pushed && --this.#unacked === 0) this.#chain.commit();
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
      // Dependencies are ordered before what depends on them, usually just before.
      const recent = this.#recentOrdered.get(hash.toHex());
      if (recent) {
        held.push(recent);
        continue;
      }
      const dep = this.#store.getOperation(hash);
      if (dep) held.push({ author: dep.header.publicKey, logId: logIdOf(dep.header), seqNum: dep.header.seqNum });
    }
    this.noteHeights(author, held);
  }

  #rememberOrdered(op: Operation): void {
    const recent = this.#recentOrdered;
    recent.set(op.hash.toHex(), { author: op.header.publicKey, logId: logIdOf(op.header), seqNum: op.header.seqNum });
    if (recent.size > RECENT_ORDERED) recent.delete(recent.keys().next().value!);
  }

  /**
   * The operation replaces the heads it depends on. Over MAX_HEADS the head
   * with the lowest Lamport timestamp (the earliest released of those) is
   * forgotten: it stays concurrent with everything published later here.
   */
  #advanceHeads(op: Operation, lamport: number): void {
    if (op.header.backlink) this.#heads.delete(op.header.backlink.toHex());
    for (const h of previousOf(op.header)) this.#heads.delete(h.toHex());
    this.#addHead(op.hash.toHex(), { hash: op.hash, author: op.header.publicKey.toHex(), lamport });
  }

  #addHead(hex: string, head: Head): void {
    this.#heads.set(hex, head);
    if (this.#heads.size <= MAX_HEADS) return;
    let lowest: [string, Head] | undefined;
    for (const entry of this.#heads) {
      if (entry[1].author !== this.#self && (!lowest || entry[1].lamport < lowest[1].lamport)) lowest = entry;
    }
    if (lowest) this.#heads.delete(lowest[0]);
  }

  /** Heads = operations of the topic that no other operation of it depends on. */
  #loadHeads(): void {
    const referenced = new Set<string>();
    const all = new Map<string, Omit<Head, 'lamport'>>();
    for (let after = 0; ; ) {
      const page = this.#store.operationsAfter(after, SCAN_PAGE, this.topic);
      if (page.length === 0) break;
      after = page[page.length - 1].localSeq;
      for (const op of page) {
        all.set(op.hash.toHex(), { hash: op.hash, author: op.header.publicKey.toHex() });
        if (op.header.backlink) referenced.add(op.header.backlink.toHex());
        for (const h of previousOf(op.header)) referenced.add(h.toHex());
      }
    }
    for (const [hex, head] of all) if (!referenced.has(hex)) this.#addHead(hex, { ...head, lamport: this.#chain.lamportOf(head.hash) ?? 0 });
  }
}
