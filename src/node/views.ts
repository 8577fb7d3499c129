/**
 * Live views of a topic: the base convergent types (processors/crdt) kept up
 * to date by the topic's processors chain, with `change` events. A view is
 * an app processor (after the access and decryption slots): it is first fed
 * the topic's history from the store, then every operation as it is
 * released in causal order, whoever wrote it and however it came.
 *
 *     const board = node.map('board');
 *     board.on('change', ({ key, value }) => ...);
 *     await board.set('title', 'Walkaway');
 *     board.get('title');
 *
 * Writes are operations of the topic (an LWW write is CBOR `[key, value]`,
 * a set element the CBOR of the value), so a topic holds one kind of view;
 * operations a view cannot read are skipped, never fatal. A write resolves
 * once it is in the local view. `close()` detaches the view.
 */
import { EventEmitter } from 'node:events';
import { decode as cborDecode, encode as cborEncode } from 'cborg';
import { toHex, WalkawayError, type Hash, type PublicKey } from '../core/index.ts';
import {
  encodeLwwWrite,
  GrowOnlySet,
  LogView,
  LwwMap,
  OperationDag,
  type AppProcessor,
  type DagChange,
  type GrowOnlySetChange,
  type LogViewChange,
  type LogViewEntry,
  type LwwChange,
  type LwwEntry,
} from '../processors/index.ts';
import type { PublishOptions } from './node-types.ts';
import type { TopicState } from './topic-state.ts';

/** What a view needs of the node: the topic and a way to publish to it. */
export interface ViewSource {
  state: TopicState;
  /** Hex public key of this node. */
  self: string;
  publish(body: Uint8Array, options?: PublishOptions): Promise<Hash>;
}

/** Longest LWW key, in UTF-16 code units: keys travel in every write. */
const MAX_KEY_LENGTH = 1024;

abstract class LiveView<C> extends EventEmitter<{ change: [C]; error: [Error] }> {
  readonly topic: Uint8Array;
  readonly #source: ViewSource;
  #detach: (() => void) | undefined;

  constructor(source: ViewSource, processor: AppProcessor<C>) {
    super();
    this.topic = source.state.topic;
    this.#source = source;
    this.#detach = source.state.addProcessors([processor], (change) => {
      if (this.listenerCount('change') > 0) this.emit('change', change as C);
    });
    source.state.start();
  }

  /** Resolves once what is stored so far is in the view. */
  settled(): Promise<void> {
    return this.#source.state.idle();
  }

  /** Stops following the topic (the view keeps what it has). */
  close(): void {
    this.#detach?.();
    this.#detach = undefined;
  }

  protected async write(body: Uint8Array, options?: PublishOptions): Promise<Hash> {
    if (!this.#detach) throw new WalkawayError('CLOSED', 'the view is closed');
    const hash = await this.#source.publish(body, options);
    await this.#source.state.idle();
    return hash;
  }
}

/** A last-write-wins map: `set`, `delete`, `get`; concurrent writes resolve the same everywhere. */
export class LiveMap<V = unknown> extends LiveView<LwwChange<V>> {
  readonly #map: LwwMap<V>;

  constructor(source: ViewSource) {
    const map = new LwwMap<V>();
    super(source, map);
    this.#map = map;
  }

  /** Writes `value` (anything CBOR can encode) under `key`. */
  set(key: string, value: V): Promise<Hash> {
    if (value === undefined) throw new WalkawayError('INVALID_ARGUMENT', 'a value cannot be undefined: use delete(key)');
    return this.write(encodeLwwWrite(checkKey(key), value));
  }

  /** Deletes `key` (a tombstone: an older write cannot bring it back). */
  delete(key: string): Promise<Hash> {
    return this.write(encodeLwwWrite(checkKey(key)));
  }

  get(key: string): V | undefined {
    return this.#map.get(key);
  }

  has(key: string): boolean {
    return this.#map.has(key);
  }

  /** The winning write of a key, with its stamp (tombstones included). */
  entry(key: string): LwwEntry<V> | undefined {
    return this.#map.entry(key);
  }

  /** Live keys and values, in key order. */
  entries(): [string, V | undefined][] {
    return this.#map.entries();
  }

  get size(): number {
    return this.#map.size;
  }
}

/** A grow-only set of values (anything CBOR can encode; equal encodings are one element). */
export class LiveSet<T = unknown> extends LiveView<GrowOnlySetChange<T>> {
  readonly #set: GrowOnlySet<T>;

  constructor(source: ViewSource) {
    const set = new GrowOnlySet<T>({
      decode: (op) => {
        if (!op.body) return undefined;
        return { key: toHex(op.body), value: cborDecode(op.body) as T };
      },
    });
    super(source, set);
    this.#set = set;
  }

  add(value: T): Promise<Hash> {
    return this.write(cborEncode(value));
  }

  has(value: T): boolean {
    return this.#set.has(toHex(cborEncode(value)));
  }

  /** Every element, in a canonical order (equal sets give equal lists). */
  values(): T[] {
    return this.#set.values();
  }

  get size(): number {
    return this.#set.size;
  }
}

/** The topic's operation DAG: heads (its frontier) and a deterministic topological order. */
export class LiveDag extends LiveView<DagChange> {
  readonly #dag: OperationDag;

  constructor(source: ViewSource) {
    const dag = new OperationDag();
    super(source, dag);
    this.#dag = dag;
  }

  /** Publishes an operation that depends on the current heads. */
  append(body: Uint8Array): Promise<Hash> {
    return this.write(body);
  }

  has(hash: Hash): boolean {
    return this.#dag.has(hash);
  }

  heads(): Hash[] {
    return this.#dag.heads();
  }

  topological(): Hash[] {
    return this.#dag.topological();
  }

  get size(): number {
    return this.#dag.size;
  }
}

/** Every author's log of the topic, by seqNum; a prune point hides what came before it. */
export class LiveLog extends LiveView<LogViewChange> {
  readonly #view: LogView;
  readonly #logId: Uint8Array;

  constructor(source: ViewSource) {
    const view = new LogView();
    super(source, view);
    this.#view = view;
    this.#logId = source.state.logId;
  }

  /** Appends to this node's log; `prune` lets every peer delete this log's entries before it. */
  append(body: Uint8Array, options?: PublishOptions): Promise<Hash> {
    return this.write(body, options);
  }

  /** The entries of one author's log of this topic, in seqNum order. */
  entries(author: PublicKey): LogViewEntry[] {
    return this.#view.log(author, this.#logId);
  }
}

function checkKey(key: string): string {
  if (typeof key !== 'string' || key.length > MAX_KEY_LENGTH) {
    throw new WalkawayError('INVALID_ARGUMENT', `a key is a string of at most ${MAX_KEY_LENGTH} characters`);
  }
  return key;
}
