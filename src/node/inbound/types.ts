/**
 * The shapes of the inbound machine (inbound.ts): what it is told, what it
 * asks for, its timers and its configuration.
 */
import type { Operation, PublicKey } from '../../core/index.ts';
import type { IngestItem, IngestOutcome, LogHeight, StoredOperation } from '../../store/index.ts';
import type { IngestRequest, IngestResult, VerifyMode } from '../../sync/index.ts';
import type { EphemeralMessage } from '../ephemeral.ts';

/** What carried an operation in. `local`: published by this node (signed here, not checked again). */
export type Via = 'gossip' | 'sync' | 'multicast' | 'local';

/** Two different headers of one log at one seqNum, as the store keeps them (store/ingest.ts). */
export interface ForkReport {
  topic: Uint8Array;
  author: PublicKey;
  logId: Uint8Array;
  seqNum: number;
  headers: [Uint8Array, Uint8Array];
  /** What carried the operation that revealed the fork to this node. */
  via: Via;
}

export type InboundTimer =
  /** The grace period of an operation that came ahead of its backlink, per peer and topic. */
  | { kind: 'gap'; peer: string; topic: string }
  /** Every topic syncs with one random neighbour now and then. */
  | { kind: 'anti-entropy' }
  /** A sync session's partial batch, once the current chunk is parsed. */
  | { kind: 'flush'; session: number };

export type InboundInput =
  | { type: 'start' }
  | { type: 'join'; topic: Uint8Array }
  | { type: 'leave'; topic: Uint8Array }
  | { type: 'neighbor-up'; topic: Uint8Array; peer: string }
  | { type: 'neighbor-down'; topic: Uint8Array; peer: string }
  /** The overlay asks before it caches or forwards a payload; answered by one `verdict`. */
  | { type: 'check'; payload: Uint8Array }
  /** A payload the overlay delivered (normally one it checked). */
  | { type: 'gossip'; topic: Uint8Array; from: string; payload: Uint8Array }
  /** One operation to store, answered by a `result` with the same ticket. */
  | { type: 'operation'; via: 'multicast' | 'local'; topic: Uint8Array; operation: Operation; ticket: number }
  /** A sync session hands over what it received, in order (answered by `sync-results`). */
  | { type: 'sync-open'; session: number; mode: VerifyMode; batchSize: number }
  | { type: 'sync-push'; session: number; request: IngestRequest }
  /** Verify and store what waits for a full batch now. */
  | { type: 'sync-flush'; session: number }
  | { type: 'sync-close'; session: number }
  /** A sync of the topic ended: early arrivals may fit now. */
  | { type: 'sync-ended'; topic: Uint8Array }
  /** Answers to the machine's own requests. */
  | { type: 'verified'; job: number; verdicts: boolean[] }
  | { type: 'ingested'; job: number; outcomes: IngestOutcome[] }
  /** The store failed (closed, disk full): the job's operations are not stored. */
  | { type: 'store-failed'; job: number; error: Error }
  | { type: 'fork-read'; job: number; headers: [Uint8Array, Uint8Array] | undefined; seqNum: number }
  | { type: 'timer'; timer: InboundTimer };

export type InboundOutput =
  | { type: 'verdict'; ok: boolean }
  /** Check these signatures (in bulk: a worker pool), answered by `verified`. */
  | { type: 'verify'; job: number; requests: IngestRequest[]; mode: VerifyMode }
  /**
   * Store reads and writes, answered by `ingested` / `fork-read`. `group`:
   * the driver may commit this one operation in one transaction with others
   * (group commit) and answers only after that commit. 'turn': this node's
   * own, with the others published in the same turn (a microtask);
   * 'burst': from gossip, with the others that came in the same burst, once
   * the work at hand is done (the gossip forwards went out before the disk
   * is waited on).
   */
  | { type: 'store-ingest'; job: number; items: IngestItem[]; group?: 'turn' | 'burst' }
  | { type: 'read-fork'; job: number; author: PublicKey; logId: Uint8Array }
  /** Stored: hand it to the topic's chain (sync's arrive in batches, closed by `batch-end`). */
  | { type: 'stored'; topic: Uint8Array; operation: StoredOperation; via: Via }
  | { type: 'batch-end'; topic: Uint8Array }
  | { type: 'ephemeral'; topic: Uint8Array; message: EphemeralMessage; bytes: Uint8Array }
  /** `peer` holds at least these heights (it sent us a verified operation). */
  | { type: 'holds'; topic: Uint8Array; peer: string; heights: LogHeight[] }
  | { type: 'fork'; fork: ForkReport }
  | { type: 'result'; ticket: number; result: IngestResult }
  | { type: 'sync-results'; session: number; results: IngestResult[] }
  /** Batches of the session being verified or stored: the driver stops reading at a limit. */
  | { type: 'sync-backlog'; session: number; batches: number }
  | { type: 'request-sync'; peer: string; topic: Uint8Array; reason: 'gap' | 'anti-entropy' }
  | { type: 'set-timer'; timer: InboundTimer; afterMs: number }
  | { type: 'log'; message: string };

export interface InboundConfig {
  /** How long an operation that came ahead of its backlink waits for gossip before a sync asks for the gap. */
  gapGraceMs: number;
  /** Gap-sync timers pending (per peer and topic): more than the neighbours of many topics only under attack. */
  maxGapSyncs: number;
  /** Gossip can lose the last operation of a log (nothing after it reveals the gap): sync this often. */
  antiEntropyMs: number;
  /** Forks remembered as reported (one event per fork point and process). */
  maxForksReported: number;
}

export const DEFAULT_INBOUND_CONFIG: InboundConfig = {
  gapGraceMs: 750,
  maxGapSyncs: 256,
  antiEntropyMs: 30_000,
  maxForksReported: 4096,
};
