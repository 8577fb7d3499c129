/** Builders of signed operations and logs for tests. */
import { createOperation, PrivateKey, type Extensions, type Hash, type Operation } from '../../src/core/index.ts';

/** A deterministic key: seed bytes all equal to `n`. */
export function keyFor(n: number): PrivateKey {
  return PrivateKey.fromBytes(new Uint8Array(32).fill(n));
}

export function logIdFor(n: number): Uint8Array {
  return new Uint8Array(32).fill(n);
}

export interface LogOptions {
  logId?: Uint8Array;
  /** seqNums that carry the prune flag. */
  prune?: number[];
  body?: (seq: number) => Uint8Array | undefined;
  timestamp?: number;
}

export function basic(logId: Uint8Array, seq: number, options: LogOptions = {}): Extensions {
  return {
    variant: 'basic',
    logId,
    timestamp: (options.timestamp ?? 1_700_000_000_000_000) + seq,
    pruneFlag: options.prune?.includes(seq) ?? false,
  };
}

/** A valid log of `length` operations by `key`. */
export function makeLog(key: PrivateKey, length: number, options: LogOptions = {}): Operation[] {
  const logId = options.logId ?? logIdFor(1);
  const ops: Operation[] = [];
  let backlink: Hash | undefined;
  for (let seq = 0; seq < length; seq++) {
    const body = options.body ? options.body(seq) : new TextEncoder().encode(`entry ${seq}`);
    const op = createOperation({ privateKey: key, body, seqNum: seq, backlink, extensions: basic(logId, seq, options) });
    ops.push(op);
    backlink = op.hash;
  }
  return ops;
}

/** Continues a log from `previous` with one more operation. */
export function nextOp(key: PrivateKey, previous: Operation, body: Uint8Array, options: LogOptions = {}): Operation {
  const seq = previous.header.seqNum + 1;
  const logId = options.logId ?? logIdFor(1);
  return createOperation({ privateKey: key, body, seqNum: seq, backlink: previous.hash, extensions: basic(logId, seq, options) });
}
