/** Small pieces of session state, kept apart so session.ts stays readable. */
import { toHex, type ErrorCode } from '../core/index.ts';
import type { SyncStats } from './types.ts';

/** The log the peer is streaming right now (logs come one after the other). */
export interface ReceivingLog {
  key: string;
  author: Uint8Array;
  logId: Uint8Array;
  lastSeq: number;
  announced: number;
}

/**
 * In live mode and for fork evidence, a log gap or a fork is a matter of
 * timing or of the author, not of the peer; a bad signature or bad bytes is
 * the peer's doing and ends the session.
 */
export const FATAL_LIVE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['MALFORMED', 'INVALID_SIGNATURE', 'PAYLOAD_MISMATCH', 'TOO_LARGE', 'UNSUPPORTED_VERSION']);

export function logKey(author: Uint8Array, logId: Uint8Array): string {
  return toHex(author) + toHex(logId);
}

export function emptyStats(): SyncStats {
  return {
    live: false,
    sent: { operations: 0, bytes: 0, live: 0 },
    received: { operations: 0, bytes: 0, live: 0 },
    stored: 0,
    duplicates: 0,
    rejected: 0,
    forks: 0,
    expected: { operations: 0, bytes: 0 },
  };
}
