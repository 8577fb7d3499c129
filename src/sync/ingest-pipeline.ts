/**
 * The receiving half of the driver: collects decoded operations into batches,
 * checks their signatures (on worker threads through a `Verifier`, several
 * batches at once), and ingests the batches into the store in arrival order,
 * one transaction each. Nothing after the first bad signature is stored;
 * everything before it is.
 */
import { unsignedBytesOf, VerifyPool, WalkawayError, type Operation } from '../core/index.ts';
import type { IngestOutcome, Store } from '../store/index.ts';
import type { IngestRequest, IngestResult, VerifyMode } from './types.ts';

/** Anything that checks signatures in bulk: `VerifyPool`, or `inlineVerifier`. */
export interface Verifier {
  verify(operations: Operation[]): Promise<boolean[]>;
}

/** Verification on the calling thread (no workers): small sessions, browsers. */
export const inlineVerifier: Verifier = {
  async verify(operations) {
    return operations.map((op) => op.header.publicKey.verify(unsignedBytesOf(op.headerBytes), op.header.signature));
  },
};

let shared: Promise<VerifyPool> | undefined;

/** One worker pool per process, shared by every session that is not given one. */
export function sharedVerifyPool(): Promise<VerifyPool> {
  shared ??= VerifyPool.create();
  return shared;
}

export interface IngestPipelineOptions {
  store: Store;
  verifier: Verifier | Promise<Verifier>;
  batchSize: number;
  mode: VerifyMode;
  onResults: (results: IngestResult[]) => void;
  /** Called when the number of batches in flight changes (for backpressure). */
  onBacklog: (batchesInFlight: number) => void;
  /** Runs a function after the current work (default `setImmediate`; the simulator's clock in a simulation). */
  defer?: (fn: () => void) => void;
}

export class IngestPipeline {
  readonly #o: IngestPipelineOptions;
  #pending: IngestRequest[] = [];
  #inFlight = 0;
  #chain: Promise<void> = Promise.resolve();
  #failed = false;
  #flushScheduled = false;
  #idleWaiters: (() => void)[] = [];

  constructor(options: IngestPipelineOptions) {
    this.#o = options;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  push(request: IngestRequest): void {
    if (this.#failed) return;
    this.#pending.push(request);
    if (this.#pending.length >= this.#o.batchSize) this.#launch();
    else if (this.#inFlight === 0 && !this.#flushScheduled) {
      // Idle: do not wait for a full batch, only for the current chunk to be parsed.
      this.#flushScheduled = true;
      (this.#o.defer ?? setImmediate)(() => {
        this.#flushScheduled = false;
        if (this.#inFlight === 0) this.#launch();
      });
    }
  }

  /** Resolves once everything pushed so far is ingested (or dropped after a failure). */
  idle(): Promise<void> {
    this.#launch();
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #launch(): void {
    if (this.#pending.length === 0) return;
    const batch = this.#pending;
    this.#pending = [];
    this.#inFlight++;
    this.#o.onBacklog(this.#inFlight);
    const verdicts = this.#verify(batch);
    this.#chain = this.#chain.then(async () => {
      let results: IngestResult[];
      try {
        results = this.#ingest(batch, await verdicts);
      } catch (err) {
        const error = err instanceof WalkawayError ? err : new WalkawayError('CLOSED', `ingest failed: ${(err as Error).message}`);
        results = [{ request: batch[0], outcome: { status: 'rejected', hash: batch[0].operation.hash, error } }];
        this.#failed = true;
      }
      this.#inFlight--;
      if (results.length > 0) this.#o.onResults(results);
      this.#o.onBacklog(this.#inFlight);
      if (this.#inFlight === 0 && this.#pending.length > 0) this.#launch();
      if (this.#inFlight === 0) for (const wake of this.#idleWaiters.splice(0)) wake();
    });
  }

  #ingest(batch: IngestRequest[], verdicts: boolean[]): IngestResult[] {
    if (this.#failed) return [];
    const bad = verdicts.indexOf(false);
    const good = bad === -1 ? batch : batch.slice(0, bad);
    const outcomes = this.#o.store.ingestBatch(good.map((r) => ({ operation: r.operation, topic: r.topic })));
    const results: IngestResult[] = good.map((request, i) => ({ request, outcome: outcomes[i] }));
    if (bad !== -1) {
      this.#failed = true;
      const { operation } = batch[bad];
      const error = new WalkawayError('INVALID_SIGNATURE', `signature of ${operation.hash.toHex()} does not verify`, {
        hash: operation.hash.toHex(),
        author: operation.header.publicKey.toHex(),
        seqNum: operation.header.seqNum,
      });
      results.push({ request: batch[bad], outcome: { status: 'rejected', hash: operation.hash, error } satisfies IngestOutcome });
    }
    return results;
  }

  async #verify(batch: IngestRequest[]): Promise<boolean[]> {
    const verifier = await this.#o.verifier;
    if (this.#o.mode === 'all') return verifier.verify(batch.map((r) => r.operation));
    return verifyTips(verifier, batch);
  }
}

/**
 * `tips` mode (src/sync/VERIFY.md): within a batch, a run is a maximal
 * sequence of bulk-sync operations of one log where each one's backlink is
 * the hash of the one before. Only the last of each run is verified; if it
 * fails, every operation of the run is verified on its own, so a failure is
 * reported exactly where `all` mode would report it.
 */
export async function verifyTips(verifier: Verifier, batch: IngestRequest[]): Promise<boolean[]> {
  const runEnd = new Int32Array(batch.length);
  const tips: number[] = [];
  for (let i = batch.length - 1; i >= 0; i--) {
    const continues = i + 1 < batch.length && chained(batch[i], batch[i + 1]);
    runEnd[i] = continues ? runEnd[i + 1] : i;
    if (!continues) tips.push(i);
  }
  tips.reverse();
  const tipOk = await verifier.verify(tips.map((i) => batch[i].operation));
  const okByTip = new Map<number, boolean>(tips.map((t, k) => [t, tipOk[k]]));
  const failedRuns = tips.filter((t) => !okByTip.get(t));
  const individual = new Map<number, boolean>();
  for (const tip of failedRuns) {
    let start = tip;
    while (start > 0 && runEnd[start - 1] === tip) start--;
    const idx = Array.from({ length: tip - start + 1 }, (_, k) => start + k);
    const ok = await verifier.verify(idx.map((i) => batch[i].operation));
    idx.forEach((i, k) => individual.set(i, ok[k]));
  }
  return batch.map((_, i) => individual.get(i) ?? okByTip.get(runEnd[i])!);
}

function chained(a: IngestRequest, b: IngestRequest): boolean {
  if (a.kind !== 'sync' || b.kind !== 'sync') return false;
  const ha = a.operation.header;
  const hb = b.operation.header;
  return (
    hb.seqNum === ha.seqNum + 1 &&
    hb.backlink !== undefined &&
    hb.backlink.equals(a.operation.hash) &&
    hb.publicKey.equals(ha.publicKey)
  );
}
