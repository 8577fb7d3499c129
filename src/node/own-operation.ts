/**
 * This node's next operation in a topic's log: the next seqNum, a backlink
 * to its latest entry, and the topic's heads as `previous` (or the prune
 * flag, which a basic header carries instead).
 */
import { createOperation, WalkawayError, type Hash, type Operation, type PrivateKey } from '../core/index.ts';
import type { IngestOutcome } from '../store/index.ts';
import type { TopicState } from './topic-state.ts';

/** The latest entry of this node's log: stored, or signed and on its way into the store (group commit). */
export interface OwnTip {
  header: { seqNum: number };
  hash: Hash;
}

/** `logId`: another log of the topic than its own (a private topic's auth log). */
export function signNext(
  latest: OwnTip | undefined,
  key: PrivateKey,
  state: TopicState,
  body: Uint8Array,
  prune: boolean,
  timestamp: number,
  logId: Uint8Array,
): Operation {
  return createOperation({
    privateKey: key,
    body,
    seqNum: latest ? latest.header.seqNum + 1 : 0,
    backlink: latest?.hash,
    extensions: prune ? { variant: 'basic', logId, timestamp, pruneFlag: true } : { variant: 'causal', logId, timestamp, previous: state.heads() },
  });
}

/** Why the store did not take this node's own operation. */
export function ownRejection(outcome: Exclude<IngestOutcome, { status: 'inserted' }>): WalkawayError {
  return outcome.status === 'rejected' ? outcome.error : new WalkawayError('PROTOCOL', `own operation was ${outcome.status}`);
}
