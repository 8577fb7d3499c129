/** Valid material for seeds: operations of every header shape, signed with seeded keys. */
import { createOperation, Hash, logIdForTopic, PrivateKey, topicId, type Operation } from '../../src/core/index.ts';
import type { Rng } from '../prng.ts';

export const TOPIC = topicId('walkaway-fuzz');

export function seededKey(rng: Rng): PrivateKey {
  return PrivateKey.fromBytes(rng.bytes(32));
}

/** One log per key with every shape: bodies or none, backlinks, basic and causal extensions, odd timestamps. */
export function seededOperations(rng: Rng, count = 24): Operation[] {
  const ops: Operation[] = [];
  const keys = [seededKey(rng), seededKey(rng), seededKey(rng)];
  const logId = logIdForTopic(TOPIC);
  for (const key of keys) {
    let previous: Operation | undefined;
    for (let seq = 0; seq < count / keys.length; seq++) {
      const shape = rng.below(4);
      const body = rng.oneIn(3) ? undefined : rng.bytes(rng.oneIn(8) ? 200 + rng.below(2000) : 1 + rng.below(64));
      const timestamp = rng.pick([0, 23, 24, 255, 65536, 1_700_000_000_000_000, 2 ** 53 - 1, rng.u32()]);
      const prevHashes = Array.from({ length: rng.below(5) }, () => Hash.digest(rng.bytes(8)));
      const op: Operation = createOperation({
        privateKey: key,
        body,
        seqNum: seq,
        backlink: previous?.hash,
        extensions:
          shape === 0
            ? undefined
            : shape === 1 || shape === 2
              ? { variant: 'basic', logId, timestamp, pruneFlag: shape === 2 }
              : { variant: 'causal', logId, timestamp, previous: prevHashes },
      });
      ops.push(op);
      previous = op;
    }
  }
  return ops;
}
