/**
 * The ingest rules, shared by every store. They never depend on arrival
 * order: whatever order a peer sees the operations of a log in, it ends in
 * the same state.
 *
 * Forks: two different operations of one log at one seqNum. The fork point is
 * the lowest such seqNum seen; entries from it on are deleted and nothing of
 * that log at or beyond it is accepted again; the two lowest-hash headers at
 * the fork point are kept as evidence. Every peer that has seen both branches
 * therefore holds the same entries and the same evidence.
 */
import { bytesEqual, compareBytes, Hash, logIdOf, pruneFlagOf, WalkawayError, type Operation } from '../core/index.ts';
import { logAddressOf, type IngestBackend, type LogAddress, type LogTip } from './backend.ts';
import type { IngestOutcome } from './types.ts';

export function ingestOperation(backend: IngestBackend, op: Operation, topic?: Uint8Array): IngestOutcome {
  const { header } = op;
  const log = logAddressOf(header);
  if (header.extensions?.variant === 'unknown') {
    return reject(op, 'UNSUPPORTED_EXTENSION', `extensions version ${header.extensions.version} variant ${header.extensions.variantId}`);
  }
  const fork = backend.getFork(log);
  if (fork && header.seqNum >= fork.seqNum) {
    // Entries from the fork point on were deleted: this cannot be a duplicate.
    if (header.seqNum === fork.seqNum) addEvidence(backend, log, op, fork.seqNum, fork.headers);
    return forkRejection(op, fork.seqNum);
  }
  const tip = backend.tip(log);
  // Above the tip nothing can be stored yet, so the common case (appending)
  // needs no duplicate or fork lookup.
  if (tip && header.seqNum <= tip.seqNum) {
    if (backend.hasHash(op.hash.bytes)) {
      if (topic) backend.link(topic, log);
      return { status: 'duplicate', hash: op.hash };
    }
    const existing = backend.headerAt(log, header.seqNum);
    if (!existing) return { status: 'outdated', hash: op.hash };
    backend.deleteFrom(log, header.seqNum);
    addEvidence(backend, log, op, header.seqNum, [existing]);
    return forkRejection(op, header.seqNum);
  }
  const error = checkAgainstTip(op, tip);
  if (error) return { status: 'rejected', hash: op.hash, error };
  const stored = backend.insert(log, op);
  if (topic) backend.link(topic, log);
  return { status: 'inserted', operation: stored };
}

function checkAgainstTip(op: Operation, tip: LogTip | undefined): WalkawayError | undefined {
  const { seqNum, backlink } = op.header;
  if (pruneFlagOf(op.header) && (!tip || seqNum > tip.seqNum + 1)) return undefined;
  const expected = tip ? tip.seqNum + 1 : 0;
  if (seqNum !== expected) {
    return new WalkawayError('SEQ_GAP', `seqNum ${seqNum}, expected ${expected}`, { hash: op.hash.toHex(), seqNum, expected });
  }
  if (tip && !(backlink && bytesEqual(backlink.bytes, tip.hash))) {
    return new WalkawayError('BACKLINK_MISMATCH', `backlink is not the hash of seqNum ${tip.seqNum}`, {
      hash: op.hash.toHex(),
      seqNum,
    });
  }
  return undefined;
}

function addEvidence(backend: IngestBackend, log: LogAddress, op: Operation, seqNum: number, known: Uint8Array[]): void {
  const all = [...known, op.headerBytes];
  const unique = all.filter((h, i) => all.findIndex((x) => bytesEqual(x, h)) === i);
  // Keep the two lowest hashes: a deterministic choice whatever else was seen.
  const ranked = unique
    .map((bytes) => ({ bytes, hash: hashOf(bytes, op) }))
    .sort((a, b) => compareBytes(a.hash, b.hash))
    .slice(0, 2)
    .map((x) => x.bytes);
  const previous = backend.getFork(log);
  if (previous && previous.seqNum < seqNum) return;
  if (previous && previous.seqNum === seqNum && sameList(previous.headers, ranked)) return;
  backend.setFork(log, { seqNum, headers: ranked });
}

function hashOf(headerBytes: Uint8Array, op: Operation): Uint8Array {
  return bytesEqual(headerBytes, op.headerBytes) ? op.hash.bytes : digest(headerBytes);
}

function sameList(a: Uint8Array[], b: Uint8Array[]): boolean {
  return a.length === b.length && a.every((x, i) => bytesEqual(x, b[i]));
}

function forkRejection(op: Operation, forkSeq: number): IngestOutcome {
  return {
    status: 'rejected',
    hash: op.hash,
    error: new WalkawayError('FORK', `author forked the log at seqNum ${forkSeq}`, {
      author: op.header.publicKey.toHex(),
      logId: logIdOf(op.header),
      seqNum: forkSeq,
      hash: op.hash.toHex(),
    }),
  };
}

function reject(op: Operation, code: 'UNSUPPORTED_EXTENSION', message: string): IngestOutcome {
  return { status: 'rejected', hash: op.hash, error: new WalkawayError(code, message, { hash: op.hash.toHex() }) };
}

function digest(bytes: Uint8Array): Uint8Array {
  return Hash.digest(bytes).bytes;
}
