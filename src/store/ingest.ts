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
import {
  bytesEqual,
  compareBytes,
  Hash,
  logIdOf,
  pruneFlagOf,
  WalkawayError,
  type Operation,
} from '../core/index.ts';
import type { IngestBackend, LogTip } from './backend.ts';
import type { IngestOutcome } from './types.ts';

export function ingestOperation(backend: IngestBackend, op: Operation, topic?: Uint8Array): IngestOutcome {
  const { header } = op;
  const author = header.publicKey;
  const logId = logIdOf(header);
  if (header.extensions?.variant === 'unknown') {
    return reject(op, 'UNSUPPORTED_EXTENSION', `extensions version ${header.extensions.version} variant ${header.extensions.variantId}`);
  }
  if (backend.hasHash(op.hash.bytes)) {
    if (topic) backend.associate(topic, author, logId);
    return { status: 'duplicate', hash: op.hash };
  }
  const fork = backend.getFork(author, logId);
  if (fork && header.seqNum >= fork.seqNum) {
    if (header.seqNum === fork.seqNum) addEvidence(backend, op, fork.seqNum, fork.headers);
    return forkRejection(op, fork.seqNum);
  }
  const existing = backend.headerAt(author, logId, header.seqNum);
  if (existing) {
    backend.deleteFrom(author, logId, header.seqNum);
    addEvidence(backend, op, header.seqNum, [existing]);
    return forkRejection(op, header.seqNum);
  }
  const tip = backend.tip(author, logId);
  if (tip && header.seqNum <= tip.seqNum) return { status: 'outdated', hash: op.hash };
  const error = checkAgainstTip(op, tip);
  if (error) return { status: 'rejected', hash: op.hash, error };
  const stored = backend.insert(op);
  if (topic) backend.associate(topic, author, logId);
  return { status: 'inserted', operation: stored };
}

function checkAgainstTip(op: Operation, tip: LogTip | undefined): WalkawayError | undefined {
  const { seqNum, backlink } = op.header;
  const hash = op.hash.toHex();
  if (pruneFlagOf(op.header) && (!tip || seqNum > tip.seqNum + 1)) return undefined;
  const expected = tip ? tip.seqNum + 1 : 0;
  if (seqNum !== expected) {
    return new WalkawayError('SEQ_GAP', `seqNum ${seqNum}, expected ${expected}`, { hash, seqNum, expected });
  }
  if (tip && !(backlink && bytesEqual(backlink.bytes, tip.hash))) {
    return new WalkawayError('BACKLINK_MISMATCH', `backlink is not the hash of seqNum ${tip.seqNum}`, { hash, seqNum });
  }
  return undefined;
}

function addEvidence(backend: IngestBackend, op: Operation, seqNum: number, known: Uint8Array[]): void {
  const { publicKey: author } = op.header;
  const logId = logIdOf(op.header);
  const all = [...known, op.headerBytes];
  const unique = all.filter((h, i) => all.findIndex((x) => bytesEqual(x, h)) === i);
  // Keep the two lowest hashes: a deterministic choice whatever else was seen.
  const ranked = unique
    .map((bytes) => ({ bytes, hash: hashOf(bytes, op) }))
    .sort((a, b) => compareBytes(a.hash, b.hash))
    .slice(0, 2)
    .map((x) => x.bytes);
  const previous = backend.getFork(author, logId);
  if (previous && previous.seqNum < seqNum) return;
  if (previous && previous.seqNum === seqNum && sameList(previous.headers, ranked)) return;
  backend.setFork(author, logId, { seqNum, headers: ranked });
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
