/**
 * Decryption as a processor: the slot after access control in a topic's
 * chain. Operations come in causally ordered; what comes out carries the
 * plaintext as its body (the header still names the ciphertext's hash, which
 * is what the store keeps). A body that does not decrypt is reported and
 * dropped, never passed on. A body sealed under a group secret not held yet
 * waits, and so does everything that depends on it (backlink or `previous`),
 * so the app still sees causal order; group control messages are consumed
 * here at once (they change the keys; they never wait, so each author's are
 * read in its log order, as the two-party channels need) and not passed on.
 *
 * Waiting is bounded: at most `maxPending` operations and `maxPendingBytes`
 * bytes of bodies, each for at most `pendingTtlMs`; beyond that the newest
 * is dropped (`overflow`, PENDING_OVERFLOW), after it the expired one
 * (`rejected`, MISSING_KEY). Time comes from the injected clock.
 */
import { WalkawayError, previousOf, type Hash } from '../core/index.ts';
import type { OrderedOperation, Outputs, Processor, ReportSink } from '../processors/index.ts';
import type { GroupEncryption } from './data-scheme.ts';
import { BODY_KIND, decodeEnvelope, type Envelope } from './envelope.ts';
import type { MessageGroup } from './message-scheme/group.ts';
import type { TopicKey } from './topic-key.ts';

export type DecryptMode = { type: 'topic-key'; key: TopicKey } | { type: 'group'; group: GroupEncryption } | { type: 'message'; group: MessageGroup };

/** The control-message kind each mode reads (a topic key has none). */
const CONTROL_KIND = { 'topic-key': undefined, group: BODY_KIND.control, message: BODY_KIND.messageControl } as const;

export interface DecryptConfig {
  mode: DecryptMode;
  /** Milliseconds since the epoch (injected so that tests control expiry). */
  now: () => number;
  maxPending?: number;
  maxPendingBytes?: number;
  pendingTtlMs?: number;
  onReport?: ReportSink;
  /** Control bodies the group scheme asks to publish on the topic (acks, welcomes, fresh secrets). */
  onPublish?: (body: Uint8Array) => void;
  /** After a group control message changed the scheme's state (persist it here, before its bodies go out). */
  onStateChange?: () => void;
}

/** Control messages remembered as read, so that a replay of the topic does not feed them to the channels twice. */
const MAX_CONTROLS_SEEN = 65_536;

export const DEFAULT_DECRYPT_CONFIG = { maxPending: 4096, maxPendingBytes: 16 * 1024 * 1024, pendingTtlMs: 24 * 3600_000 };

interface Waiting {
  input: OrderedOperation;
  since: number;
  bytes: number;
}

export interface DecryptStats {
  opened: number;
  waiting: number;
  waitingBytes: number;
  rejected: number;
  expired: number;
  overflowed: number;
}

export class DecryptProcessor implements Processor<OrderedOperation, OrderedOperation> {
  readonly name = 'decrypt';
  /** Waiting operations in arrival order (a Map keeps insertion order), by hash hex. */
  private readonly waiting = new Map<string, Waiting>();
  private waitingBytes = 0;
  private readonly controlsSeen = new Set<string>();
  private readonly counts = { opened: 0, rejected: 0, expired: 0, overflowed: 0 };
  private readonly limits: typeof DEFAULT_DECRYPT_CONFIG;

  constructor(private readonly config: DecryptConfig) {
    this.limits = {
      maxPending: config.maxPending ?? DEFAULT_DECRYPT_CONFIG.maxPending,
      maxPendingBytes: config.maxPendingBytes ?? DEFAULT_DECRYPT_CONFIG.maxPendingBytes,
      pendingTtlMs: config.pendingTtlMs ?? DEFAULT_DECRYPT_CONFIG.pendingTtlMs,
    };
  }

  stats(): DecryptStats {
    return { ...this.counts, waiting: this.waiting.size, waitingBytes: this.waitingBytes };
  }

  /** Synchronous except for a group control message (HPKE is asynchronous). */
  process(input: OrderedOperation): Outputs<OrderedOperation> {
    return this.processAll([input]);
  }

  processAll(inputs: readonly OrderedOperation[]): Outputs<OrderedOperation> {
    const now = this.config.now();
    this.expire(now);
    const out: OrderedOperation[] = [];
    for (let i = 0; i < inputs.length; i++) {
      const control = this.handle(inputs[i], now, out);
      if (control) return this.continueAsync(control, inputs.slice(i + 1), now, out);
    }
    return out;
  }

  private async continueAsync(first: Promise<void>, rest: readonly OrderedOperation[], now: number, out: OrderedOperation[]): Promise<OrderedOperation[]> {
    await first;
    for (const input of rest) await this.handle(input, now, out);
    return out;
  }

  /** Handles one operation; a promise only for a group control message. */
  private handle(input: OrderedOperation, now: number, out: OrderedOperation[]): Promise<void> | undefined {
    const { body, hash } = input.operation;
    if (!body) {
      if (this.waitsOnOthers(input)) this.wait(input, now);
      else out.push(input);
      return;
    }
    let envelope: Envelope;
    try {
      envelope = decodeEnvelope(body);
    } catch (err) {
      this.reject(hash, err);
      return;
    }
    const { mode } = this.config;
    // Control messages never wait: they carry keys, and each author's must be read in its log order.
    if (envelope.kind === BODY_KIND.control || envelope.kind === BODY_KIND.messageControl) {
      if (envelope.kind !== CONTROL_KIND[mode.type] || mode.type === 'topic-key') {
        this.reject(hash, new WalkawayError('MALFORMED', `a control message of kind ${envelope.kind} on a ${mode.type} topic`));
        return;
      }
      const key = hash.toHex();
      if (this.controlsSeen.has(key)) return; // a replay: its keys are in the state already
      return this.receiveControl(mode, input, envelope.message, now, out).then(() => {
        this.controlsSeen.add(key);
        if (this.controlsSeen.size > MAX_CONTROLS_SEEN) this.controlsSeen.delete(this.controlsSeen.values().next().value!);
      });
    }
    if (this.waiting.has(hash.toHex())) return; // a replay of one that waits already
    if (this.waitsOnOthers(input)) {
      this.wait(input, now);
      return;
    }
    const author = input.operation.header.publicKey.toBytes();
    try {
      const plaintext = this.open(author, envelope);
      this.counts.opened++;
      out.push({ ...input, operation: { ...input.operation, body: plaintext } });
    } catch (err) {
      if (mayArriveLater(mode, err)) this.wait(input, now);
      else this.reject(hash, err);
    }
  }

  private open(author: Uint8Array, envelope: Envelope): Uint8Array {
    const { mode } = this.config;
    if (mode.type === 'topic-key') return mode.key.openEnvelope(envelope, author);
    if (mode.type === 'group') return mode.group.open(author, envelope);
    if (envelope.kind !== BODY_KIND.message) throw new WalkawayError('MALFORMED', `a message-scheme topic holds message-scheme bodies, got kind ${envelope.kind}`);
    return mode.group.open(author, envelope.body);
  }

  private async receiveControl(
    mode: Extract<DecryptMode, { group: unknown }>,
    input: OrderedOperation,
    message: Uint8Array,
    now: number,
    out: OrderedOperation[],
  ): Promise<void> {
    try {
      const author = input.operation.header.publicKey.toBytes();
      const result =
        mode.type === 'group' ? await mode.group.receive({ author, lamport: input.lamport, message }, now) : await mode.group.receive({ author, message }, now);
      this.config.onStateChange?.();
      for (const b of result.publish) this.config.onPublish?.(b);
      if ('secrets' in result ? result.secrets.length > 0 : result.epochs.length > 0) this.release(out);
    } catch (err) {
      this.reject(input.operation.hash, err);
    }
  }

  /** Does this operation depend on one that is still waiting? Then it waits too (causal order for the app). */
  private waitsOnOthers(input: OrderedOperation): boolean {
    if (this.waiting.size === 0) return false;
    const { header } = input.operation;
    const deps: Hash[] = header.backlink ? [header.backlink, ...previousOf(header)] : previousOf(header);
    return deps.some((d) => this.waiting.has(d.toHex()));
  }

  private wait(input: OrderedOperation, now: number): void {
    const bytes = input.operation.body?.length ?? 0;
    const { hash } = input.operation;
    if (this.waiting.size >= this.limits.maxPending || this.waitingBytes + bytes > this.limits.maxPendingBytes) {
      this.counts.overflowed++;
      const error = new WalkawayError('PENDING_OVERFLOW', `decryption waits on ${this.waiting.size} operations, ${this.waitingBytes} bytes`, {
        count: this.waiting.size,
        bytes: this.waitingBytes,
      });
      this.config.onReport?.({ type: 'overflow', processor: this.name, hash, error });
      return;
    }
    this.waiting.set(hash.toHex(), { input, since: now, bytes });
    this.waitingBytes += bytes;
  }

  /** Re-tries everything waiting, in arrival order, until a pass releases nothing more. */
  private release(out: OrderedOperation[]): void {
    let progress = true;
    while (progress) {
      progress = false;
      for (const [key, w] of [...this.waiting]) {
        if (this.waitsOnOthers(w.input) || !this.tryOpenWaiting(w, out)) continue;
        this.waiting.delete(key);
        this.waitingBytes -= w.bytes;
        progress = true;
      }
    }
  }

  /** Opens (or rejects) a waiting operation; false while its secret is still missing. */
  private tryOpenWaiting(w: Waiting, out: OrderedOperation[]): boolean {
    const { mode } = this.config;
    const { operation } = w.input;
    if (!operation.body) {
      out.push(w.input);
      return true;
    }
    const envelope = decodeEnvelope(operation.body);
    if (mode.type === 'topic-key' || envelope.kind === BODY_KIND.control || envelope.kind === BODY_KIND.messageControl) return false;
    try {
      const plaintext = this.open(operation.header.publicKey.toBytes(), envelope);
      this.counts.opened++;
      out.push({ ...w.input, operation: { ...operation, body: plaintext } });
    } catch (err) {
      if (mayArriveLater(mode, err)) return false;
      this.reject(operation.hash, err);
    }
    return true;
  }

  private expire(now: number): void {
    for (const [key, w] of this.waiting) {
      if (now - w.since < this.limits.pendingTtlMs) continue;
      this.waiting.delete(key);
      this.waitingBytes -= w.bytes;
      this.counts.expired++;
      this.config.onReport?.({
        type: 'rejected',
        processor: this.name,
        hash: w.input.operation.hash,
        error: new WalkawayError('MISSING_KEY', `no key arrived within ${this.limits.pendingTtlMs} ms`),
      });
    }
  }

  private reject(hash: Hash, err: unknown): void {
    if (!(err instanceof WalkawayError)) throw err;
    this.counts.rejected++;
    this.config.onReport?.({ type: 'rejected', processor: this.name, hash, error: err });
  }
}

/** A key that is missing now but may come with a later control message (never for a topic key, nor a key gone for good). */
function mayArriveLater(mode: DecryptMode, err: unknown): boolean {
  return mode.type !== 'topic-key' && err instanceof WalkawayError && err.code === 'MISSING_KEY' && err.data.permanent !== true;
}
