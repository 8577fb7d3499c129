/**
 * The log-height sync session: a sans-IO state machine, one per peer and
 * topic. Both sides run the same machine: announce heights (`Have`), compute
 * what the other lacks, announce totals (`PreSync`), stream the missing
 * operations log by log in seq order, then `Done`; optionally stay open in
 * live mode. The driver does all IO: store reads, verification, ingest,
 * the stream, and the clock.
 */
import { bytesEqual, decodeOperationUnverified, Hash, logIdOf, pruneFlagOf, toHex, WalkawayError, type Operation, type PublicKey } from '../core/index.ts';
import type { ForkEvidence, LogHeight } from '../store/index.ts';
import { compactOf, headerOfNext, rebuildHeader, type NextOperation } from './op-delta.ts';
import { decodeMessage, MAX_HAVE_ENTRIES, SYNC_PROTOCOL_VERSION, type HaveEntry, type SyncMessage } from './messages.ts';
import {
  DEFAULT_SYNC_CONFIG,
  type IngestKind,
  type IngestResult,
  type LogWant,
  type SyncConfig,
  type SyncEvent,
  type SyncInput,
  type SyncOutput,
  type SyncRole,
  type SyncStats,
} from './types.ts';
import { emptyStats, FATAL_LIVE_CODES, logKey, type ReceivingLog } from './session-state.ts';

export interface SyncSessionOptions {
  role: SyncRole;
  /** Required for the initiator; an acceptor given a topic refuses any other. */
  topic?: Uint8Array;
  /** For an acceptor without a fixed topic: which proposed topics to serve. */
  acceptTopic?: (topic: Uint8Array) => boolean;
  /** Ask for live mode (on only if both sides ask). */
  live?: boolean;
  config?: Partial<SyncConfig>;
}

type SendPhase = 'idle' | 'measuring' | 'streaming' | 'done';
type RecvPhase = 'hello' | 'have' | 'presync' | 'operations' | 'done';

export class SyncSession {
  readonly role: SyncRole;
  readonly config: SyncConfig;
  readonly #options: SyncSessionOptions;
  #topic: Uint8Array | undefined;
  #live = false;
  #closed = false;
  #synced = false;
  #out: SyncOutput[] = [];
  readonly #stats: SyncStats = emptyStats();
  // What we announced, and what the peer announced.
  #local: Map<string, number> | undefined;
  #localHeights: LogHeight[] = [];
  #remoteHaveDone = false;
  #forks: ForkEvidence[] = [];
  readonly #remote = new Map<string, number>();
  // Sending side.
  #sendPhase: SendPhase = 'idle';
  #wants: LogWant[] = [];
  #wantIndex = 0;
  #cursor = -1;
  #awaitingDrain = false;
  #toSend = 0;
  /** Pages start small and double up to `pageSize`: the first operations go out before a whole page is read. */
  #pageLimit = FIRST_PAGE;
  #liveQueue: Operation[] = [];
  /** The last operation sent as `operation` or `next`: what a `next` continues. */
  #lastSent: Operation | undefined;
  // Receiving side.
  #recvPhase: RecvPhase = 'hello';
  #current: ReceivingLog | undefined;
  readonly #finishedLogs = new Set<string>();
  #pendingIngest = 0;
  /** The last operation received as `operation` or `next` (decoded, not yet verified): what a `next` continues. */
  #lastReceived: Operation | undefined;

  constructor(options: SyncSessionOptions) {
    this.role = options.role;
    this.#options = options;
    this.config = { ...DEFAULT_SYNC_CONFIG, ...options.config };
    if (options.role === 'initiator' && !options.topic) {
      throw new WalkawayError('INVALID_ARGUMENT', 'the initiator of a sync session needs a topic');
    }
    this.#topic = options.topic;
  }

  get topic(): Uint8Array | undefined {
    return this.#topic;
  }

  get live(): boolean {
    return this.#live;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Bulk sync has finished both ways (a live session stays open after it). */
  get synced(): boolean {
    return this.#synced;
  }

  get stats(): SyncStats {
    return { ...this.#stats, topic: this.#topic, live: this.#live };
  }

  handle(input: SyncInput): SyncOutput[] {
    this.#out = [];
    if (input.type === 'ingested') this.#onIngested(input.results);
    else if (!this.#closed) this.#dispatch(input);
    const out = this.#out;
    this.#out = [];
    return out;
  }

  #dispatch(input: SyncInput): void {
    switch (input.type) {
      case 'start':
        if (this.role === 'initiator') {
          this.#send({ type: 'hello', version: SYNC_PROTOCOL_VERSION, topic: this.#topic!, live: this.#options.live === true });
          this.#out.push({ type: 'read-heights', topic: this.#topic! });
        }
        return;
      case 'recv':
        return this.#onFrame(input.frame);
      case 'heights':
        return this.#onHeights(input.heights, input.forks);
      case 'measured':
        return this.#onMeasured(input.operations, input.bytes);
      case 'log-page':
        return this.#onPage(input.operations);
      case 'drain':
        if (this.#awaitingDrain) {
          this.#awaitingDrain = false;
          this.#nextPage();
        }
        return;
      case 'publish':
        return this.#onPublish(input.operation);
      case 'keepalive':
        if (this.#recvPhase !== 'hello') this.#send({ type: 'ping' });
        return;
      case 'close':
        this.#send({ type: 'close' });
        if (this.#synced) this.#finish();
        else this.#fail(new WalkawayError('CLOSED', 'session closed locally before sync finished'), false);
        return;
      case 'end':
        return this.#onEnd();
      case 'fail':
        return this.#fail(input.error);
    }
  }

  // --- receiving ------------------------------------------------------------

  #onFrame(frame: Uint8Array): void {
    let message: SyncMessage;
    try {
      message = decodeMessage(frame, { maxHaveEntries: this.config.maxLogs });
    } catch (err) {
      return this.#fail(asWalkawayError(err));
    }
    try {
      this.#onMessage(message);
    } catch (err) {
      this.#fail(asWalkawayError(err));
    }
  }

  #onMessage(message: SyncMessage): void {
    const phase = this.#recvPhase;
    switch (message.type) {
      case 'hello':
        if (phase !== 'hello') throw unexpected(message.type, phase);
        return this.#onHello(message.version, message.topic, message.live);
      case 'have':
        if (phase !== 'have') throw unexpected(message.type, phase);
        return this.#onHave(message.logs, message.last);
      case 'presync':
        if (phase !== 'presync') throw unexpected(message.type, phase);
        this.#recvPhase = 'operations';
        this.#stats.expected = { operations: message.operations, bytes: message.bytes };
        return this.#emit({ type: 'presync', direction: 'receive', operations: message.operations, bytes: message.bytes });
      case 'operation':
        if (phase !== 'operations') throw unexpected(message.type, phase);
        return this.#onOperation(decodeOperationUnverified(message.header, message.body, this.config.limits));
      case 'next':
        if (phase !== 'operations') throw unexpected(message.type, phase);
        if (!this.#lastReceived) throw new WalkawayError('PROTOCOL', 'a next message before any operation');
        // The exact header it stands for, then the same checks as a whole operation.
        return this.#onOperation(this.#decodeNext(this.#lastReceived, message));
      case 'fork':
        if (phase !== 'operations') throw unexpected(message.type, phase);
        return this.#onForkEvidence(message.headers);
      case 'done':
        if (phase !== 'operations') throw unexpected(message.type, phase);
        this.#recvPhase = 'done';
        this.#current = undefined;
        return this.#checkFinished();
      case 'live':
        if (phase !== 'done' || !this.#live) throw unexpected(message.type, phase);
        return this.#onLive(message.header, message.body);
      case 'ping':
        if (phase === 'hello') throw unexpected(message.type, phase);
        return;
      case 'close':
        return this.#onClose(message.code, message.reason);
    }
  }

  #onHello(version: number, topic: Uint8Array, live: boolean): void {
    if (version !== SYNC_PROTOCOL_VERSION) {
      throw new WalkawayError('PROTOCOL', `sync protocol version ${version}, expected ${SYNC_PROTOCOL_VERSION}`, {
        version,
        expected: SYNC_PROTOCOL_VERSION,
      });
    }
    const ours = this.#topic;
    if (this.role === 'initiator' || ours) {
      if (!ours || !bytesEqual(ours, topic)) {
        throw new WalkawayError('PROTOCOL', `peer ${this.role === 'initiator' ? 'answered' : 'proposed'} another topic`, {
          topic: toHex(topic),
        });
      }
    } else if (this.#options.acceptTopic && !this.#options.acceptTopic(topic)) {
      throw new WalkawayError('PROTOCOL', 'topic not served here', { topic: toHex(topic) });
    } else if (!this.#options.acceptTopic) {
      throw new WalkawayError('INVALID_ARGUMENT', 'an acceptor needs a topic or acceptTopic');
    }
    this.#topic = topic;
    this.#live = this.#options.live === true && live;
    this.#recvPhase = 'have';
    if (this.role === 'acceptor') {
      this.#send({ type: 'hello', version: SYNC_PROTOCOL_VERSION, topic, live: this.#live });
      this.#out.push({ type: 'read-heights', topic });
    }
    this.#emit({ type: 'handshake', topic, live: this.#live });
  }

  #onHave(logs: HaveEntry[], last: boolean): void {
    for (const entry of logs) this.#remote.set(logKey(entry.author, entry.logId), entry.seqNum);
    if (this.#remote.size > this.config.maxLogs) {
      throw new WalkawayError('TOO_LARGE', `peer announced over ${this.config.maxLogs} logs`, { limit: this.config.maxLogs });
    }
    if (!last) return;
    this.#recvPhase = 'presync';
    this.#remoteHaveDone = true;
    this.#computeWants();
  }

  /**
   * A `Next` as the operation it stands for. Its header's payload size and
   * hash are computed from its body, so the body is not hashed a second time
   * (an empty body still takes the whole check, which refuses it).
   */
  #decodeNext(prev: Operation, next: NextOperation): Operation {
    const { body } = next;
    if (!body || body.length === 0 || body.length > this.config.limits.maxBodyBytes) {
      return decodeOperationUnverified(headerOfNext(prev, next), body, this.config.limits);
    }
    const bodyHash = Hash.digest(body);
    const operation = decodeOperationUnverified(rebuildHeader(prev, next, bodyHash.bytes), undefined, this.config.limits);
    return { ...operation, body };
  }

  #onOperation(operation: Operation): void {
    const header = operation.headerBytes;
    const body = operation.body;
    const { seqNum, publicKey } = operation.header;
    const logId = logIdOf(operation.header);
    const cur = this.#current;
    if (cur && bytesEqual(cur.author, publicKey.bytes) && bytesEqual(cur.logId, logId)) {
      if (seqNum !== cur.lastSeq + 1) throw outOfOrder(operation, cur.lastSeq + 1);
      if (seqNum > cur.announced) throw beyondAnnounced(operation, cur.announced);
      cur.lastSeq = seqNum;
    } else {
      this.#current = this.#startLog(operation, publicKey, logId);
    }
    this.#lastReceived = operation;
    this.#stats.received.operations++;
    this.#stats.received.bytes += header.length + (body?.length ?? 0);
    this.#ingest(operation, 'sync');
  }

  /** The first operation of a log in this session: announced, in range, in order. */
  #startLog(operation: Operation, author: PublicKey, logId: Uint8Array): ReceivingLog {
    const key = logKey(author.bytes, logId);
    if (this.#finishedLogs.has(key)) {
      throw new WalkawayError('PROTOCOL', 'operations of a log must be sent in one run', { author: author.toHex() });
    }
    const announced = this.#remote.get(key);
    if (announced === undefined) {
      throw new WalkawayError('PROTOCOL', 'operation of a log the peer did not announce', { author: author.toHex() });
    }
    const { seqNum } = operation.header;
    const expected = (this.#local?.get(key) ?? -1) + 1;
    if (seqNum !== expected && !(seqNum > expected && pruneFlagOf(operation.header))) {
      throw outOfOrder(operation, expected);
    }
    if (seqNum > announced) throw beyondAnnounced(operation, announced);
    if (this.#current) this.#finishedLogs.add(this.#current.key);
    return { key, author: author.bytes, logId, lastSeq: seqNum, announced };
  }

  #onForkEvidence(headers: [Uint8Array, Uint8Array]): void {
    const [a, b] = headers.map((h) => decodeOperationUnverified(h, undefined, this.config.limits));
    const same =
      a.header.publicKey.equals(b.header.publicKey) && bytesEqual(logIdOf(a.header), logIdOf(b.header)) && a.header.seqNum === b.header.seqNum && !a.hash.equals(b.hash);
    if (!same) throw new WalkawayError('MALFORMED', 'fork evidence must be two different headers of one log at one seqNum');
    this.#ingest(a, 'evidence');
    this.#ingest(b, 'evidence');
  }

  #onLive(header: Uint8Array, body: Uint8Array | undefined): void {
    const operation = decodeOperationUnverified(header, body, this.config.limits);
    this.#stats.received.live++;
    this.#stats.received.bytes += header.length + (body?.length ?? 0);
    this.#ingest(operation, 'live');
  }

  #onClose(code: string | undefined, reason: string | undefined): void {
    if (code === undefined && this.#synced) return this.#finish();
    const error = new WalkawayError('CLOSED', `peer closed the session${code ? ` (${code}: ${reason})` : ' before sync finished'}`, {
      remoteCode: code,
      remoteReason: reason,
    });
    this.#fail(error, false);
  }

  #onEnd(): void {
    // After the peer's Done only our own ingest may be outstanding; let it finish.
    if (this.#recvPhase === 'done' && this.#sendPhase === 'done' && !this.#synced) return;
    if (this.#synced) return this.#finish();
    this.#fail(new WalkawayError('CLOSED', 'the peer ended the stream before the session finished'), false);
  }

  #ingest(operation: Operation, kind: IngestKind): void {
    this.#pendingIngest++;
    this.#out.push({ type: 'ingest', request: { operation, topic: this.#topic!, kind } });
  }

  #onIngested(results: IngestResult[]): void {
    const stats = this.#stats;
    for (const { request, outcome } of results) {
      this.#pendingIngest--;
      if (outcome.status === 'inserted') {
        if (request.kind === 'evidence') continue;
        stats.stored++;
        this.#emit({ type: 'operation', operation: outcome.operation, live: request.kind === 'live' });
      } else if (outcome.status !== 'rejected') {
        if (request.kind !== 'evidence') stats.duplicates++;
      } else if (outcome.error.code === 'FORK') {
        stats.forks++;
        const { header } = request.operation;
        const seqNum = typeof outcome.error.data.seqNum === 'number' ? outcome.error.data.seqNum : header.seqNum;
        this.#emit({ type: 'fork', author: header.publicKey, logId: logIdOf(header), seqNum });
      } else if (this.#isFatal(request.kind, outcome.error)) {
        stats.rejected++;
        this.#fail(outcome.error);
      } else {
        stats.rejected++;
        this.#emit({ type: 'rejected', error: outcome.error });
      }
    }
    this.#emitProgress();
    if (!this.#closed) this.#checkFinished();
  }

  #isFatal(kind: IngestKind, error: WalkawayError): boolean {
    if (kind === 'sync') return error.code !== 'UNSUPPORTED_EXTENSION';
    return FATAL_LIVE_CODES.has(error.code);
  }

  // --- sending --------------------------------------------------------------

  #onHeights(heights: LogHeight[], forks: ForkEvidence[]): void {
    if (this.#local) return;
    this.#local = new Map();
    this.#forks = forks;
    const entries: HaveEntry[] = [];
    for (const h of heights) {
      this.#local.set(logKey(h.author.bytes, h.logId), h.seqNum);
      entries.push({ author: h.author.bytes, logId: h.logId, seqNum: h.seqNum });
    }
    const chunk = Math.min(MAX_HAVE_ENTRIES, Math.max(1, this.config.haveChunk));
    for (let i = 0; i === 0 || i < entries.length; i += chunk) {
      this.#send({ type: 'have', logs: entries.slice(i, i + chunk), last: i + chunk >= entries.length });
    }
    this.#localHeights = heights;
    this.#computeWants();
  }

  #computeWants(): void {
    if (!this.#local || !this.#remoteHaveDone || this.#sendPhase !== 'idle') return;
    for (const h of this.#localHeights) {
      const remote = this.#remote.get(logKey(h.author.bytes, h.logId)) ?? -1;
      if (h.seqNum > remote) this.#wants.push({ author: h.author, logId: h.logId, afterSeq: remote, toSeq: h.seqNum });
    }
    this.#localHeights = [];
    this.#sendPhase = 'measuring';
    if (this.#wants.length === 0) return this.#onMeasured(0, 0);
    this.#out.push({ type: 'measure', wants: this.#wants });
  }

  #onMeasured(operations: number, bytes: number): void {
    if (this.#sendPhase !== 'measuring') return;
    this.#sendPhase = 'streaming';
    this.#toSend = operations;
    this.#send({ type: 'presync', operations, bytes });
    this.#emit({ type: 'presync', direction: 'send', operations, bytes });
    this.#cursor = this.#wants[0]?.afterSeq ?? -1;
    this.#nextPage();
  }

  #nextPage(): void {
    if (this.#sendPhase !== 'streaming') return;
    const want = this.#wants[this.#wantIndex];
    if (!want) return this.#finishSending();
    const limit = Math.min(this.#pageLimit, this.config.pageSize, want.toSeq - this.#cursor);
    this.#out.push({ type: 'read-log', author: want.author, logId: want.logId, afterSeq: this.#cursor, limit });
  }

  #onPage(operations: Operation[]): void {
    const want = this.#wants[this.#wantIndex];
    if (this.#sendPhase !== 'streaming' || !want) return;
    for (const op of operations) {
      const seq = op.header.seqNum;
      if (seq <= this.#cursor || seq > want.toSeq) continue;
      const next = this.config.compact ? compactOf(this.#lastSent, op) : undefined;
      this.#send(next ? { type: 'next', ...next } : { type: 'operation', header: op.headerBytes, body: op.body });
      this.#lastSent = op;
      this.#stats.sent.operations++;
      this.#stats.sent.bytes += op.headerBytes.length + (op.body?.length ?? 0);
      this.#cursor = seq;
    }
    const requested = Math.min(this.#pageLimit, this.config.pageSize, want.toSeq - this.#cursor);
    this.#pageLimit = Math.min(this.#pageLimit * 2, this.config.pageSize);
    if (operations.length === 0 || operations.length < requested || this.#cursor >= want.toSeq) {
      this.#wantIndex++;
      this.#cursor = this.#wants[this.#wantIndex]?.afterSeq ?? -1;
    }
    this.#emitProgress();
    this.#awaitingDrain = true;
  }

  #finishSending(): void {
    for (const fork of this.#forks) this.#send({ type: 'fork', headers: fork.headers });
    this.#send({ type: 'done' });
    this.#sendPhase = 'done';
    const queued = this.#liveQueue;
    this.#liveQueue = [];
    for (const op of queued) this.#sendLive(op);
    this.#checkFinished();
  }

  #onPublish(operation: Operation): void {
    // Before the handshake we do not know yet whether live mode is on: queue.
    const negotiated = this.#recvPhase !== 'hello';
    if (negotiated && !this.#live) return;
    if (this.#sendPhase !== 'done') this.#liveQueue.push(operation);
    else this.#sendLive(operation);
  }

  #sendLive(operation: Operation): void {
    if (!this.#live) return;
    this.#send({ type: 'live', header: operation.headerBytes, body: operation.body });
    this.#stats.sent.live++;
  }

  // --- endings ----------------------------------------------------------------

  #checkFinished(): void {
    if (this.#synced || this.#sendPhase !== 'done' || this.#recvPhase !== 'done' || this.#pendingIngest > 0) return;
    this.#synced = true;
    this.#emit({ type: 'synced', stats: this.stats });
    if (!this.#live) this.#finish();
  }

  #finish(): void {
    this.#closed = true;
    this.#out.push({ type: 'close' });
  }

  #fail(error: WalkawayError, tell = true): void {
    if (this.#closed) return;
    this.#closed = true;
    if (tell) this.#send({ type: 'close', code: error.code, reason: error.message });
    this.#emit({ type: 'error', error });
    this.#out.push({ type: 'close', error });
  }

  #send(message: SyncMessage): void {
    this.#out.push({ type: 'send', message });
  }

  #emit(event: SyncEvent): void {
    this.#out.push({ type: 'emit', event });
  }

  #emitProgress(): void {
    const s = this.#stats;
    this.#emit({
      type: 'progress',
      progress: { expected: s.expected.operations, received: s.received.operations, stored: s.stored, toSend: this.#toSend, sent: s.sent.operations },
    });
  }
}

/** Operations in the first page a session sends. */
const FIRST_PAGE = 16;

function unexpected(type: string, phase: RecvPhase): WalkawayError {
  return new WalkawayError('PROTOCOL', `unexpected ${type} message while waiting for ${phase}`, { message: type, phase });
}

function outOfOrder(op: Operation, expected: number): WalkawayError {
  return new WalkawayError('SEQ_GAP', `operation at seqNum ${op.header.seqNum} out of order, expected ${expected}`, {
    hash: op.hash.toHex(),
    seqNum: op.header.seqNum,
    expected,
  });
}

function beyondAnnounced(op: Operation, announced: number): WalkawayError {
  return new WalkawayError('PROTOCOL', `operation at seqNum ${op.header.seqNum} beyond the announced height ${announced}`, {
    hash: op.hash.toHex(),
    seqNum: op.header.seqNum,
    announced,
  });
}

export function asWalkawayError(err: unknown): WalkawayError {
  if (err instanceof WalkawayError) return err;
  return new WalkawayError('MALFORMED', `unexpected failure on peer input: ${(err as Error)?.message ?? String(err)}`);
}
