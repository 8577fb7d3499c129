/**
 * The inbound machine: the one way in for every operation, whatever carried
 * it (gossip, sync, multicast, a local publish). It decodes and validates
 * once (signature here or through a bulk `verify`; hash, seq and backlink
 * by the store's ingest rules), asks the store to ingest, keeps gossip's
 * early arrivals until their backlink is stored (ahead-buffer.ts), asks for
 * a sync when a gap stays open, reports forks, and hands what was stored to
 * the topic's chain. Sans-IO: store reads and writes, signature batches and
 * timers are outputs the driver answers (store-driver.ts), so an
 * asynchronous store fits without another design; time and randomness are
 * passed in.
 */
import { logIdOf, toHex, WalkawayError, type Operation } from '../../core/index.ts';
import type { Random } from '../../net/membership/random.ts';
import type { IngestOutcome } from '../../store/index.ts';
import type { IngestRequest, IngestResult, VerifyMode } from '../../sync/index.ts';
import { AheadBuffer } from './ahead-buffer.ts';
import { checkPayload, type CheckedPayload } from './payload-check.ts';
import { signatureValid } from '../../core/index.ts';
import { DEFAULT_INBOUND_CONFIG, type InboundConfig, type InboundInput, type InboundOutput, type InboundTimer, type Via } from './types.ts';

interface TopicEntry {
  topic: Uint8Array;
  neighbours: Set<string>;
  /** Operations that came by gossip before their backlink. */
  ahead: AheadBuffer;
}

interface SyncBatch {
  requests: IngestRequest[];
  verdicts?: boolean[];
  /** The verifier itself failed (a worker pool that ended): nothing of the batch is stored. */
  failure?: Error;
  storing: boolean;
}

interface SyncSessionEntry {
  mode: VerifyMode;
  batchSize: number;
  pending: IngestRequest[];
  /** In arrival order: verified concurrently, stored one after another. */
  batches: SyncBatch[];
  failed: boolean;
  flushArmed: boolean;
}

/** A gap timer that fired: the first early arrival still missing its backlink asks `peer` for a sync. */
interface GapCheck {
  peer: string;
  asked: boolean;
}

type Job =
  | { kind: 'one'; via: Via; topic: TopicEntry | undefined; topicId: Uint8Array; op: Operation; from?: string; ticket?: number; drain?: boolean; gap?: GapCheck }
  | { kind: 'verify'; session: number; batch: SyncBatch }
  | { kind: 'batch'; session: number; batch: SyncBatch; good: IngestRequest[]; bad?: IngestRequest }
  | { kind: 'fork'; topicId: Uint8Array; via: Via; author: Operation['header']['publicKey']; logId: Uint8Array };

export class Inbound {
  readonly config: Readonly<InboundConfig>;
  readonly #rng: Random;
  readonly #topics = new Map<string, TopicEntry>();
  readonly #sessions = new Map<number, SyncSessionEntry>();
  readonly #jobs = new Map<number, Job>();
  /** Payloads the overlay checked, until delivered (weak: a dropped payload takes its entry along). */
  readonly #checked = new WeakMap<Uint8Array, CheckedPayload>();
  readonly #gapTimers = new Set<string>();
  /** Fork points reported (author, log, seqNum), oldest first. */
  readonly #forks = new Set<string>();
  /** Topic ids as hex, per id array: the same few arrays come with every operation. */
  readonly #hexOf = new WeakMap<Uint8Array, string>();
  #nextJob = 1;
  #now = 0;

  constructor(rng: Random, config: Partial<InboundConfig> = {}) {
    this.#rng = rng;
    this.config = { ...DEFAULT_INBOUND_CONFIG, ...config };
  }

  handle(input: InboundInput, now: number): InboundOutput[] {
    const out: InboundOutput[] = [];
    if (now > this.#now) this.#now = now;
    switch (input.type) {
      case 'start':
        out.push({ type: 'set-timer', timer: { kind: 'anti-entropy' }, afterMs: this.config.antiEntropyMs });
        break;
      case 'join':
        if (!this.#topics.has(toHex(input.topic))) this.#topics.set(toHex(input.topic), { topic: input.topic, neighbours: new Set(), ahead: new AheadBuffer() });
        break;
      case 'leave':
        this.#topics.delete(toHex(input.topic));
        break;
      case 'neighbor-up':
        this.#topic(input.topic)?.neighbours.add(input.peer);
        break;
      case 'neighbor-down':
        this.#topic(input.topic)?.neighbours.delete(input.peer);
        break;
      case 'check':
        out.push({ type: 'verdict', ok: this.#check(input.payload, out) });
        break;
      case 'gossip':
        this.#onGossip(input.topic, input.from, input.payload, out);
        break;
      case 'operation':
        this.#onOperation(input.via, input.topic, input.operation, input.ticket, out);
        break;
      case 'sync-open':
        this.#sessions.set(input.session, { mode: input.mode, batchSize: input.batchSize, pending: [], batches: [], failed: false, flushArmed: false });
        break;
      case 'sync-push':
        this.#onSyncPush(input.session, input.request, out);
        break;
      case 'sync-flush':
        this.#launch(input.session, out);
        break;
      case 'sync-close':
        this.#sessions.delete(input.session);
        break;
      case 'sync-ended': {
        const topic = this.#topic(input.topic);
        if (topic) this.#drain(topic, undefined, out);
        break;
      }
      case 'verified':
        this.#onVerified(input.job, input.verdicts, out);
        break;
      case 'ingested':
      case 'store-failed':
        this.#onStoreAnswer(input, out);
        break;
      case 'fork-read':
        this.#onForkRead(input.job, input.headers, input.seqNum, out);
        break;
      case 'timer':
        this.#onTimer(input.timer, out);
        break;
    }
    return out;
  }

  /** Whether a sync session still has operations waiting, being verified or being stored. */
  syncBusy(session: number): boolean {
    const s = this.#sessions.get(session);
    return !!s && (s.pending.length > 0 || s.batches.length > 0);
  }

  neighbours(topic: Uint8Array): ReadonlySet<string> {
    return this.#topic(topic)?.neighbours ?? new Set();
  }

  /** Sizes of what the network fills, for node.stats(). */
  sizes(topic: Uint8Array): { ahead: number; aheadBytes: number } {
    const entry = this.#topic(topic);
    return { ahead: entry?.ahead.count ?? 0, aheadBytes: entry?.ahead.bytes ?? 0 };
  }

  get gapSyncs(): number {
    return this.#gapTimers.size;
  }

  #topic(topic: Uint8Array): TopicEntry | undefined {
    return this.#topics.get(this.#hex(topic));
  }

  #hex(topic: Uint8Array): string {
    let hex = this.#hexOf.get(topic);
    if (hex === undefined) this.#hexOf.set(topic, (hex = toHex(topic)));
    return hex;
  }

  #job(job: Job): number {
    const id = this.#nextJob++;
    this.#jobs.set(id, job);
    return id;
  }

  // --- gossip, multicast, local ------------------------------------------

  #check(payload: Uint8Array, out: InboundOutput[]): boolean {
    try {
      this.#checked.set(payload, checkPayload(payload));
      return true;
    } catch (err) {
      out.push({ type: 'log', message: `invalid gossip payload: ${(err as Error).message}` });
      return false;
    }
  }

  #onGossip(topicId: Uint8Array, from: string, payload: Uint8Array, out: InboundOutput[]): void {
    const topic = this.#topic(topicId);
    if (!topic) return;
    let checked = this.#checked.get(payload);
    this.#checked.delete(payload);
    try {
      checked ??= checkPayload(payload);
    } catch (err) {
      out.push({ type: 'log', message: `bad gossip from ${from.slice(0, 8)}: ${(err as Error).message}` });
      return;
    }
    if (checked.kind === 'ephemeral') {
      out.push({ type: 'ephemeral', topic: topicId, message: checked.message, bytes: checked.bytes });
      return;
    }
    const op = checked.op;
    // Only now, verified and from a neighbour, does the sender count as holding it.
    if (topic.neighbours.has(from)) {
      out.push({ type: 'holds', topic: topicId, peer: from, heights: [{ author: op.header.publicKey, logId: logIdOf(op.header), seqNum: op.header.seqNum }] });
    }
    this.#ingestOne({ kind: 'one', via: 'gossip', topic, topicId, op, from }, out);
  }

  #onOperation(via: 'multicast' | 'local', topicId: Uint8Array, op: Operation, ticket: number, out: InboundOutput[]): void {
    // A local operation was signed here a moment ago.
    if (via !== 'local' && !signatureValid(op)) {
      const error = new WalkawayError('INVALID_SIGNATURE', `signature of ${op.hash.toHex()} does not verify`, { hash: op.hash.toHex() });
      out.push({ type: 'result', ticket, result: { request: { operation: op, topic: topicId, kind: 'live' }, outcome: { status: 'rejected', hash: op.hash, error } } });
      return;
    }
    this.#ingestOne({ kind: 'one', via, topic: this.#topic(topicId), topicId, op, ticket }, out);
  }

  #ingestOne(job: Job & { kind: 'one' }, out: InboundOutput[]): void {
    const items = [{ operation: job.op, topic: job.topicId }];
    const group = job.via === 'local' ? 'turn' : job.via === 'gossip' ? 'burst' : undefined;
    out.push(group ? { type: 'store-ingest', job: this.#job(job), items, group } : { type: 'store-ingest', job: this.#job(job), items });
  }

  #onOne(job: Job & { kind: 'one' }, outcome: IngestOutcome, out: InboundOutput[]): void {
    const { op, topic } = job;
    if (outcome.status === 'inserted') {
      out.push({ type: 'stored', topic: job.topicId, operation: outcome.operation, via: job.via });
      if (job.via === 'gossip') {
        out.push({ type: 'log', message: `ingested 1 operation from gossip, author ${op.header.publicKey.toHex().slice(0, 8)} seq ${op.header.seqNum}` });
      }
    }
    if (job.ticket !== undefined) out.push({ type: 'result', ticket: job.ticket, result: { request: { operation: op, topic: job.topicId, kind: 'live' }, outcome } });
    if (outcome.status !== 'rejected') {
      // Stored now (or before): whatever came early after it may follow.
      if (!topic || this.#topic(job.topicId) !== topic) return;
      topic.ahead.dropUpTo(op);
      const next = topic.ahead.takeNext(op);
      if (next) this.#ingestOne({ kind: 'one', via: 'gossip', topic, topicId: job.topicId, op: next }, out);
      return;
    }
    const code = outcome.error.code;
    if (code === 'FORK') return this.#readFork(job.topicId, op, job.via, out);
    if (code === 'SEQ_GAP' && topic && !job.drain && job.via === 'gossip') {
      // Gossip has no order: wait for the backlink; if it is still missing
      // in a moment (gossip may be carrying it), sync with the sender.
      topic.ahead.keep(op, this.#now);
      if (job.from) this.#scheduleGapSync(job.from, job.topicId, out);
      return;
    }
    if (code === 'SEQ_GAP' && job.gap && !job.gap.asked) {
      job.gap.asked = true;
      out.push({ type: 'request-sync', peer: job.gap.peer, topic: job.topicId, reason: 'gap' });
      return;
    }
    if (code !== 'SEQ_GAP') out.push({ type: 'log', message: `operation ${op.hash.toHex().slice(0, 8)} from ${job.via} rejected: ${outcome.error.message}` });
  }

  /** Tries the lowest early arrival of every log again (it stays if its backlink is still missing). */
  #drain(topic: TopicEntry, gap: GapCheck | undefined, out: InboundOutput[]): void {
    for (const op of topic.ahead.firstOfEachLog()) this.#ingestOne({ kind: 'one', via: 'gossip', topic, topicId: topic.topic, op, drain: true, gap }, out);
  }

  #scheduleGapSync(peer: string, topic: Uint8Array, out: InboundOutput[]): void {
    const key = `${peer}:${toHex(topic)}`;
    // Bounded: past the cap a gap waits for anti-entropy.
    if (this.#gapTimers.has(key) || this.#gapTimers.size >= this.config.maxGapSyncs) return;
    this.#gapTimers.add(key);
    out.push({ type: 'set-timer', timer: { kind: 'gap', peer, topic: toHex(topic) }, afterMs: this.config.gapGraceMs });
  }

  #onTimer(timer: InboundTimer, out: InboundOutput[]): void {
    switch (timer.kind) {
      case 'gap': {
        this.#gapTimers.delete(`${timer.peer}:${timer.topic}`);
        const topic = this.#topics.get(timer.topic);
        if (topic && topic.ahead.count > 0) this.#drain(topic, { peer: timer.peer, asked: false }, out);
        return;
      }
      case 'anti-entropy':
        for (const topic of this.#topics.values()) {
          const neighbours = [...topic.neighbours];
          if (neighbours.length > 0) out.push({ type: 'request-sync', peer: neighbours[this.#rng.int(neighbours.length)], topic: topic.topic, reason: 'anti-entropy' });
        }
        out.push({ type: 'set-timer', timer, afterMs: this.config.antiEntropyMs });
        return;
      case 'flush': {
        const s = this.#sessions.get(timer.session);
        if (!s) return;
        s.flushArmed = false;
        if (s.batches.length === 0) this.#launch(timer.session, out);
        return;
      }
    }
  }

  // --- forks ---------------------------------------------------------------

  #readFork(topicId: Uint8Array, op: Operation, via: Via, out: InboundOutput[]): void {
    const author = op.header.publicKey;
    const logId = logIdOf(op.header);
    out.push({ type: 'read-fork', job: this.#job({ kind: 'fork', topicId, via, author, logId }), author, logId });
  }

  #onForkRead(id: number, headers: [Uint8Array, Uint8Array] | undefined, seqNum: number, out: InboundOutput[]): void {
    const job = this.#jobs.get(id);
    this.#jobs.delete(id);
    if (job?.kind !== 'fork' || !headers) return;
    const key = `${job.author.toHex()}:${toHex(job.logId)}:${seqNum}`;
    if (this.#forks.has(key)) return;
    this.#forks.add(key);
    if (this.#forks.size > this.config.maxForksReported) this.#forks.delete(this.#forks.values().next().value!);
    out.push({ type: 'fork', fork: { topic: job.topicId, author: job.author, logId: job.logId, seqNum, headers, via: job.via } });
  }

  // --- sync ----------------------------------------------------------------

  #onSyncPush(session: number, request: IngestRequest, out: InboundOutput[]): void {
    const s = this.#sessions.get(session);
    if (!s || s.failed) return;
    s.pending.push(request);
    if (s.pending.length >= s.batchSize) this.#launch(session, out);
    else if (s.batches.length === 0 && !s.flushArmed) {
      // Idle: do not wait for a full batch, only for the current chunk to be parsed.
      s.flushArmed = true;
      out.push({ type: 'set-timer', timer: { kind: 'flush', session }, afterMs: 0 });
    }
  }

  #launch(session: number, out: InboundOutput[]): void {
    const s = this.#sessions.get(session);
    if (!s || s.pending.length === 0) return;
    const batch: SyncBatch = { requests: s.pending, storing: false };
    s.pending = [];
    s.batches.push(batch);
    out.push({ type: 'sync-backlog', session, batches: s.batches.length });
    out.push({ type: 'verify', job: this.#job({ kind: 'verify', session, batch }), requests: batch.requests, mode: s.mode });
  }

  #onVerified(id: number, verdicts: boolean[], out: InboundOutput[]): void {
    const job = this.#jobs.get(id);
    this.#jobs.delete(id);
    if (job?.kind !== 'verify') return;
    job.batch.verdicts = verdicts;
    this.#pump(job.session, out);
  }

  /** Stores the oldest verified batch, if no batch is being stored: batches go in in arrival order. */
  #pump(session: number, out: InboundOutput[]): void {
    const s = this.#sessions.get(session);
    if (!s) return;
    const head = s.batches[0];
    if (!head || !(head.verdicts || head.failure) || head.storing) return;
    head.storing = true;
    if (head.failure) return this.#onBatch({ kind: 'batch', session, batch: head, good: [] }, [], out, head.failure);
    const bad = s.failed ? 0 : head.verdicts!.indexOf(false);
    const good = bad === -1 ? head.requests : head.requests.slice(0, bad);
    const job: Job = { kind: 'batch', session, batch: head, good, bad: s.failed || bad === -1 ? undefined : head.requests[bad] };
    // Nothing after the first bad signature is stored; everything before it is.
    if (good.length === 0) return this.#onBatch(job, [], out);
    out.push({ type: 'store-ingest', job: this.#job(job), items: good.map((r) => ({ operation: r.operation, topic: r.topic })) });
  }

  #onBatch(job: Job & { kind: 'batch' }, outcomes: IngestOutcome[], out: InboundOutput[], failure?: Error): void {
    const s = this.#sessions.get(job.session);
    if (!s) return;
    let results: IngestResult[];
    if (failure) {
      const first = job.batch.requests[0];
      const error = failure instanceof WalkawayError ? failure : new WalkawayError('CLOSED', `ingest failed: ${failure.message}`);
      results = [{ request: first, outcome: { status: 'rejected', hash: first.operation.hash, error } }];
      s.failed = true;
    } else {
      results = s.failed && outcomes.length === 0 ? [] : job.good.map((request, i) => ({ request, outcome: outcomes[i] }));
      if (job.bad) {
        s.failed = true;
        const op = job.bad.operation;
        const error = new WalkawayError('INVALID_SIGNATURE', `signature of ${op.hash.toHex()} does not verify`, {
          hash: op.hash.toHex(),
          author: op.header.publicKey.toHex(),
          seqNum: op.header.seqNum,
        });
        results.push({ request: job.bad, outcome: { status: 'rejected', hash: op.hash, error } });
      }
    }
    const topics = new Map<string, Uint8Array>();
    for (const { request, outcome } of results) {
      if (outcome.status === 'inserted') {
        out.push({ type: 'stored', topic: request.topic, operation: outcome.operation, via: 'sync' });
        topics.set(this.#hex(request.topic), request.topic);
      } else if (outcome.status === 'rejected' && outcome.error.code === 'FORK') {
        this.#readFork(request.topic, request.operation, 'sync', out);
      }
    }
    for (const topic of topics.values()) out.push({ type: 'batch-end', topic });
    s.batches.shift();
    if (results.length > 0) out.push({ type: 'sync-results', session: job.session, results });
    out.push({ type: 'sync-backlog', session: job.session, batches: s.batches.length });
    if (s.batches.length === 0 && s.pending.length > 0 && !s.failed) this.#launch(job.session, out);
    this.#pump(job.session, out);
  }

  #onStoreAnswer(input: InboundInput & { type: 'ingested' | 'store-failed' }, out: InboundOutput[]): void {
    const job = this.#jobs.get(input.job);
    this.#jobs.delete(input.job);
    if (!job) return;
    if (job.kind === 'batch') return this.#onBatch(job, input.type === 'ingested' ? input.outcomes : [], out, input.type === 'store-failed' ? input.error : undefined);
    if (job.kind === 'verify' && input.type === 'store-failed') {
      job.batch.failure = input.error;
      return this.#pump(job.session, out);
    }
    if (job.kind !== 'one') return;
    const outcome: IngestOutcome =
      input.type === 'ingested'
        ? input.outcomes[0]
        : {
            status: 'rejected',
            hash: job.op.hash,
            error: input.error instanceof WalkawayError ? input.error : new WalkawayError('CLOSED', `ingest failed: ${input.error.message}`),
          };
    this.#onOne(job, outcome, out);
  }
}
