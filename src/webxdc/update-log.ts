/**
 * The status updates of one app instance, numbered the way the webxdc spec
 * and Delta Chat number them: a serial per device, assigned in the order
 * this node delivers the updates (causal order of the topic), starting at 1,
 * never reused, never changed. Peers may see the same updates under other
 * serials and in another order (docs/webxdc.md): the spec asks serials to be
 * increasing on one device only, and apps must not depend on the order.
 *
 * The numbering survives restarts: each update is kept under its serial in
 * the node's key-value store (`webxdc/<topic hex>/u/<serial>` -> CBOR
 * `[operation hash, update JSON, info, document, summary]`), its hash also
 * under `h/<serial>` (read at start to recognise duplicates), the latest
 * document and summary under `meta`, the highest serial under `max`. An operation delivered twice (the
 * node re-delivers what was not acknowledged before a crash) is recognised
 * by its hash and keeps its first serial.
 */
import { decode, encode } from 'cborg';
import { WalkawayError } from '../core/index.ts';
import type { UpdateMeta } from './wire.ts';

/** The part of the node's store the log uses. */
export interface KeyValue {
  getCursor(name: string): Uint8Array | undefined;
  setCursor(name: string, value: Uint8Array): void;
}

export interface StoredUpdate {
  serial: number;
  /** The update as JSON text: payload and the spec's optional fields. */
  json: string;
  meta: UpdateMeta;
}

/** Updates per app instance: past it, new updates are dropped (and counted) rather than filling the disk. */
export const MAX_UPDATES = 200_000;

const text = new TextEncoder();
const fromText = new TextDecoder();

export class UpdateLog {
  readonly #kv: KeyValue;
  readonly #prefix: string;
  readonly #hashes = new Set<string>();
  #max = 0;
  #document: string | undefined;
  #summary: string | undefined;
  /** Updates refused because the log is full. */
  dropped = 0;

  constructor(kv: KeyValue, topicHex: string) {
    this.#kv = kv;
    this.#prefix = `webxdc/${topicHex}/`;
    const max = Number(fromText.decode(kv.getCursor(`${this.#prefix}max`) ?? new Uint8Array()));
    let serial = Number.isSafeInteger(max) && max > 0 ? max : 0;
    // An entry written just before a crash, before `max` was: adopt it.
    while (kv.getCursor(this.#key(serial + 1))) serial++;
    // Only the small hash entries are read at start (an entry itself may hold 128 KB).
    for (let s = 1; s <= serial; s++) {
      const hash = kv.getCursor(`${this.#prefix}h/${s}`);
      const known = hash ? fromText.decode(hash) : this.#read(s)?.hash;
      if (known) this.#hashes.add(known);
    }
    try {
      const meta = kv.getCursor(`${this.#prefix}meta`);
      const [document, summary] = meta ? (decode(meta) as [unknown, unknown]) : [];
      if (typeof document === 'string') this.#document = document;
      if (typeof summary === 'string') this.#summary = summary;
    } catch {
      // a damaged entry: no document or summary until the next update sets them
    }
    this.#max = serial;
  }

  /** The highest serial given so far (0: none). */
  get maxSerial(): number {
    return this.#max;
  }

  /** The latest `document` and `summary` any update set (the spec: shown beside the app's name). */
  get document(): string | undefined {
    return this.#document;
  }

  get summary(): string | undefined {
    return this.#summary;
  }

  /**
   * Numbers a delivered update and keeps it. Returns it with its serial, or
   * undefined when this operation was numbered before (or the log is full).
   */
  add(hash: string, json: string, meta: UpdateMeta): StoredUpdate | undefined {
    if (this.#hashes.has(hash)) return undefined;
    if (this.#max >= MAX_UPDATES) {
      this.dropped++;
      return undefined;
    }
    const serial = this.#max + 1;
    this.#kv.setCursor(this.#key(serial), encode([hash, json, meta.info ?? null, meta.document ?? null, meta.summary ?? null]));
    this.#kv.setCursor(`${this.#prefix}h/${serial}`, text.encode(hash));
    if (meta.document !== undefined || meta.summary !== undefined) {
      this.#noteMeta(meta);
      this.#kv.setCursor(`${this.#prefix}meta`, encode([this.#document ?? null, this.#summary ?? null]));
    }
    this.#kv.setCursor(`${this.#prefix}max`, text.encode(String(serial)));
    this.#max = serial;
    this.#hashes.add(hash);
    return { serial, json, meta };
  }

  /** Updates after `serial`, oldest first, at most `limit` of them. */
  after(serial: number, limit = Number.MAX_SAFE_INTEGER): StoredUpdate[] {
    if (!Number.isSafeInteger(serial) || serial < 0) throw new WalkawayError('INVALID_ARGUMENT', 'a serial is an integer >= 0');
    const out: StoredUpdate[] = [];
    for (let s = serial + 1; s <= this.#max && out.length < limit; s++) {
      const entry = this.#read(s);
      if (entry) out.push(entry.update);
    }
    return out;
  }

  #noteMeta(meta: UpdateMeta): void {
    if (meta.document !== undefined) this.#document = meta.document;
    if (meta.summary !== undefined) this.#summary = meta.summary;
  }

  #key(serial: number): string {
    return `${this.#prefix}u/${serial}`;
  }

  /** Our own entries, read back defensively all the same: a damaged one is skipped. */
  #read(serial: number): { hash: string; update: StoredUpdate } | undefined {
    const bytes = this.#kv.getCursor(this.#key(serial));
    if (!bytes) return undefined;
    try {
      const [hash, json, info, document, summary] = decode(bytes) as [string, string, string | null, string | null, string | null];
      if (typeof hash !== 'string' || typeof json !== 'string') return undefined;
      const meta: UpdateMeta = {};
      if (typeof info === 'string') meta.info = info;
      if (typeof document === 'string') meta.document = document;
      if (typeof summary === 'string') meta.summary = summary;
      return { hash, update: { serial, json, meta } };
    } catch {
      return undefined;
    }
  }
}
