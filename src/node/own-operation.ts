/**
 * This node's next operation in a topic's log: the next seqNum, a backlink
 * to its latest entry, and the topic's heads as `previous` (or the prune
 * flag, which a basic header carries instead).
 */
import { createOperation, WalkawayError, type Operation, type PrivateKey } from '../core/index.ts';
import type { IngestOutcome, Store } from '../store/index.ts';
import type { TopicState } from './topic-state.ts';

/** `logId`: another log of the topic than its own (a private topic's auth log). */
export function signNext(store: Store, key: PrivateKey, state: TopicState, body: Uint8Array, prune: boolean, timestamp: number, logId = state.logId): Operation {
  const latest = store.latest(key.publicKey, logId);
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
