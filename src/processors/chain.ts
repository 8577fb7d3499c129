/**
 * The processors chain of one topic: what every stored operation passes
 * through before anything of the app sees it, in a fixed order.
 *
 *     prune > causal order > [access] > [decrypt] > app processors
 *
 * - prune: an operation with the prune flag deletes its author's older
 *   entries of that log (`prune.ts`).
 * - causal order: released only after its backlink and `previous`
 *   (`causal-orderer.ts`); Lamport timestamps come from here.
 * - slots: one processor each, `access` (access control: drop what the
 *   author may not write) then `decrypt` (replace the body by its plaintext).
 *   A slot takes `OrderedOperation`s and returns what passes on, possibly
 *   changed; a slot may hold an operation and return it from a later call.
 *   The next layers plug in here (`useSlot`) without touching any driver.
 * - app processors: everything that passed the slots, in causal order; their
 *   outputs go to the `onOutput` given with them. A processor added while the
 *   topic has history is first fed that history (`addProcessor`), so live
 *   views start complete.
 *
 * Everything is synchronous while every stage is; a stage that returns a
 * promise makes deliveries queue behind it, so the order never changes
 * (`idle()` resolves once the queue is empty). A stage that throws loses
 * nothing: the error is told to `onProblem`, the other stages go on.
 *
 * Slots and app processors see an operation at least once: after a restart
 * (unacknowledged operations are released again) and in replays. The
 * built-in convergent types are idempotent; a slot must be too.
 */
import { logIdOf, previousOf, pruneFlagOf, toHex, type Hash } from '../core/index.ts';
import type { Store, StoredOperation } from '../store/index.ts';
import { CausalOrderer } from './causal-orderer.ts';
import { lamportFromStore } from './orderer-store.ts';
import { PruneProcessor } from './prune.ts';
import type { OrderedOperation, Outputs, Processor, ReportSink } from './types.ts';

/** The slots, in the order operations pass them. */
export const CHAIN_SLOTS = ['access', 'decrypt'] as const;
export type ChainSlot = (typeof CHAIN_SLOTS)[number];
/** A slot's processor: ordered operations in, those that pass (maybe changed) out. */
export type SlotProcessor = Processor<OrderedOperation, OrderedOperation>;
/** An app's processor: ordered operations in, whatever it makes of them out (to `onOutput`). */
export type AppProcessor<O = unknown> = Processor<OrderedOperation, O>;

export interface ProcessorChainConfig {
  store: Store;
  topic: Uint8Array;
  /** Each operation as the orderer releases it, before the slots (the topic's DAG, readable or not). */
  onOrdered?: (op: OrderedOperation) => void;
  /** What passed the slots, in causal order, after the app processors had it. */
  onDelivered: (ops: OrderedOperation[]) => void;
  onReport?: ReportSink;
  /** A stage threw or an asynchronous stage failed: told here, nothing else stops. */
  onProblem: (message: string) => void;
}

interface AppEntry {
  processor: AppProcessor;
  onOutput: ((output: unknown) => void) | undefined;
}

const SCAN_PAGE = 1000;

export class ProcessorChain {
  readonly #store: Store;
  readonly #topic: Uint8Array;
  readonly #prune: PruneProcessor;
  readonly #orderer: CausalOrderer;
  readonly #slots = new Map<ChainSlot, SlotProcessor>();
  readonly #apps = new Set<AppEntry>();
  readonly #config: ProcessorChainConfig;
  /** Deliveries wait here behind an asynchronous stage, in order. */
  #tail: Promise<void> | undefined;

  constructor(config: ProcessorChainConfig) {
    this.#config = config;
    this.#store = config.store;
    this.#topic = config.topic;
    this.#prune = new PruneProcessor({ store: config.store, onReport: config.onReport });
    this.#orderer = new CausalOrderer({ store: config.store, topic: config.topic, autoAck: false, onReport: config.onReport });
  }

  /** Puts a processor in a slot (one per slot: a second one is an error). */
  useSlot(slot: ChainSlot, processor: SlotProcessor): void {
    if (!CHAIN_SLOTS.includes(slot)) throw new TypeError(`no slot '${String(slot)}' (slots: ${CHAIN_SLOTS.join(', ')})`);
    if (this.#slots.get(slot) === processor) return; // the same one again (a second stream of the topic)
    if (this.#slots.has(slot)) throw new TypeError(`the '${slot}' slot is taken by ${this.#slots.get(slot)!.name}`);
    this.#slots.set(slot, processor);
  }

  /**
   * Adds an app processor at the end of the chain. Unless `history` is
   * false, it first gets every operation of the topic released so far (from
   * the store, through the slots, in causal order). Returns its removal.
   */
  addProcessor<O>(processor: AppProcessor<O>, onOutput?: (output: O) => void, history = true): () => void {
    const entry: AppEntry = { processor, onOutput: onOutput as AppEntry['onOutput'] };
    if (history) this.replay(0, (ops) => this.#toApp(entry, ops), true);
    this.#apps.add(entry);
    return () => void this.#apps.delete(entry);
  }

  /** Releases what was stored but never acknowledged before a restart. */
  start(): void {
    this.#afterOrder(this.#orderer.start());
  }

  /** An operation now in the store. */
  process(op: StoredOperation): void {
    this.#prune.process(op);
    this.#afterOrder(this.#orderer.process(op));
  }

  /**
   * A batch now in the store (one sync message, say): pruned first, so that
   * entries of the batch below one of its prune points never reach the app.
   */
  processAll(ops: readonly StoredOperation[]): void {
    let prunedBelow: Map<string, number> | undefined;
    for (const op of ops) {
      this.#prune.process(op);
      if (!pruneFlagOf(op.header)) continue;
      const log = logKey(op);
      prunedBelow ??= new Map();
      if (op.header.seqNum > (prunedBelow.get(log) ?? 0)) prunedBelow.set(log, op.header.seqNum);
    }
    const kept = prunedBelow ? ops.filter((op) => op.header.seqNum >= (prunedBelow.get(logKey(op)) ?? 0)) : ops;
    this.#afterOrder(this.#orderer.processAll(kept));
  }

  /** Resolves once every delivery queued behind an asynchronous stage is done. */
  idle(): Promise<void> {
    return this.#tail ?? Promise.resolve();
  }

  /**
   * Hands `visit` every operation stored after `cursor`, in causal order, through
   * the slots (queued behind live deliveries). A dependency missing from the
   * store (pruned) counts as met. `releasedOnly` skips what the orderer has not
   * released (it comes live) and gives each its exact Lamport timestamp.
   */
  replay(cursor: number, visit: (ops: OrderedOperation[]) => void, releasedOnly = false): void {
    this.#enqueue(() => {
      const ordered = this.#scanOrdered(cursor, releasedOnly);
      const passed = this.#throughSlots(ordered);
      return passed instanceof Promise ? passed.then(visit) : visit(passed);
    });
  }

  /** Acknowledges one delivered operation (others stay unacknowledged). */
  ack(localSeq: number): void {
    this.#orderer.ack(localSeq);
  }

  /** Acknowledges everything delivered so far. */
  commit(): void {
    this.#orderer.commit();
  }

  flush(): void {
    this.#orderer.flush();
  }

  lamportOf(hash: Hash): number | undefined {
    return this.#orderer.lamportOf(hash);
  }

  #afterOrder(released: OrderedOperation[]): void {
    if (released.length === 0) return;
    if (this.#config.onOrdered) for (const o of released) this.#config.onOrdered(o);
    this.#enqueue(() => {
      const passed = this.#throughSlots(released);
      return passed instanceof Promise ? passed.then((ops) => this.#deliver(ops)) : this.#deliver(passed);
    });
  }

  #deliver(ops: OrderedOperation[]): void | Promise<void> {
    if (ops.length === 0) return;
    const pending: Promise<void>[] = [];
    for (const entry of this.#apps) {
      const done = this.#toApp(entry, ops);
      if (done) pending.push(done);
    }
    if (pending.length === 0) return this.#config.onDelivered(ops);
    return Promise.all(pending).then(() => this.#config.onDelivered(ops));
  }

  /** Runs `ops` through one app processor; a promise only if the processor returned one. */
  #toApp(entry: AppEntry, ops: OrderedOperation[]): Promise<void> | undefined {
    const p = entry.processor;
    const fail = (err: unknown) => this.#config.onProblem(`processor ${p.name} failed: ${(err as Error).message}`);
    const emit = (outputs: unknown[]) => {
      if (!entry.onOutput) return;
      for (const o of outputs) {
        try {
          entry.onOutput(o);
        } catch (err) {
          fail(err); // the app's handler: its exception stops nothing else
        }
      }
    };
    try {
      if (p.processAll && ops.length > 1) {
        const out = p.processAll(ops);
        if (out instanceof Promise) return out.then(emit, fail);
        emit(out);
        return undefined;
      }
      let chain: Promise<void> | undefined;
      for (const op of ops) {
        if (chain) {
          chain = chain.then(() => p.process(op)).then(emit);
          continue;
        }
        const out = p.process(op);
        if (out instanceof Promise) chain = out.then(emit);
        else emit(out);
      }
      return chain?.catch(fail);
    } catch (err) {
      fail(err);
      return undefined;
    }
  }

  /** The slots in order; synchronous while every slot is. */
  #throughSlots(ops: OrderedOperation[], from = 0): Outputs<OrderedOperation> {
    let current = ops;
    for (let i = from; i < CHAIN_SLOTS.length && current.length > 0; i++) {
      const slot = this.#slots.get(CHAIN_SLOTS[i]);
      if (!slot) continue;
      const out = slot.processAll && current.length > 1 ? slot.processAll(current) : eachOf(slot, current);
      if (out instanceof Promise) return out.then((next) => this.#throughSlots(next, i + 1));
      current = out;
    }
    return current;
  }

  /** Runs `task` now, or after the asynchronous work queued before it. */
  #enqueue(task: () => void | Promise<void>): void {
    const fail = (err: unknown) => this.#config.onProblem(`processors chain: ${(err as Error).message}`);
    let run: Promise<void>;
    if (this.#tail) {
      run = this.#tail.then(task);
    } else {
      let result: void | Promise<void>;
      try {
        result = task();
      } catch (err) {
        return fail(err);
      }
      if (!(result instanceof Promise)) return;
      run = result;
    }
    const tail: Promise<void> = run.catch(fail).then(() => {
      if (this.#tail === tail) this.#tail = undefined;
    });
    this.#tail = tail;
  }

  /** Stored operations after `cursor`, in causal order (see `replay`). */
  #scanOrdered(cursor: number, releasedOnly: boolean): OrderedOperation[] {
    const out: OrderedOperation[] = [];
    const done = new Set<string>();
    const lamports = new Map<string, number>();
    let waiting: StoredOperation[] = [];
    for (let after = cursor; ; ) {
      const page = this.#store.operationsAfter(after, SCAN_PAGE, this.#topic);
      if (page.length === 0) break;
      after = page[page.length - 1].localSeq;
      for (const op of page) {
        // Not released yet: it comes live; what depends on it is not held back here.
        if (releasedOnly && this.#orderer.lamportOf(op.hash) === undefined) done.add(op.hash.toHex());
        else waiting.push(op);
      }
      // Release every operation whose dependencies are released or older than the cursor.
      for (let progress = true; progress; ) {
        progress = false;
        const still: StoredOperation[] = [];
        for (const op of waiting) {
          const deps = [op.header.backlink, ...previousOf(op.header)].filter((h): h is Hash => !!h);
          const ready = deps.every((h) => done.has(h.toHex()) || (this.#store.getOperation(h)?.localSeq ?? 0) <= cursor);
          if (!ready) {
            still.push(op);
            continue;
          }
          done.add(op.hash.toHex());
          const lamport = releasedOnly ? lamportFromStore(this.#store, op, lamports) : (this.#orderer.lamportOf(op.hash) ?? 0);
          out.push({ operation: op, lamport });
          progress = true;
        }
        waiting = still;
      }
    }
    return out;
  }
}

function eachOf(slot: SlotProcessor, ops: OrderedOperation[]): Outputs<OrderedOperation> {
  const all: OrderedOperation[] = [];
  for (let i = 0; i < ops.length; i++) {
    const out = slot.process(ops[i]);
    if (out instanceof Promise) {
      return (async () => {
        for (const o of await out) all.push(o);
        for (let j = i + 1; j < ops.length; j++) for (const o of await slot.process(ops[j])) all.push(o);
        return all;
      })();
    }
    for (const o of out) all.push(o);
  }
  return all;
}

function logKey(op: StoredOperation): string {
  return op.header.publicKey.toHex() + toHex(logIdOf(op.header));
}
