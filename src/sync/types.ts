/**
 * The shapes of a sync session: configuration, the machine's inputs and
 * outputs, the events a caller sees, and the statistics it gets back.
 */
import { DEFAULT_LIMITS, type Limits, type Operation, type PublicKey, type WalkawayError } from '../core/index.ts';
import type { ForkEvidence, IngestOutcome, LogHeight } from '../store/index.ts';
import { maxMessageBytes } from './messages.ts';

export type SyncRole = 'initiator' | 'acceptor';

/**
 * How received signatures are checked in bulk sync. `all`: every one.
 * `tips`: the last operation of each unbroken backlink chain of one log in an
 * ingest batch, the others through the chain (see src/sync/VERIFY.md).
 */
export type VerifyMode = 'all' | 'tips';

export interface SyncConfig {
  /** Largest frame accepted or sent (bytes of CBOR, without the length prefix). */
  maxFrameBytes: number;
  /** Header and body limits applied to every received operation. */
  limits: Limits;
  /** Operations read from the store per page (bounded memory on the sending side). */
  pageSize: number;
  /** Log heights per `Have` message. */
  haveChunk: number;
  /** Most logs a remote `Have` may announce in total. */
  maxLogs: number;
  /** Operations per verification + ingest batch (one store transaction). */
  batchSize: number;
  /** Batches being verified at once; beyond this the driver stops reading. */
  maxBatchesInFlight: number;
  /**
   * Received operations handed to ingest and not yet answered (verified and
   * stored or rejected): at this many, or at `maxBytesInFlight` bytes of
   * them, the driver stops decoding frames and reading the stream. This
   * bounds what one session holds decoded in memory, whatever the peer sends.
   */
  maxOpsInFlight: number;
  maxBytesInFlight: number;
  /** No progress in either direction for this long ends the session with TIMEOUT. */
  stallTimeoutMs: number;
  /** In live mode, send a ping after this long without sending anything. */
  keepaliveMs: number;
  /** After an error, how long the stream may take to flush its last frames. */
  closeGraceMs: number;
  verify: VerifyMode;
  /** Send operations that follow their predecessor as `Next` (op-delta.ts); off sends every one whole. */
  compact: boolean;
}

export const DEFAULT_SYNC_CONFIG: SyncConfig = {
  // What an honest message needs (~1 MiB + 8 KiB; was 2 MiB).
  maxFrameBytes: maxMessageBytes(DEFAULT_LIMITS),
  limits: DEFAULT_LIMITS,
  pageSize: 256,
  haveChunk: 4096,
  maxLogs: 1_000_000,
  batchSize: 1000,
  maxBatchesInFlight: 3,
  maxOpsInFlight: 4000,
  maxBytesInFlight: 4 * 1024 * 1024,
  stallTimeoutMs: 30_000,
  keepaliveMs: 10_000,
  closeGraceMs: 1_000,
  verify: 'all',
  compact: true,
};

/** A log the remote lacks (some of): send entries with afterSeq < seqNum <= toSeq. */
export interface LogWant {
  author: PublicKey;
  logId: Uint8Array;
  afterSeq: number;
  toSeq: number;
}

/** Why an operation is handed to ingest: bulk sync, live mode, or fork evidence. */
export type IngestKind = 'sync' | 'live' | 'evidence';

export interface IngestRequest {
  operation: Operation;
  topic: Uint8Array;
  kind: IngestKind;
}

/** The outcome of one ingest request; verification failures come back as `rejected`. */
export interface IngestResult {
  request: IngestRequest;
  outcome: IngestOutcome;
}

/**
 * Where a session hands the operations it received, in order: something that
 * checks their signatures (in batches, `VerifyMode`) and stores them through
 * the store's ingest rules. The node's inbound path (src/node/inbound) is the
 * one implementation; the session itself stores nothing.
 */
export interface SyncIngest {
  open(options: {
    mode: VerifyMode;
    batchSize: number;
    /** Outcomes in push order; after a bad signature, nothing later is stored or reported. */
    onResults(results: IngestResult[]): void;
    /** Batches being verified or stored (for backpressure). */
    onBacklog(batches: number): void;
  }): SyncIngestSession;
}

export interface SyncIngestSession {
  push(request: IngestRequest): void;
  /** Resolves once everything pushed so far is stored (or dropped after a failure). */
  idle(): Promise<void>;
  close(): void;
}

export type SyncInput =
  | { type: 'start' }
  /** One whole frame from the peer (the driver strips the length prefix). */
  | { type: 'recv'; frame: Uint8Array }
  /** The local logs of the topic and the fork evidence that concerns them. */
  | { type: 'heights'; heights: LogHeight[]; forks: ForkEvidence[] }
  /** Totals of what will be sent (answer to `measure`). */
  | { type: 'measured'; operations: number; bytes: number }
  /** The entries of one `read-log` request, in seq order. */
  | { type: 'log-page'; operations: Operation[] }
  /** The transport accepted what was sent; more may be read and sent. */
  | { type: 'drain' }
  | { type: 'ingested'; results: IngestResult[] }
  /** Live mode: a new local operation to pass on. */
  | { type: 'publish'; operation: Operation }
  | { type: 'keepalive' }
  /** The local side closes the session. */
  | { type: 'close' }
  /** The peer ended or closed the stream (normal once it has sent `Done`). */
  | { type: 'end' }
  /** Something outside the machine failed: framing, transport, stall timer. */
  | { type: 'fail'; error: WalkawayError };

export type SyncOutput =
  | { type: 'send'; message: import('./messages.ts').SyncMessage }
  | { type: 'read-heights'; topic: Uint8Array }
  | { type: 'measure'; wants: LogWant[] }
  | { type: 'read-log'; author: PublicKey; logId: Uint8Array; afterSeq: number; limit: number }
  | { type: 'ingest'; request: IngestRequest }
  | { type: 'emit'; event: SyncEvent }
  /** The session is over: flush ingest, end the stream. `error` if it failed. */
  | { type: 'close'; error?: WalkawayError };

export type SyncEvent =
  | { type: 'handshake'; topic: Uint8Array; live: boolean }
  /** What one side will send: `direction: 'receive'` comes from the peer's PreSync. */
  | { type: 'presync'; direction: 'send' | 'receive'; operations: number; bytes: number }
  /** An operation stored by this session (not duplicates). */
  | { type: 'operation'; operation: Operation; live: boolean }
  /** After each ingest batch and each sent page. */
  | { type: 'progress'; progress: SyncProgress }
  | { type: 'fork'; author: PublicKey; logId: Uint8Array; seqNum: number }
  /** An operation that was not stored, without ending the session (fork, unknown extension, live gap). */
  | { type: 'rejected'; error: WalkawayError }
  /** Bulk sync finished in both directions (live mode continues after it). */
  | { type: 'synced'; stats: SyncStats }
  | { type: 'error'; error: WalkawayError };

export interface SyncProgress {
  /** Announced by the peer's PreSync. */
  expected: number;
  received: number;
  stored: number;
  /** Announced by our PreSync. */
  toSend: number;
  sent: number;
}

export interface SyncStats {
  topic?: Uint8Array;
  live: boolean;
  sent: { operations: number; bytes: number; live: number };
  received: { operations: number; bytes: number; live: number };
  stored: number;
  duplicates: number;
  rejected: number;
  forks: number;
  /** The peer's PreSync totals. */
  expected: { operations: number; bytes: number };
}
